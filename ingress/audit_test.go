package ingress

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
)

// auditFixture runs Audit on testdata/audit/NAME with the compose checks
// only.
func auditFixture(t *testing.T, name string, strict bool) *AuditReport {
	t.Helper()
	dir := filepath.Join("..", "testdata", "audit", name)
	p := loadComposeFixture(t, dir)
	parsed, labelErr := ParseProject(p, ParseOptions{File: "compose.yaml"})
	gate, gateErr := NewGate(p, GateOptions{File: "compose.yaml"})
	if gate == nil {
		t.Fatalf("no gate: %v", gateErr)
	}
	positions := LoadComposePositions([]string{filepath.Join(dir, "compose.yaml")})
	report, err := Audit(AuditInput{
		Project: p, Gate: gate, Routes: parsed.Routes, Held: parsed.Held,
		LabelErrors: errors.Join(labelErr, gateErr), Strict: strict,
		File: "compose.yaml",
		Locate: func(service string, path ...string) (string, int) {
			file, line := positions.Find(service, path...)
			if file == "" {
				return "", 0
			}
			return filepath.Base(file), line
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return report
}

func auditKinds(r *AuditReport) []AuditKind {
	var kinds []AuditKind
	for _, f := range r.Findings {
		kinds = append(kinds, f.Kind)
	}
	return kinds
}

func TestAuditCompose(t *testing.T) {
	tests := []struct {
		fixture  string
		strict   bool
		want     []AuditKind
		exposure bool
		errors   bool
	}{
		{fixture: "clean"},
		{fixture: "published-port", want: []AuditKind{KindPublishedPort, KindPublishedPort, KindPublishedPort}, exposure: true, errors: true},
		{fixture: "host-network", want: []AuditKind{KindGateViolation, KindHostNetwork, KindHostNetwork}, exposure: true, errors: true},
		{fixture: "shared-namespace", want: []AuditKind{KindSharedNamespace}},
		{fixture: "no-shared-network", want: []AuditKind{KindNoSharedNetwork}, errors: true},
		{fixture: "cloudflared-internal-network", want: []AuditKind{KindCloudflaredIsolated}, errors: true},
		{fixture: "cloudflared-missing", want: []AuditKind{KindCloudflaredMissing}},
		{fixture: "gate-violation", want: []AuditKind{KindGateViolation}, exposure: true, errors: true},
		{fixture: "unknown-origin", want: []AuditKind{KindUnknownOrigin}},
		{fixture: "unknown-origin", strict: true, want: []AuditKind{KindUnknownOrigin}, errors: true},
		{fixture: "inactive-origin", want: []AuditKind{KindInactiveOrigin}, errors: true},
		{fixture: "invalid-label", want: []AuditKind{KindInvalidLabel, KindInvalidLabel}, errors: true},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			r := auditFixture(t, tt.fixture, tt.strict)
			if got := slices.Sorted(slices.Values(auditKinds(r))); !slices.Equal(got, tt.want) {
				t.Errorf("kinds = %v, want %v", got, tt.want)
			}
			if r.Exposes() != tt.exposure {
				t.Errorf("Exposes() = %v, want %v", r.Exposes(), tt.exposure)
			}
			if r.HasErrors() != tt.errors {
				t.Errorf("HasErrors() = %v, want %v", r.HasErrors(), tt.errors)
			}
		})
	}
}

func TestAuditFindingsHaveLines(t *testing.T) {
	r := auditFixture(t, "published-port", false)
	for _, f := range r.Findings {
		if f.File != "compose.yaml" || f.Line == 0 {
			t.Errorf("%s finding on %q at %s:%d, want a line in compose.yaml", f.Kind, f.Service, f.File, f.Line)
		}
	}
}

func TestAuditLiveRules(t *testing.T) {
	p := loadComposeFixture(t, filepath.Join("..", "testdata", "audit", "clean"))
	gate, err := NewGate(p, GateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		live     []Rule
		want     []AuditKind
		exposure bool
	}{
		{name: "service name", live: []Rule{{Hostname: "a.example.com", Service: "http://db:5432"}}, want: []AuditKind{KindLiveInternal}, exposure: true},
		{name: "bastion", live: []Rule{{Hostname: "a.example.com", Service: "bastion"}}, want: []AuditKind{KindLiveInternal}, exposure: true},
		{name: "under revocation of every host", live: []Rule{RevocationRule(""), {Hostname: "a.example.com", Service: "http://db:5432"}}, want: []AuditKind{KindLiveRevokedViolations}},
		{name: "under wildcard revocation", live: []Rule{RevocationRule("*.example.com"), {Hostname: "a.example.com", Service: "http://db"}}, want: []AuditKind{KindLiveRevokedViolations}},
		{name: "revocation of another host", live: []Rule{RevocationRule("b.example.com"), {Hostname: "a.example.com", Service: "http://db"}}, want: []AuditKind{KindLiveInternal}, exposure: true},
		{name: "undefined name", live: []Rule{{Hostname: "a.example.com", Service: "http://wiki:3000"}}, want: []AuditKind{KindLiveUndefinedService}},
		{name: "outside host", live: []Rule{{Hostname: "a.example.com", Service: "https://partner.example.net"}}},
		{name: "localhost", live: []Rule{{Hostname: "a.example.com", Service: "http://localhost:8080"}}},
		{name: "status and catch-all", live: []Rule{{Hostname: "a.example.com", Service: "http_status:410"}, {Service: DefaultCatchAll}}},
		{name: "routed service", live: []Rule{{Hostname: "web.example.com", Service: "http://web:80"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Audit(AuditInput{Project: p, Gate: gate, LiveChecked: true, Target: "file", Live: tt.live})
			if err != nil {
				t.Fatal(err)
			}
			if got := auditKinds(r); !slices.Equal(got, tt.want) {
				t.Errorf("kinds = %v, want %v", got, tt.want)
			}
			if r.Exposes() != tt.exposure {
				t.Errorf("Exposes() = %v, want %v", r.Exposes(), tt.exposure)
			}
		})
	}
}

func TestAuditLiveNote(t *testing.T) {
	p := loadComposeFixture(t, filepath.Join("..", "testdata", "audit", "clean"))
	gate, _ := NewGate(p, GateOptions{})
	r, err := Audit(AuditInput{Project: p, Gate: gate, LiveNote: "live rules not checked: no token"})
	if err != nil {
		t.Fatal(err)
	}
	if got := auditKinds(r); !slices.Equal(got, []AuditKind{KindLiveNotChecked}) {
		t.Errorf("kinds = %v, want one live-not-checked note", got)
	}
	if r.HasErrors() || r.Summary.Notes != 1 {
		t.Errorf("summary = %+v, want one note and no errors", r.Summary)
	}
}

func TestAuditCloudflaredSettingUnknown(t *testing.T) {
	p := loadComposeFixture(t, filepath.Join("..", "testdata", "audit", "clean"))
	gate, _ := NewGate(p, GateOptions{})
	_, err := Audit(AuditInput{Project: p, Gate: gate, CloudflaredService: "tunnel"})
	if !errors.Is(err, ErrCloudflaredServiceNotFound) {
		t.Errorf("err = %v, want ErrCloudflaredServiceNotFound", err)
	}
}

func TestCloudflaredImageMatch(t *testing.T) {
	tests := []struct {
		image string
		want  bool
	}{
		{"cloudflare/cloudflared", true},
		{"cloudflare/cloudflared:2025.8.1", true},
		{"docker.io/cloudflare/cloudflared:latest", true},
		{"mirror.example.com:5000/cloudflare/cloudflared@sha256:0123", true},
		{"Cloudflare/Cloudflared", true},
		{"cloudflare/cloudflared-exporter", false},
		{"example/cloudflared", false},
		{"notcloudflare/cloudflared", false},
	}
	for _, tt := range tests {
		if got := cloudflaredImage.MatchString(tt.image); got != tt.want {
			t.Errorf("match(%q) = %v, want %v", tt.image, got, tt.want)
		}
	}
}

func TestDescribeHostIP(t *testing.T) {
	tests := map[string]string{
		"":           "every host interface",
		"0.0.0.0":    "every host interface (0.0.0.0)",
		"::":         "every host interface (::)",
		"[::]":       "every host interface (::)",
		"127.0.0.1":  "the loopback address 127.0.0.1 only",
		"::1":        "the loopback address ::1 only",
		"192.0.2.10": "the one address 192.0.2.10",
	}
	for in, want := range tests {
		if got := describeHostIP(in); got != want {
			t.Errorf("describeHostIP(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestComposeServiceNetworks(t *testing.T) {
	services := map[string]types.ServiceConfig{
		"plain":   {Name: "plain"},
		"bridged": {Name: "bridged", ContainerSpec: types.ContainerSpec{NetworkMode: "bridge"}},
		"two":     {Name: "two", ContainerSpec: types.ContainerSpec{Networks: map[string]*types.ServiceNetworkConfig{"b": nil, "a": nil}}},
		"host":    {Name: "host", ContainerSpec: types.ContainerSpec{NetworkMode: "host"}},
		"none":    {Name: "none", ContainerSpec: types.ContainerSpec{NetworkMode: "none"}},
		"sidecar": {Name: "sidecar", ContainerSpec: types.ContainerSpec{NetworkMode: "service:two"}},
		"loop":    {Name: "loop", ContainerSpec: types.ContainerSpec{NetworkMode: "service:loop"}},
		"foreign": {Name: "foreign", ContainerSpec: types.ContainerSpec{NetworkMode: "container:abc"}},
	}
	tests := []struct {
		service string
		want    []string
		known   bool
	}{
		{"plain", []string{"default"}, true},
		{"bridged", []string{"bridge"}, true},
		{"two", []string{"a", "b"}, true},
		{"host", []string{"host"}, true},
		{"none", nil, true},
		{"sidecar", []string{"a", "b"}, true},
		{"loop", nil, false},
		{"foreign", nil, false},
		{"missing", nil, false},
	}
	for _, tt := range tests {
		got, known := composeServiceNetworks(services, tt.service)
		if !slices.Equal(got, tt.want) || known != tt.known {
			t.Errorf("composeServiceNetworks(%q) = %v, %v; want %v, %v", tt.service, got, known, tt.want, tt.known)
		}
	}
}

func TestComposePositionsFind(t *testing.T) {
	dir := t.TempDir()
	base := filepath.Join(dir, "compose.yaml")
	override := filepath.Join(dir, "compose.override.yaml")
	writeAuditTestFile(t, base, "services:\n  web:\n    image: nginx\n    ports:\n      - \"80:80\"\n      - \"443:443\"\n  db:\n    image: postgres\n")
	writeAuditTestFile(t, override, "services:\n  web:\n    network_mode: host\n")
	c := LoadComposePositions([]string{base, override, filepath.Join(dir, "missing.yaml")})

	tests := []struct {
		service  string
		path     []string
		wantFile string
		wantLine int
	}{
		{"web", []string{"ports", "1"}, base, 6},
		{"web", []string{"ports"}, base, 4},
		{"web", []string{"network_mode"}, override, 3},
		{"web", []string{"ports", "7"}, override, 0},
		{"db", []string{"networks"}, base, 0},
		{"cache", []string{"image"}, "", 0},
	}
	for _, tt := range tests {
		file, line := c.Find(tt.service, tt.path...)
		if file != tt.wantFile || line != tt.wantLine {
			t.Errorf("Find(%q, %v) = %s:%d, want %s:%d", tt.service, tt.path, file, line, tt.wantFile, tt.wantLine)
		}
	}
}

func writeAuditTestFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestAuditFindingsSorted(t *testing.T) {
	findings := sortFindings([]AuditFinding{
		{Severity: SeverityNote, Message: "n"},
		{Severity: SeverityWarning, File: "a.yaml", Line: 3, Message: "w"},
		{Severity: SeverityError, File: "b.yaml", Line: 1, Message: "e2"},
		{Severity: SeverityError, File: "a.yaml", Line: 9, Message: "e1"},
		{Severity: SeverityError, File: "a.yaml", Line: 9, Message: "e1"},
	})
	var got []string
	for _, f := range findings {
		got = append(got, f.Message)
	}
	if want := []string{"e1", "e2", "w", "n"}; !slices.Equal(got, want) {
		t.Errorf("order = %v, want %v (repeats dropped)", got, want)
	}
}
