package ingress

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// AuditRenderer prints an audit report in one format.
type AuditRenderer interface {
	Render(w io.Writer, r *AuditReport) error
}

// AuditRenderOptions configures NewAuditRenderer.
type AuditRenderOptions struct {
	// Color adds ANSI colour to the text format.
	Color bool
	// AnnotationFile maps a finding's file to the path a GitHub annotation
	// shows (relative to the repository root); nil keeps it as it is.
	AnnotationFile func(string) string
}

// ErrUnknownAuditFormat is wrapped by NewAuditRenderer's error for a format
// it has no renderer for.
var ErrUnknownAuditFormat = errors.New("unknown audit output format")

// NewAuditRenderer returns the renderer of format: "text", "json",
// "markdown" or "github".
func NewAuditRenderer(format string, opts AuditRenderOptions) (AuditRenderer, error) {
	switch format {
	case "text", "":
		return auditTextRenderer{color: opts.Color}, nil
	case "json":
		return auditJSONRenderer{}, nil
	case "markdown":
		return auditMarkdownRenderer{}, nil
	case "github":
		return auditGitHubRenderer{file: opts.AnnotationFile}, nil
	}
	return nil, fmt.Errorf("%w %q: use text, json, markdown or github", ErrUnknownAuditFormat, format)
}

type auditJSONRenderer struct{}

func (auditJSONRenderer) Render(w io.Writer, r *AuditReport) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

type auditTextRenderer struct {
	color bool
}

// severitySymbols are the text renderer's marks, one per severity.
var severitySymbols = map[AuditSeverity]string{SeverityError: "✗", SeverityWarning: "!", SeverityNote: "·"}

var severityColors = map[AuditSeverity]string{SeverityError: "\x1b[31m", SeverityWarning: "\x1b[33m", SeverityNote: "\x1b[2m"}

func (t auditTextRenderer) Render(w io.Writer, r *AuditReport) error {
	var b strings.Builder
	b.WriteString(describeAuditScope(r))
	b.WriteString("\n")
	if len(r.Findings) > 0 {
		b.WriteString("\n")
	}
	for _, f := range r.Findings {
		t.writeFinding(&b, f)
	}
	b.WriteString("\n")
	b.WriteString(describeAuditSummary(r))
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func (t auditTextRenderer) writeFinding(b *strings.Builder, f AuditFinding) {
	mark := severitySymbols[f.Severity] + " " + string(f.Severity)
	if t.color {
		mark = severityColors[f.Severity] + mark + "\x1b[0m"
	}
	fmt.Fprintf(b, "%s [%s] %s", mark, f.Kind, formatPosition(f.File, f.Line))
	if f.Service != "" {
		fmt.Fprintf(b, "service %q: ", f.Service)
	}
	switch {
	case f.Key != "" && (f.Kind == KindInvalidLabel || f.Kind == KindLabelWarning):
		fmt.Fprintf(b, "label %q: ", f.Key)
	case f.File == "" && f.Key != "":
		fmt.Fprintf(b, "live %s: ", f.Key)
	}
	b.WriteString(f.Message)
	b.WriteString("\n")
	if f.Fix != "" {
		fmt.Fprintf(b, "    fix: %s\n", f.Fix)
	}
}

func describeAuditScope(r *AuditReport) string {
	tunnel := "no cloudflared service found"
	if r.CloudflaredService != "" {
		tunnel = fmt.Sprintf("cloudflared service %q", r.CloudflaredService)
	}
	live := "live rules not checked"
	if r.Target != "" {
		live = fmt.Sprintf("%s checked on the %s target", auditPlural(r.LiveRules, "live rule"), r.Target)
	}
	return fmt.Sprintf("Audit of %s: %s, %s, %s, %s.", r.Project, auditPlural(r.Services, "service"), auditPlural(r.Routes, "route"), tunnel, live)
}

func describeAuditSummary(r *AuditReport) string {
	s := r.Summary
	if s.Errors+s.Warnings+s.Notes == 0 {
		return "No findings: every route reaches a service cloudflared can connect to, and no internal-only service is exposed."
	}
	text := fmt.Sprintf("%s, %s, %s", auditPlural(s.Errors, "error"), auditPlural(s.Warnings, "warning"), auditPlural(s.Notes, "note"))
	if s.Exposures > 0 {
		text += fmt.Sprintf("; %s an internal-only service", auditPlural(s.Exposures, "finding exposes", "findings expose"))
	}
	return text + "."
}

// plural formats n with the singular or plural noun; the plural defaults
// to the singular with "s" added.
func auditPlural(n int, singular string, pluralForm ...string) string {
	if n == 1 {
		return "1 " + singular
	}
	if len(pluralForm) > 0 {
		return fmt.Sprintf("%d %s", n, pluralForm[0])
	}
	return fmt.Sprintf("%d %ss", n, singular)
}
