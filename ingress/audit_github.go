package ingress

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
)

// auditAnnotationLevels maps a finding's severity to the GitHub Actions
// workflow command that annotates it.
var auditAnnotationLevels = map[AuditSeverity]string{
	SeverityError:   "error",
	SeverityWarning: "warning",
	SeverityNote:    "notice",
}

// auditGitHubRenderer writes one GitHub Actions annotation per finding, at
// the finding's compose file and line when known, then the text report.
type auditGitHubRenderer struct {
	// file maps a finding's file to the annotation's path; nil keeps it.
	file func(string) string
}

// Render writes the annotations and the text report. The text report sits
// between stop-commands markers, so no line of it is read as a workflow
// command, whatever a compose file or a live rule contains. The marker token
// is a digest of the text, which keeps the output deterministic.
func (g auditGitHubRenderer) Render(w io.Writer, r *AuditReport) error {
	var text bytes.Buffer
	if err := (auditTextRenderer{}).Render(&text, r); err != nil {
		return err
	}

	var out strings.Builder
	for _, f := range r.Findings {
		if g.file != nil && f.File != "" {
			f.File = g.file(f.File)
		}
		out.WriteString(auditAnnotation(f))
		out.WriteString("\n")
	}
	sum := sha256.Sum256(text.Bytes())
	token := "portcullis-audit-" + hex.EncodeToString(sum[:8])
	fmt.Fprintf(&out, "::stop-commands::%s\n", token)
	out.Write(text.Bytes())
	fmt.Fprintf(&out, "::%s::\n", token)

	if _, err := io.WriteString(w, out.String()); err != nil {
		return fmt.Errorf("write audit report as GitHub annotations: %w", err)
	}
	return nil
}

// auditAnnotation formats a finding as one workflow command line, without
// the newline: "::error file=F,line=L,title=T::message". The message holds
// the subject, the finding's message and its fix.
//
// GitHub resolves the file against the repository root, so the renderer
// maps it there first (AuditRenderOptions.AnnotationFile).
func auditAnnotation(f AuditFinding) string {
	level, ok := auditAnnotationLevels[f.Severity]
	if !ok {
		level = "notice"
	}

	var properties []string
	if f.File != "" {
		properties = append(properties, "file="+escapeWorkflowProperty(filepath.ToSlash(f.File)))
		if f.Line > 0 {
			properties = append(properties, "line="+strconv.Itoa(f.Line))
		}
	}
	properties = append(properties, "title="+escapeWorkflowProperty("portcullis audit: "+string(f.Kind)))

	message := auditAnnotationSubject(f) + f.Message
	if f.File != "" && f.Line <= 0 {
		message += " (line unknown)"
	}
	if f.Fix != "" {
		message += "\nfix: " + f.Fix
	}
	return "::" + level + " " + strings.Join(properties, ",") + "::" + escapeWorkflowMessage(message)
}

// auditAnnotationSubject returns the service and the label or live key of a
// finding as the text format names them, each followed by ": ". It returns
// "" when the finding names neither.
func auditAnnotationSubject(f AuditFinding) string {
	var subject string
	if f.Service != "" {
		subject = fmt.Sprintf("service %q: ", f.Service)
	}
	switch {
	case f.Key != "" && (f.Kind == KindInvalidLabel || f.Kind == KindLabelWarning):
		subject += fmt.Sprintf("label %q: ", f.Key)
	case f.File == "" && f.Key != "":
		subject += fmt.Sprintf("live %s: ", f.Key)
	}
	return subject
}

// The GitHub Actions toolkit escapes %, CR and LF in a workflow command's
// message, and also ':' and ',' in its properties, so that no value can end
// the command early or start another one.
var (
	workflowMessageEscaper  = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A")
	workflowPropertyEscaper = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C")
)

func escapeWorkflowMessage(s string) string {
	return workflowMessageEscaper.Replace(s)
}

func escapeWorkflowProperty(s string) string {
	return workflowPropertyEscaper.Replace(s)
}
