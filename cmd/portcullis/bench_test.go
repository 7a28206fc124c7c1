package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portcullis-dev/portcullis/config"
	"github.com/portcullis-dev/portcullis/ingress"
	portsync "github.com/portcullis-dev/portcullis/sync"
	"github.com/portcullis-dev/portcullis/tunnel"
)

// The benchmarks in this file generate a compose project into b.TempDir and
// plan it against a file target. docs/benchmarks.md records their results.

const (
	benchOwner  = "bench"
	benchTunnel = "6ff42ae2-765d-4adf-8112-31c55c1551ef"
)

// benchSizes are the numbers of compose services the end-to-end benchmark
// plans.
var benchSizes = []int{10, 100, 1000, 10000}

// benchProject describes a generated project of n compose services:
//
//   - service i is svc<i> with expose ["8080"] and portcullis.hostname
//     svc<i>.example.com;
//   - when i%10 == 0 it also has the named route "api" on the same
//     hostname with path /api;
//   - when i%20 == 5 it is labelled security=internal-only and has no
//     portcullis labels;
//   - the live config.yml holds, with our marker, every rule of the routed
//     services with an even i, so they are kept unchanged, plus max(1, n/100)
//     unmanaged rules and the catch-all.
type benchProject struct {
	services int
	routes   int
	// kept is the number of live owned rules the plan writes back unchanged.
	kept      int
	unmanaged int
}

func newBenchProject(n int) benchProject {
	p := benchProject{services: n, unmanaged: max(1, n/100)}
	for i := range n {
		if benchInternal(i) {
			continue
		}
		rules := 1
		if benchHasAPIRoute(i) {
			rules++
		}
		p.routes += rules
		if benchLive(i) {
			p.kept += rules
		}
	}
	return p
}

func benchInternal(i int) bool    { return i%20 == 5 }
func benchHasAPIRoute(i int) bool { return i%10 == 0 }
func benchLive(i int) bool        { return i%2 == 0 && !benchInternal(i) }

// creates is the number of rules the plan must create.
func (p benchProject) creates() int { return p.routes - p.kept }

// write creates compose.yaml, portcullis.yaml and cloudflared/config.yml in
// dir.
func (p benchProject) write(tb testing.TB, dir string) {
	tb.Helper()
	files := map[string]string{
		"compose.yaml":           p.composeFile(),
		"portcullis.yaml":        p.settingsFile(),
		"cloudflared/config.yml": p.liveConfig(),
	}
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
}

func (p benchProject) composeFile() string {
	var b strings.Builder
	b.WriteString("name: " + benchOwner + "\nservices:\n")
	for i := range p.services {
		fmt.Fprintf(&b, "  svc%d:\n    image: example/app:1\n    expose: [\"8080\"]\n    labels:\n", i)
		if benchInternal(i) {
			b.WriteString("      security: internal-only\n")
			continue
		}
		fmt.Fprintf(&b, "      portcullis.hostname: svc%d.example.com\n", i)
		if benchHasAPIRoute(i) {
			fmt.Fprintf(&b, "      portcullis.routes.api.hostname: svc%d.example.com\n", i)
			b.WriteString("      portcullis.routes.api.path: /api\n")
		}
	}
	return b.String()
}

func (p benchProject) settingsFile() string {
	return "owner_id: " + benchOwner + "\ntarget: file\nfile:\n  path: cloudflared/config.yml\n  tunnel: " + benchTunnel + "\n"
}

func (p benchProject) liveConfig() string {
	var b strings.Builder
	b.WriteString("tunnel: " + benchTunnel + "\n")
	b.WriteString("credentials-file: /etc/cloudflared/" + benchTunnel + ".json\n")
	b.WriteString("ingress:\n")
	marker := "  # " + tunnel.Marker(benchOwner) + "\n"
	for i := range p.services {
		if !benchLive(i) {
			continue
		}
		if benchHasAPIRoute(i) {
			fmt.Fprintf(&b, "%s  - hostname: svc%d.example.com\n    path: \"^(?:/api)\"\n    service: http://svc%d:8080\n", marker, i, i)
		}
		fmt.Fprintf(&b, "%s  - hostname: svc%d.example.com\n    service: http://svc%d:8080\n", marker, i, i)
	}
	for k := range p.unmanaged {
		fmt.Fprintf(&b, "  # managed by hand\n  - hostname: legacy%d.example.com\n    service: http://legacy%d:80\n", k, k)
	}
	b.WriteString("  - service: http_status:404\n")
	return b.String()
}

// runBenchPlan runs "portcullis plan" in process on dir, as main does, and
// returns the exit code and both outputs.
func runBenchPlan(dir string, extra ...string) (code int, out, errOut *bytes.Buffer) {
	out, errOut = &bytes.Buffer{}, &bytes.Buffer{}
	s := &streams{In: strings.NewReader(""), Out: out, ErrOut: errOut, NoColor: true}
	args := append([]string{"--project-directory", dir, "plan"}, extra...)
	code = run(context.Background(), args, s, []string{"NO_COLOR=1"})
	return code, out, errOut
}

// checkBenchPlan plans dir once with -o json and fails b unless the plan has
// the creates, keeps and unmanaged rules p was generated with.
func checkBenchPlan(b *testing.B, dir string, p benchProject) {
	b.Helper()
	code, out, errOut := runBenchPlan(dir, "-o", "json")
	if code != exitPending {
		b.Fatalf("plan exit = %d, want %d\nstderr:\n%s", code, exitPending, errOut)
	}
	var plan portsync.Plan
	if err := json.Unmarshal(out.Bytes(), &plan); err != nil {
		b.Fatalf("decode plan JSON: %v", err)
	}
	kept := 0
	for _, d := range plan.Document {
		if d.Kind == portsync.KindOwned && d.LiveIndex >= 0 {
			kept++
		}
	}
	checks := []struct {
		name      string
		got, want int
	}{
		{"creates", len(plan.Creates), p.creates()},
		{"kept owned rules", kept, p.kept},
		{"unmanaged", len(plan.Unmanaged), p.unmanaged},
		{"updates", len(plan.Updates), 0},
		{"deletes", len(plan.Deletes), 0},
		{"drift", len(plan.Drift), 0},
		{"conflicts", len(plan.Conflicts), 0},
		{"violations", len(plan.Violations), 0},
	}
	for _, c := range checks {
		if c.got != c.want {
			b.Errorf("plan of %d services: %s = %d, want %d", p.services, c.name, c.got, c.want)
		}
	}
	if b.Failed() {
		b.FailNow()
	}
}

// BenchmarkPlanEndToEnd runs the plan command in process, from reading
// portcullis.yaml and the compose file to rendering the text plan.
func BenchmarkPlanEndToEnd(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("services=%d", n), func(b *testing.B) {
			p := newBenchProject(n)
			dir := b.TempDir()
			p.write(b, dir)
			checkBenchPlan(b, dir, p)

			b.ReportAllocs()
			cpu := startBenchCPU()
			for b.Loop() {
				if code, _, errOut := runBenchPlan(dir); code != exitPending {
					b.Fatalf("plan exit = %d, want %d\nstderr:\n%s", code, exitPending, errOut)
				}
			}
			cpu.report(b)
			b.ReportMetric(float64(p.routes), "routes")
		})
	}
}

// benchStages holds the output of every step of the plan command, so each
// step can be timed alone on the output of the steps before it.
type benchStages struct {
	settings *config.Settings
	project  *config.Project
	parse    ingress.ParseOptions
	parsed   ingress.ParseResult
	gateOpts ingress.GateOptions
	gate     *ingress.Gate
	file     *tunnel.File
	live     tunnel.State
	input    portsync.Input
	plan     *portsync.Plan
}

// loadBenchStages runs the plan command's steps once, the way session.go
// calls them.
func loadBenchStages(b *testing.B, dir string) *benchStages {
	b.Helper()
	ctx := context.Background()
	s := &benchStages{}
	var err error

	s.settings, err = config.Load(config.LoadOptions{ProjectDirectory: dir, Environ: []string{"NO_COLOR=1"}})
	if err != nil {
		b.Fatal(err)
	}
	s.project, err = config.LoadProject(ctx, s.settings)
	if err != nil {
		b.Fatal(err)
	}
	if err := s.settings.ResolveOwnerID(s.project.Name); err != nil {
		b.Fatal(err)
	}

	sources := func(service, key string) (string, int) {
		f, line := s.project.Sources(service, key)
		return relativeTo(s.settings.ProjectDirectory, f), line
	}
	file := relativeTo(s.settings.ProjectDirectory, s.project.Files[0])
	s.parse = ingress.ParseOptions{
		Prefix:    s.settings.Labels.Prefix,
		Target:    s.settings.Target,
		RawLabels: s.project.RawLabels,
		Sources:   sources,
		File:      file,
	}
	s.parsed, err = ingress.ParseProject(s.project.Project, s.parse)
	if err != nil {
		b.Fatal(err)
	}
	s.gateOpts = ingress.GateOptions{Sources: sources, File: file}
	s.gate, err = ingress.NewGate(s.project.Project, s.gateOpts)
	if err != nil {
		b.Fatal(err)
	}

	s.file = &tunnel.File{Path: s.settings.File.Path, Tunnel: s.settings.File.Tunnel}
	s.live, err = s.file.Read(ctx)
	if err != nil {
		b.Fatal(err)
	}
	policy, err := portsync.ParsePolicy(s.settings.Policy)
	if err != nil {
		b.Fatal(err)
	}
	s.input = portsync.Input{
		Routes:     s.parsed.Routes,
		Held:       s.parsed.Held,
		Violations: s.gate.CheckRoutes(s.parsed.Routes),
		Warnings:   s.parsed.Warnings,
		Live:       s.live,
		OwnerID:    s.settings.OwnerID,
		Policy:     policy,
		MaxDeletes: s.settings.MaxDeletes,
		Gate:       s.gate,
		FileTunnel: s.settings.File.Tunnel,
	}
	s.plan, err = portsync.Compute(s.input)
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkPlanStages times each step of the plan command alone, to show
// where the end-to-end time goes. Each step's input is prepared before its
// timer starts.
func BenchmarkPlanStages(b *testing.B) {
	ctx := context.Background()
	for _, n := range []int{1000, 10000} {
		p := newBenchProject(n)
		dir := b.TempDir()
		p.write(b, dir)
		var s *benchStages

		stages := []struct {
			name string
			run  func() error
		}{
			{"settings", func() error {
				_, err := config.Load(config.LoadOptions{ProjectDirectory: dir, Environ: []string{"NO_COLOR=1"}})
				return err
			}},
			{"compose", func() error {
				_, err := config.LoadProject(ctx, s.settings)
				return err
			}},
			{"labels", func() error {
				_, err := ingress.ParseProject(s.project.Project, s.parse)
				return err
			}},
			{"gate", func() error {
				g, err := ingress.NewGate(s.project.Project, s.gateOpts)
				if err != nil {
					return err
				}
				if v := g.CheckRoutes(s.parsed.Routes); len(v) > 0 {
					return fmt.Errorf("gate found %d violations, want none", len(v))
				}
				return nil
			}},
			{"read-live", func() error {
				_, err := s.file.Read(ctx)
				return err
			}},
			{"compute", func() error {
				_, err := portsync.Compute(s.input)
				return err
			}},
			{"render-text", func() error {
				return renderBench(portsync.FormatText, s.plan)
			}},
			{"render-json", func() error {
				return renderBench(portsync.FormatJSON, s.plan)
			}},
		}
		for _, st := range stages {
			b.Run(fmt.Sprintf("services=%d/%s", n, st.name), func(b *testing.B) {
				if s == nil {
					s = loadBenchStages(b, dir)
				}
				b.ReportAllocs()
				cpu := startBenchCPU()
				for b.Loop() {
					if err := st.run(); err != nil {
						b.Fatal(err)
					}
				}
				cpu.report(b)
			})
		}
	}
}

func renderBench(format string, p *portsync.Plan) error {
	r, err := portsync.NewRenderer(format, portsync.RenderOptions{})
	if err != nil {
		return err
	}
	return r.Render(io.Discard, p)
}

// benchCPUMeter measures the process's CPU time across a benchmark loop.
// On a shared machine ns/op also counts time spent waiting for a core, but
// CPU time per op does not. It does count the garbage collector's work on
// other threads.
type benchCPUMeter struct {
	start time.Duration
	ok    bool
}

func startBenchCPU() benchCPUMeter {
	start, ok := benchProcessCPU()
	return benchCPUMeter{start: start, ok: ok}
}

// report adds the metric cpu-ns/op. Call it after the loop.
func (m benchCPUMeter) report(b *testing.B) {
	end, ok := benchProcessCPU()
	if !m.ok || !ok || b.N == 0 {
		return
	}
	b.ReportMetric(float64(end-m.start)/float64(b.N), "cpu-ns/op")
}
