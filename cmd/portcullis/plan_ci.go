package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/go-multierror"

	"github.com/portcullis-dev/portcullis/ingress"
	portsync "github.com/portcullis-dev/portcullis/sync"
)

// stepSummaryVariable names the file GitHub Actions shows as the job
// summary.
const stepSummaryVariable = "GITHUB_STEP_SUMMARY"

// reportPlanFailure reports an error that stops plan before a plan exists,
// in the CI channels: with -o github one error annotation per problem, at
// the label's compose file line when known, and a failure section in the
// job summary. It returns err unchanged, for the usual error output and
// exit code.
func reportPlanFailure(g *globalOptions, err error) error {
	problems := flattenErrors(err)
	if g.output == portsync.FormatGitHub {
		var b strings.Builder
		for _, a := range errorAnnotations(g, problems) {
			b.WriteString(a.String())
			b.WriteString("\n")
		}
		if _, werr := fmt.Fprint(g.streams.Out, b.String()); werr != nil {
			return errors.Join(err, fmt.Errorf("write annotations: %w", werr))
		}
	}
	if path := stepSummaryPath(g.environ); path != "" {
		texts := make([]string, len(problems))
		for i, p := range problems {
			texts[i] = p.Error()
		}
		var summary bytes.Buffer
		if werr := portsync.RenderMarkdownFailure(&summary, texts); werr == nil {
			if werr := appendToFile(path, summary.Bytes()); werr != nil {
				fmt.Fprintf(g.streams.ErrOut, "warning: could not append to %s: %v\n", stepSummaryVariable, werr)
			}
		}
	}
	return err
}

// flattenErrors returns the errors inside nested *multierror.Error values,
// or err alone.
func flattenErrors(err error) []error {
	var merr *multierror.Error
	if !errors.As(err, &merr) {
		return []error{err}
	}
	var out []error
	for _, e := range merr.Errors {
		out = append(out, flattenErrors(e)...)
	}
	return out
}

// errorAnnotations returns one error annotation per problem. A label error
// is placed at its label's line, and its message leaves the position out
// because the annotation shows it. The message ends in "line unknown" when
// only the file is known.
func errorAnnotations(g *globalOptions, problems []error) []portsync.Annotation {
	out := make([]portsync.Annotation, 0, len(problems))
	for _, problem := range problems {
		a := portsync.Annotation{Level: portsync.AnnotationError, Title: "portcullis", Message: problem.Error()}
		var labelErr *ingress.LabelError
		var securityErr *ingress.SecurityLabelError
		switch {
		case errors.As(problem, &labelErr):
			positionless := *labelErr
			positionless.File, positionless.Line = "", 0
			a.Title = "portcullis: invalid label " + labelErr.Key
			a.File, a.Line, a.Message = labelErr.File, labelErr.Line, positionless.Error()
		case errors.As(problem, &securityErr):
			positionless := *securityErr
			positionless.File, positionless.Line = "", 0
			a.Title = "portcullis: invalid security label"
			a.File, a.Line, a.Message = securityErr.File, securityErr.Line, positionless.Error()
		}
		if a.File != "" {
			a.File = g.repoRelativePath(a.File)
			if a.Line <= 0 {
				a.Message += " (line unknown)"
			}
		}
		out = append(out, a)
	}
	return out
}

// repoRelativePath turns a compose file path of a plan or label error,
// relative to the project directory or absolute, into a path relative to
// the working directory, where CI runs at the repository root, as GitHub
// annotations need. A path outside the working directory stays absolute.
func (g *globalOptions) repoRelativePath(file string) string {
	wd, err := os.Getwd()
	if err != nil {
		return filepath.ToSlash(file)
	}
	path := file
	if !filepath.IsAbs(path) {
		projectDir := g.resolvedProjectDirectory
		if projectDir == "" {
			projectDir = g.projectDirectory
		}
		if projectDir == "" {
			projectDir = wd
		}
		path = filepath.Join(projectDir, path)
	}
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	rel, err := filepath.Rel(wd, path)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return filepath.ToSlash(path)
	}
	return filepath.ToSlash(rel)
}

// stepSummaryPath returns the job summary file from the environment the
// command was given, or "" outside GitHub Actions.
func stepSummaryPath(environ []string) string {
	path := ""
	for _, kv := range environ {
		if value, ok := strings.CutPrefix(kv, stepSummaryVariable+"="); ok {
			path = value
		}
	}
	return path
}

// appendStepSummary appends the Markdown plan to the job summary file when
// the environment names one.
func appendStepSummary(g *globalOptions, p *portsync.Plan) error {
	path := stepSummaryPath(g.environ)
	if path == "" {
		return nil
	}
	r, err := portsync.NewRenderer(portsync.FormatMarkdown, portsync.RenderOptions{})
	if err != nil {
		return err
	}
	var summary bytes.Buffer
	if err := r.Render(&summary, p); err != nil {
		return err
	}
	if err := appendToFile(path, summary.Bytes()); err != nil {
		return fmt.Errorf("append the plan to %s: %w", stepSummaryVariable, err)
	}
	return nil
}

func appendToFile(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
