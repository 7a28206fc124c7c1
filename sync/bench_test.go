package sync

import (
	"fmt"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/portcullis-dev/portcullis/ingress"
	"github.com/portcullis-dev/portcullis/tunnel"
)

// The planner benchmarks feed Compute an input built in memory, so they time
// the planner alone. docs/benchmarks.md records their results.

const (
	benchOwner  = "bench"
	benchTunnel = "6ff42ae2-765d-4adf-8112-31c55c1551ef"
	benchZoneID = "zone-bench"
)

// benchPlannerInput describes the planner input of BenchmarkCompute. It has
// routes desired routes svc<i>.example.com -> http://svc<i>:8080. The first
// owned of them already have a live rule marked as ours, and every 100th of
// those has an old origin, so it is an update. unmanaged live rules for
// legacy<k>.example.com, which no route declares, sit between the owned
// rules and the catch-all.
type benchPlannerInput struct {
	target    string
	routes    int
	owned     int
	unmanaged int
}

func benchHost(i int) string   { return fmt.Sprintf("svc%d.example.com", i) }
func benchOrigin(i int) string { return fmt.Sprintf("http://svc%d:8080", i) }
func benchUpdated(i int) bool  { return i%100 == 0 }

// updates is the number of owned rules whose origin changes.
func (c benchPlannerInput) updates() int { return (c.owned + 99) / 100 }

func (c benchPlannerInput) input(tb testing.TB) Input {
	tb.Helper()
	routes := make([]ingress.Route, c.routes)
	for i := range routes {
		routes[i] = ingress.Route{
			Service: fmt.Sprintf("svc%d", i), Hostname: benchHost(i), Origin: benchOrigin(i), DNS: true,
			Source: ingress.Source{File: "compose.yaml", Line: 3 + 5*i, Service: fmt.Sprintf("svc%d", i), Key: "portcullis.hostname"},
		}
	}

	state := tunnel.State{Target: c.target, TunnelID: benchTunnel}
	marker := tunnel.Marker(benchOwner)
	for i := range c.owned {
		origin := benchOrigin(i)
		if benchUpdated(i) {
			origin = fmt.Sprintf("http://svc%d:80", i)
		}
		r := tunnel.LiveRule{Rule: ingress.Rule{Hostname: benchHost(i), Service: origin}, Raw: "raw"}
		if c.target == "file" {
			r.Owner = benchOwner
		}
		state.Rules = append(state.Rules, r)
		state.Records = append(state.Records, benchCNAME(benchHost(i), marker))
	}
	for k := range c.unmanaged {
		host := fmt.Sprintf("legacy%d.example.com", k)
		state.Rules = append(state.Rules, tunnel.LiveRule{Rule: ingress.Rule{Hostname: host, Service: fmt.Sprintf("http://legacy%d:80", k)}, Raw: "raw"})
		state.Records = append(state.Records, benchCNAME(host, ""))
	}
	state.Rules = append(state.Rules, tunnel.LiveRule{Rule: ingress.Rule{Service: ingress.DefaultCatchAll}, Raw: "raw"})

	if c.target == "api" {
		state.AccountID, state.Version, state.ManagesDNS = "account-bench", 42, true
		state.Zones = []tunnel.Zone{{ID: "zone-other", Name: "example.org"}, {ID: benchZoneID, Name: "example.com"}, {ID: "zone-sub", Name: "internal.example.net"}}
	} else {
		state.Records = nil
		state.Checksum = "0000000000000000000000000000000000000000000000000000000000000000"
	}

	return Input{
		Routes: routes, Live: state, OwnerID: benchOwner, Policy: PolicySync,
		MaxDeletes: 10, Gate: benchGate(tb, c.routes), FileTunnel: benchTunnel,
	}
}

func benchService(name, port string, labels types.Labels) types.ServiceConfig {
	s := types.ServiceConfig{Name: name}
	s.Expose = types.StringOrNumberList{port}
	s.Labels = labels
	return s
}

func benchCNAME(name, comment string) tunnel.DNSRecord {
	return tunnel.DNSRecord{ID: "rec-" + name, ZoneID: benchZoneID, ZoneName: "example.com", Type: "CNAME", Name: name,
		Content: tunnel.TunnelTarget(benchTunnel), Proxied: true, TTL: 1, Comment: comment}
}

// benchGate builds a security gate over a project with one service per
// route plus one internal-only service for every 20 routes, so Compute
// checks every live origin against a realistic name index.
func benchGate(tb testing.TB, routes int) *ingress.Gate {
	tb.Helper()
	services := types.Services{}
	for i := range routes {
		name := fmt.Sprintf("svc%d", i)
		services[name] = benchService(name, "8080", nil)
	}
	for k := range routes / 20 {
		name := fmt.Sprintf("internal%d", k)
		services[name] = benchService(name, "5432", types.Labels{"security": "internal-only"})
	}
	gate, err := ingress.NewGate(&types.Project{Name: benchOwner, Services: services}, ingress.GateOptions{File: "compose.yaml"})
	if err != nil {
		tb.Fatalf("build security gate: %v", err)
	}
	return gate
}

// checkBenchPlan fails b unless p has the changes c was built to produce.
func checkBenchPlan(b *testing.B, c benchPlannerInput, p *Plan) {
	b.Helper()
	wantDNS := 0
	if c.target == "api" {
		wantDNS = c.routes - c.owned
	}
	checks := []struct {
		name      string
		got, want int
	}{
		{"creates", len(p.Creates), c.routes - c.owned},
		{"updates", len(p.Updates), c.updates()},
		{"unmanaged", len(p.Unmanaged), c.unmanaged},
		{"dns changes", len(p.DNS), wantDNS},
		{"deletes", len(p.Deletes), 0},
		{"conflicts", len(p.Conflicts), 0},
		{"violations", len(p.Violations), 0},
		{"document rules", len(p.Document), c.routes + c.unmanaged + 1},
	}
	for _, check := range checks {
		if check.got != check.want {
			b.Errorf("%s target: %s = %d, want %d", c.target, check.name, check.got, check.want)
		}
	}
	if b.Failed() {
		b.FailNow()
	}
}

// BenchmarkCompute times the planner alone on 10,000 routes against 5,000
// owned and 100 unmanaged live rules, on both targets, and on a tenth of
// that for scale.
func BenchmarkCompute(b *testing.B) {
	for _, target := range []string{"file", "api"} {
		for _, c := range []benchPlannerInput{
			{target: target, routes: 1000, owned: 500, unmanaged: 10},
			{target: target, routes: 10000, owned: 5000, unmanaged: 100},
		} {
			b.Run(fmt.Sprintf("target=%s/routes=%d", c.target, c.routes), func(b *testing.B) {
				in := c.input(b)
				p, err := Compute(in)
				if err != nil {
					b.Fatal(err)
				}
				checkBenchPlan(b, c, p)

				b.ReportAllocs()
				cpu := startBenchCPU()
				for b.Loop() {
					if _, err := Compute(in); err != nil {
						b.Fatal(err)
					}
				}
				cpu.report(b)
			})
		}
	}
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
