package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newCmdValidate(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Check the compose files and labels offline",
		Long: `validate loads the compose files and checks every portcullis label and the
security gate. It needs no credentials and contacts nothing.

` + exitCodeHelp,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.finish(runValidate(cmd, g))
		},
	}
	addPlanSettingsFlags(cmd)
	return cmd
}

func runValidate(cmd *cobra.Command, g *globalOptions) (outcome, error) {
	s, err := loadDesired(cmd.Context(), g, cmd.Flags())
	if err != nil {
		return outcome{}, err
	}
	w := g.streams.Out
	for _, warn := range s.parsed.Warnings {
		fmt.Fprintf(g.streams.ErrOut, "warning: %s: service %q: %s\n", warn.File, warn.Service, warn.Message)
	}
	for _, v := range s.violations {
		fmt.Fprintf(w, "✗ %s\n", v.Error())
	}
	if len(s.violations) > 0 {
		return outcome{violation: true}, fmt.Errorf("%w: %d route(s) reach internal-only services", errViolation, len(s.violations))
	}
	fmt.Fprintf(w, "%s: %d routes from %d services are valid; %d held in inactive profiles; internal-only: %d services.\n",
		s.project.Name, len(s.parsed.Routes), countServices(s), len(s.parsed.Held), len(s.gate.Internal()))
	return outcome{}, nil
}

func countServices(s *session) int {
	seen := map[string]bool{}
	for _, r := range s.parsed.Routes {
		seen[r.Service] = true
	}
	return len(seen)
}
