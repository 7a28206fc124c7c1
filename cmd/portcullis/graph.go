package main

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/portcullis-dev/portcullis/ingress"
)

func newCmdGraph(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "graph",
		Short: "Draw the exposure map of the compose project as Mermaid or DOT",
		Long: `graph draws the exposure map of the compose project: the internet, the
tunnel, each public hostname and path, the services they reach and the
networks those services use. Internal-only services are fenced in a dashed red
group, and every published host port is drawn as a second way in beside the
tunnel. The map comes from the compose files alone; it reads no live state.

Choose the format with -o mermaid (the default) or -o dot (Graphviz, for
example: portcullis graph -o dot | dot -Tsvg > exposure.svg).

Exit codes:
  0  the map was drawn
  1  it could not be drawn: invalid input, such as an invalid label
  3  it could not be drawn because labels are invalid, and a route that
     did parse reaches an internal-only service`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.finish(outcome{}, runGraph(cmd.Context(), cmd.Flags(), g))
		},
	}
	cmd.Flags().String("label-prefix", "", "label prefix (default portcullis)")
	return cmd
}

func runGraph(ctx context.Context, flags *pflag.FlagSet, g *globalOptions) error {
	format := g.output
	if format == "text" {
		format = "mermaid"
	}
	if format != "mermaid" && format != "dot" {
		return fmt.Errorf("invalid output format %q for graph: use -o mermaid or -o dot", g.output)
	}

	s, err := loadDesired(ctx, g, flags)
	if err != nil {
		return err
	}
	x, err := ingress.BuildExposureGraph(s.project.Project, s.gate, s.parsed.Routes, s.settings.Audit.CloudflaredService)
	if err != nil {
		return err
	}

	text := x.Mermaid()
	if format == "dot" {
		text = x.DOT()
	}
	if g.outputFile != "" {
		if err := os.WriteFile(g.outputFile, []byte(text), 0o644); err != nil {
			return fmt.Errorf("write --output-file: %w", err)
		}
	}
	_, err = fmt.Fprint(g.streams.Out, text)
	return err
}
