package main

import (
	"bytes"
	"fmt"
	"os"

	portsync "github.com/portcullis-dev/portcullis/sync"
)

// renderPlan prints p in the chosen format. With --output-file the chosen
// format goes to the file and the terminal gets text. Annotations of the
// github format name compose files relative to the working directory.
func renderPlan(g *globalOptions, p *portsync.Plan) error {
	opts := portsync.RenderOptions{AnnotationFile: g.repoRelativePath}
	if g.outputFile == "" {
		opts.Color = g.streams.Color() && g.output == portsync.FormatText
		r, err := portsync.NewRenderer(g.output, opts)
		if err != nil {
			return err
		}
		return r.Render(g.streams.Out, p)
	}

	r, err := portsync.NewRenderer(g.output, opts)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := r.Render(&buf, p); err != nil {
		return err
	}
	if err := os.WriteFile(g.outputFile, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write --output-file: %w", err)
	}
	text, err := portsync.NewRenderer(portsync.FormatText, portsync.RenderOptions{Color: g.streams.Color()})
	if err != nil {
		return err
	}
	return text.Render(g.streams.Out, p)
}

// planOutcome returns the exit-code outcome of a plan: violations, conflicts
// and pending changes.
func planOutcome(p *portsync.Plan) outcome {
	o := outcome{pending: p.HasChanges(), notInForce: len(p.Conflicts) > 0}
	for _, v := range p.Violations {
		if !v.Neutralised {
			o.violation = true
		}
	}
	return o
}
