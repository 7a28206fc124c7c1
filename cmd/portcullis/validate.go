package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/portcullis-dev/portcullis/ingress"
)

// validateFormatVersion is the version of the `validate -o json` document.
const validateFormatVersion = 1

// validateReport is the document `validate -o json` writes.
type validateReport struct {
	FormatVersion int                 `json:"format_version"`
	Project       string              `json:"project"`
	Routes        []ingress.Route     `json:"routes"`
	Held          []ingress.Route     `json:"held"`
	Internal      []string            `json:"internal_only"`
	Warnings      []ingress.Warning   `json:"warnings"`
	Violations    []ingress.Violation `json:"violations"`
}

func newCmdValidate(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Check the compose files and labels offline",
		Long: `validate loads the compose files and checks every portcullis label and the
security gate. It needs no credentials and contacts nothing. -o json writes
the validated routes as a document.

` + exitCodeHelp,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.finish(runValidate(cmd, g))
		},
	}
	cmd.Flags().String("label-prefix", "", "label prefix (default portcullis)")
	return cmd
}

func runValidate(cmd *cobra.Command, g *globalOptions) (outcome, error) {
	s, err := loadDesired(cmd.Context(), g, cmd.Flags())
	if err != nil {
		return outcome{}, err
	}
	for _, warn := range s.parsed.Warnings {
		fmt.Fprintf(g.streams.ErrOut, "warning: %s\n", warn.String())
	}
	report := validateReport{
		FormatVersion: validateFormatVersion,
		Project:       s.project.Name,
		Routes:        nonNil(s.parsed.Routes),
		Held:          nonNil(s.parsed.Held),
		Internal:      nonNil(s.gate.Internal()),
		Warnings:      nonNil(s.parsed.Warnings),
		Violations:    nonNil(s.violations),
	}

	if err := writeValidate(g, report); err != nil {
		return outcome{}, err
	}
	if len(s.violations) > 0 {
		return outcome{violation: true}, fmt.Errorf("%w: %d route(s) reach internal-only services", errViolation, len(s.violations))
	}
	return outcome{}, nil
}

// writeValidate prints the report in the chosen format; with --output-file
// the chosen format goes to the file and the terminal gets text.
func writeValidate(g *globalOptions, r validateReport) error {
	if g.output != "text" && g.output != "json" {
		return fmt.Errorf("invalid output format %q for validate: use text or json", g.output)
	}
	if g.outputFile == "" {
		return renderValidate(g.streams.Out, g.output, r)
	}
	var buf bytes.Buffer
	if err := renderValidate(&buf, g.output, r); err != nil {
		return err
	}
	if err := os.WriteFile(g.outputFile, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write --output-file: %w", err)
	}
	return renderValidate(g.streams.Out, "text", r)
}

func renderValidate(w io.Writer, format string, r validateReport) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(r)
	}
	for _, v := range r.Violations {
		fmt.Fprintf(w, "✗ %s\n", v.Error())
	}
	services := map[string]bool{}
	for _, route := range r.Routes {
		services[route.Service] = true
	}
	if len(r.Violations) > 0 {
		fmt.Fprintf(w, "%s: %d route(s) reach internal-only services; nothing may be applied.\n", r.Project, len(r.Violations))
		return nil
	}
	_, err := fmt.Fprintf(w, "%s: %d routes from %d services are valid; %d held in inactive profiles; internal-only: %d services.\n",
		r.Project, len(r.Routes), len(services), len(r.Held), len(r.Internal))
	return err
}

// nonNil returns s, or an empty slice for nil, so JSON shows [] not null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
