package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/hashicorp/go-multierror"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/portcullis-dev/portcullis/config"
	"github.com/portcullis-dev/portcullis/ingress"
)

// auditOptions are the flags of audit.
type auditOptions struct {
	g *globalOptions
	// strict makes an origin that matches no compose service an error.
	strict bool
	// offline skips reading the live target.
	offline bool
}

func newCmdAudit(g *globalOptions) *cobra.Command {
	opts := &auditOptions{g: g}
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Check the compose project and the live tunnel for ways around the security boundary",
		Long: `audit checks the compose project for ways to reach an internal-only service
without the tunnel (published ports, network_mode: host, shared network
namespaces), for routes that cannot work (an origin that cloudflared shares
no network with, a cloudflared service attached only to internal networks, an
origin that matches no compose service), and runs the security gate on every
route. When the target can be read, it checks the live rules too: a live
rule, owned or not, that reaches an internal-only service, or reaches a
service by a name compose no longer defines. If the live state cannot be
read, audit says so in a note and checks the compose project alone.

Each finding names its severity, the service, the compose file and line, and
what to do. Label problems are findings too.

-o text|json|markdown|github selects the format: markdown is a report for a
pull-request comment, github prints one GitHub Actions annotation per
finding and then the text report.

Exit codes:
  0  no findings, or warnings and notes only
  1  the audit could not run
  3  a finding exposes an internal-only service
  4  another error: a route or label that cannot work`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.finish(runAudit(cmd.Context(), cmd.Flags(), opts))
		},
	}
	f := cmd.Flags()
	f.BoolVar(&opts.strict, "strict", false, "report an origin that matches no compose service as an error, not a warning")
	f.BoolVar(&opts.offline, "offline", false, "check the compose project only; do not read the live target")
	f.String("label-prefix", "", "label prefix (default portcullis)")
	return cmd
}

func runAudit(ctx context.Context, flags *pflag.FlagSet, opts *auditOptions) (outcome, error) {
	renderer, err := ingress.NewAuditRenderer(opts.g.output, ingress.AuditRenderOptions{AnnotationFile: opts.g.repoRelativePath})
	if err != nil {
		return outcome{}, err
	}

	s, labelErrs, err := loadAuditSession(ctx, opts.g, flags)
	if err != nil {
		return outcome{}, err
	}
	in := s.auditInput(labelErrs, opts.strict)
	if opts.offline {
		in.LiveNote = "live rules not checked: --offline"
	} else {
		s.readAuditLive(ctx, &in)
	}

	report, err := ingress.Audit(in)
	if err != nil {
		return outcome{}, err
	}
	if err := renderAudit(opts.g, renderer, report); err != nil {
		return outcome{}, err
	}
	return outcome{violation: report.Exposes(), notInForce: report.HasErrors()}, nil
}

// loadAuditSession loads the settings, the compose project, its routes and
// the security gate like loadDesired, but returns label errors apart, so
// audit can report them as findings. The error is set only when the audit
// cannot run.
func loadAuditSession(ctx context.Context, g *globalOptions, flags *pflag.FlagSet) (*session, error, error) {
	settings, err := loadSettings(g, flags)
	if err != nil {
		return nil, nil, err
	}
	project, err := config.LoadProject(ctx, settings)
	if err != nil {
		return nil, nil, err
	}
	for _, w := range project.Warnings {
		fmt.Fprintf(g.streams.ErrOut, "warning: %s\n", w)
	}
	s := &session{g: g, settings: settings, project: project}

	file := s.auditComposeFile()
	var labelErrs *multierror.Error
	s.parsed, err = ingress.ParseProject(project.Project, ingress.ParseOptions{
		Prefix:    settings.Labels.Prefix,
		Target:    settings.Target,
		Exclusive: settings.Exclusive != "",
		RawLabels: project.RawLabels,
		Sources:   s.auditLabelSources,
		File:      file,
	})
	if err != nil {
		labelErrs = multierror.Append(labelErrs, err)
	}
	s.gate, err = ingress.NewGate(project.Project, ingress.GateOptions{Sources: s.auditLabelSources, File: file})
	if s.gate == nil {
		return nil, nil, err
	}
	if err != nil {
		labelErrs = multierror.Append(labelErrs, err)
	}
	return s, labelErrs.ErrorOrNil(), nil
}

// auditComposeFile returns the first compose file, relative to the project
// directory, for findings whose line is unknown.
func (s *session) auditComposeFile() string {
	if len(s.project.Files) == 0 {
		return ""
	}
	return relativeTo(s.settings.ProjectDirectory, s.project.Files[0])
}

// auditLabelSources returns the file, relative to the project directory, and
// line of a label.
func (s *session) auditLabelSources(service, key string) (string, int) {
	f, line := s.project.Sources(service, key)
	if f == "" {
		return "", 0
	}
	return relativeTo(s.settings.ProjectDirectory, f), line
}

// auditInput builds the audit's input from the loaded compose project.
func (s *session) auditInput(labelErrs error, strict bool) ingress.AuditInput {
	positions := ingress.LoadComposePositions(s.project.Files)
	return ingress.AuditInput{
		Project:            s.project.Project,
		Gate:               s.gate,
		Routes:             s.parsed.Routes,
		Held:               s.parsed.Held,
		LabelErrors:        labelErrs,
		LabelWarnings:      s.parsed.Warnings,
		CloudflaredService: s.settings.Audit.CloudflaredService,
		Strict:             strict,
		File:               s.auditComposeFile(),
		Locate: func(service string, path ...string) (string, int) {
			f, line := positions.Find(service, path...)
			if f == "" {
				return "", 0
			}
			return relativeTo(s.settings.ProjectDirectory, f), line
		},
	}
}

// readAuditLive reads the live rules into in, or sets a note saying why
// they could not be read.
func (s *session) readAuditLive(ctx context.Context, in *ingress.AuditInput) {
	if err := s.openTarget(ctx); err != nil {
		in.LiveNote = fmt.Sprintf("live rules not checked: the %s target is not configured: %v", s.settings.Target, err)
		return
	}
	if s.file != nil {
		if _, err := os.Stat(s.file.Path); errors.Is(err, os.ErrNotExist) {
			in.LiveNote = fmt.Sprintf("live rules not checked: %s does not exist yet", relativeTo(s.settings.ProjectDirectory, s.file.Path))
			return
		}
	}
	live, err := s.readLive(ctx)
	if err != nil {
		in.LiveNote = fmt.Sprintf("live rules not checked: reading the %s target failed: %v", s.settings.Target, err)
		return
	}
	in.LiveChecked = true
	in.Target = s.settings.Target
	in.Live = make([]ingress.Rule, len(live.Rules))
	for i, r := range live.Rules {
		in.Live[i] = r.Rule
	}
}

// renderAudit prints the report in the chosen format. With --output-file
// the chosen format goes to the file and the terminal gets text.
func renderAudit(g *globalOptions, r ingress.AuditRenderer, report *ingress.AuditReport) error {
	if g.outputFile == "" {
		if g.output == "text" {
			r, _ = ingress.NewAuditRenderer("text", ingress.AuditRenderOptions{Color: g.streams.Color()})
		}
		return r.Render(g.streams.Out, report)
	}

	var buf bytes.Buffer
	if err := r.Render(&buf, report); err != nil {
		return err
	}
	if err := os.WriteFile(g.outputFile, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write --output-file: %w", err)
	}
	text, _ := ingress.NewAuditRenderer("text", ingress.AuditRenderOptions{Color: g.streams.Color()})
	return text.Render(g.streams.Out, report)
}
