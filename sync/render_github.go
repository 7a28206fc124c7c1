package sync

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Annotation levels of GitHub Actions workflow commands.
const (
	AnnotationError   = "error"
	AnnotationWarning = "warning"
	AnnotationNotice  = "notice"
)

// Annotation is one GitHub Actions workflow command that annotates a file
// and line of the repository, or the run when File is "".
type Annotation struct {
	Level string
	// File is relative to the repository root; Line is 0 when unknown.
	File    string
	Line    int
	Title   string
	Message string
}

// String formats the annotation as a workflow command line without the
// newline: "::error file=F,line=L,title=T::message". Property values
// escape %, CR, LF, ':' and ',', and the message escapes %, CR and LF, as
// the GitHub Actions toolkit does, so no value can end the command early or
// start another one.
func (a Annotation) String() string {
	var properties []string
	if a.File != "" {
		properties = append(properties, "file="+escapeAnnotationProperty(a.File))
		if a.Line > 0 {
			properties = append(properties, "line="+strconv.Itoa(a.Line))
		}
	}
	if a.Title != "" {
		properties = append(properties, "title="+escapeAnnotationProperty(a.Title))
	}
	command := "::" + a.Level
	if len(properties) > 0 {
		command += " " + strings.Join(properties, ",")
	}
	return command + "::" + escapeAnnotationData(a.Message)
}

var annotationDataEscaper = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A")

var annotationPropertyEscaper = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C")

func escapeAnnotationData(s string) string {
	return annotationDataEscaper.Replace(s)
}

func escapeAnnotationProperty(s string) string {
	return annotationPropertyEscaper.Replace(s)
}

// githubRenderer writes workflow annotations for violations (at the label's
// compose file line when known), the delete limit, conflicts and warnings,
// then the plain text plan.
type githubRenderer struct {
	opts RenderOptions
}

// Render writes the annotations and the text plan. The text plan sits
// between stop-commands markers, so nothing in it, however a live rule is
// written, is read as a workflow command. The marker token is a digest of
// the text, which keeps the output deterministic.
func (r githubRenderer) Render(w io.Writer, p *Plan) error {
	decoded, err := decodedCopy(p)
	if err != nil {
		return err
	}
	var text bytes.Buffer
	if err := (textRenderer{}).Render(&text, decoded); err != nil {
		return err
	}

	var out strings.Builder
	for _, a := range PlanAnnotations(decoded, r.opts.AnnotationFile) {
		out.WriteString(a.String())
		out.WriteString("\n")
	}
	sum := sha256.Sum256(text.Bytes())
	token := "portcullis-plan-" + hex.EncodeToString(sum[:8])
	fmt.Fprintf(&out, "::stop-commands::%s\n", token)
	out.Write(text.Bytes())
	fmt.Fprintf(&out, "::%s::\n", token)

	if _, err := io.WriteString(w, out.String()); err != nil {
		return fmt.Errorf("write plan as GitHub annotations: %w", err)
	}
	return nil
}

// PlanAnnotations returns the annotations of a plan: an error per
// violation that is not neutralised, a warning per neutralised violation,
// an error for the exceeded delete limit, and a warning per conflict and
// per warning. file maps a compose file path of the plan to the path the
// annotation shows; nil keeps the path as it is.
func PlanAnnotations(p *Plan, file func(string) string) []Annotation {
	if file == nil {
		file = func(path string) string { return path }
	}
	var out []Annotation
	for _, v := range p.Violations {
		out = append(out, violationAnnotation(v, file))
	}
	if p.DeleteLimitExceeded {
		out = append(out, Annotation{Level: AnnotationError, Title: "portcullis: delete limit exceeded",
			Message: "the plan deletes more owned hostnames than --max-deletes allows, so apply writes nothing"})
	}
	for _, c := range p.Conflicts {
		out = append(out, Annotation{Level: AnnotationWarning, Title: "portcullis: conflict " + c.Hostname,
			Message: withService(routeAddress(c.Hostname, c.Path), c.Service) + ": " + c.Reason})
	}
	for _, w := range p.Warnings {
		subject := withService(w.Hostname, w.Service)
		message := w.Message
		if subject != "" {
			message = subject + ": " + message
		}
		a := Annotation{Level: AnnotationWarning, Title: "portcullis: warning", Message: message}
		if w.File != "" {
			a.File, a.Line = file(w.File), w.Line
		}
		out = append(out, a)
	}
	return out
}

func violationAnnotation(v Violation, file func(string) string) Annotation {
	a := Annotation{Level: AnnotationError, Title: "portcullis: route reaches internal-only service " + v.InternalService}
	if v.Neutralised {
		a.Level = AnnotationWarning
	}
	// The annotation carries the position, so the summary leaves it out.
	positionless := v
	positionless.File, positionless.Line = "", 0
	message := violationSummary(positionless) + ": " + routeAddress(v.Hostname, v.Path) + " → " + v.Origin
	if v.File != "" {
		a.File = file(v.File)
		a.Line = v.Line
		if v.Line <= 0 {
			message += " (line unknown)"
		}
	}
	a.Message = message
	return a
}
