package ingress

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/hashicorp/go-multierror"
)

// loadGateFixture loads testdata/gate/NAME/compose.yaml through compose-go
// as project "gate", with no profile active.
func loadGateFixture(t *testing.T, name string) *types.Project {
	t.Helper()
	return loadNamedComposeFixture(t, filepath.Join("..", "testdata", "gate", name), "gate")
}

func newFixtureGate(t *testing.T, name string) *Gate {
	t.Helper()
	g, err := NewGate(loadGateFixture(t, name), GateOptions{File: "compose.yaml"})
	if err != nil {
		t.Fatalf("NewGate(%s): %v", name, err)
	}
	return g
}

func match(service, name, how string) *GateMatch {
	return &GateMatch{InternalService: service, MatchedName: name, How: how}
}

func TestGateCheckOrigin(t *testing.T) {
	tests := []struct {
		fixture string
		origin  string
		want    *GateMatch // nil: the origin must pass
	}{
		// Every kind of name, in any case and with a trailing dot.
		{"names", "http://db:5432", match("db", "db", HowServiceName)},
		{"names", "http://DB.:5432", match("db", "db", HowServiceName)},
		{"names", "tcp://primary-db:5432", match("db", "primary-db", HowContainerName)},
		{"names", "http://PG", match("db", "pg", HowHostname)},
		{"names", "http://pg.internal.example.", match("db", "pg.internal.example", HowHostname)},
		{"names", "http://database:5432", match("db", "database", HowNetworkAlias)},
		{"names", "http://postgres.local", match("db", "postgres.local", HowNetworkAlias)},
		{"names", "http://sql:5432", match("db", "sql", HowLinkAlias)},
		{"names", "http://legacy-db:5432", match("db", "legacy-db", HowLinkAlias)},
		{"names", "http://gate-db-1:5432", match("db", "gate-db-1", HowDefaultContainerName)},
		{"names", "http://gate_db_3:5432", match("db", "gate_db_3", HowDefaultContainerName)},
		{"names", "http://Gate-DB-12.", match("db", "gate-db-12", HowDefaultContainerName)},
		{"names", "http://db.gate_back:5432", match("db", "db.gate_back", HowServiceName)},
		{"names", "http://database.back", match("db", "database.back", HowNetworkAlias)},
		{"names", "http://user@db:5432", match("db", "db", HowServiceName)},
		{"names", "http://db:5432 ", match("db", "db", HowServiceName)},
		{"names", "http://db:54x32", match("db", "db", HowServiceName)},
		{"names", "http://gate-db-0:5432", nil},
		{"names", "http://gate-web-1:80", nil},
		{"names", "http://other-db-1:80", nil},
		{"names", "http://web:80", nil},
		{"names", "http://kv:6379", nil},
		{"names", "http://cache:6379", nil},
		{"names", "http://dbx:5432", nil},
		{"names", "http_status:404", nil},
		{"names", "hello_world", nil},
		{"names", "unix:/run/db.sock", nil},
		{"names", "unix+tls:/run/db.sock", nil},
		{"names", "db:5432", nil},
		{"names", "bastion", match("db", "bastion", HowAnyHost)},
		{"names", "SOCKS-PROXY", match("db", "SOCKS-PROXY", HowAnyHost)},

		// Static addresses in every spelling.
		{"addresses", "http://172.20.0.5:5432", match("db", "172.20.0.5", HowStaticIP)},
		{"addresses", "http://2886991877:5432", match("db", "172.20.0.5", HowStaticIP)},
		{"addresses", "http://0xac140005:5432", match("db", "172.20.0.5", HowStaticIP)},
		{"addresses", "http://0XAC140005:5432", match("db", "172.20.0.5", HowStaticIP)},
		{"addresses", "http://0xac.0x14.0.5:5432", match("db", "172.20.0.5", HowStaticIP)},
		{"addresses", "http://0254.024.0.05:5432", match("db", "172.20.0.5", HowStaticIP)},
		{"addresses", "http://172.20.5:5432", match("db", "172.20.0.5", HowStaticIP)},
		{"addresses", "http://172.1310725:5432", match("db", "172.20.0.5", HowStaticIP)},
		{"addresses", "http://172.20.0.5.:5432", match("db", "172.20.0.5", HowStaticIP)},
		{"addresses", "http://[::ffff:172.20.0.5]:5432", match("db", "172.20.0.5", HowStaticIP)},
		{"addresses", "http://[::ffff:ac14:5]:5432", match("db", "172.20.0.5", HowStaticIP)},
		{"addresses", "http://[::172.20.0.5]:5432", match("db", "172.20.0.5", HowStaticIP)},
		{"addresses", "http://[64:ff9b::ac14:5]:5432", match("db", "172.20.0.5", HowStaticIP)},
		{"addresses", "http://[FD00:20:0::5]:5432", match("db", "fd00:20::5", HowStaticIP)},
		{"addresses", "http://[fd00:20::5%25eth0]:5432", match("db", "fd00:20::5", HowStaticIP)},
		{"addresses", "http://dbhost:5432", match("db", "172.20.0.5", HowStaticIP)},
		// Leading zeros are octal to inet_aton and decimal to others:
		// 172.020.0.5 is 172.16.0.5 or 172.20.0.5, and either is refused.
		{"addresses", "http://172.020.0.5:5432", match("db", "172.20.0.5", HowStaticIP)},
		// Subnet addresses: refused unless a static address of a service
		// that is not internal-only.
		{"addresses", "http://172.20.0.99:80", match("db", "172.20.0.99", HowSubnetAddress)},
		{"addresses", "http://2886991971:80", match("db", "172.20.0.99", HowSubnetAddress)},
		{"addresses", "http://[fd00:20::99]:80", match("db", "fd00:20::99", HowSubnetAddress)},
		{"addresses", "http://172.20.0.10:80", nil},
		{"addresses", "http://10.30.0.7:80", nil},
		{"addresses", "http://192.0.2.10:80", nil},

		// Gateway and host origins on ports db publishes.
		{"gateway", "tcp://host.docker.internal:5432", match("db", "host.docker.internal:5432", HowGatewayPort)},
		{"gateway", "tcp://gateway.docker.internal:5432", match("db", "gateway.docker.internal:5432", HowGatewayPort)},
		{"gateway", "tcp://localhost:5432", match("db", "localhost:5432", HowGatewayPort)},
		{"gateway", "tcp://LOCALHOST.:5432", match("db", "localhost:5432", HowGatewayPort)},
		{"gateway", "tcp://127.0.0.1:5432", match("db", "127.0.0.1:5432", HowGatewayPort)},
		{"gateway", "tcp://127.9.8.7:5432", match("db", "127.9.8.7:5432", HowGatewayPort)},
		{"gateway", "tcp://2130706433:5432", match("db", "2130706433:5432", HowGatewayPort)},
		{"gateway", "tcp://[::1]:5432", match("db", "[::1]:5432", HowGatewayPort)},
		{"gateway", "tcp://0.0.0.0:5432", match("db", "0.0.0.0:5432", HowGatewayPort)},
		{"gateway", "tcp://:5432", match("db", ":5432", HowGatewayPort)},
		{"gateway", "tcp://172.17.0.1:5432", match("db", "172.17.0.1:5432", HowGatewayPort)},
		{"gateway", "tcp://10.40.0.254:5432", match("db", "10.40.0.254:5432", HowGatewayPort)},
		{"gateway", "tcp://10.41.0.1:5432", match("db", "10.41.0.1:5432", HowGatewayPort)},
		{"gateway", "tcp://docker-host:5432", match("db", "docker-host:5432", HowGatewayPort)},
		{"gateway", "http://localhost:8005", match("db", "localhost:8005", HowGatewayPort)},
		{"gateway", "http://localhost:8010", match("db", "localhost:8010", HowGatewayPort)},
		{"gateway", "http://localhost:6000", match("db", "localhost:6000", HowGatewayPort)},
		{"gateway", "http://app.localhost:6000", match("db", "app.localhost:6000", HowGatewayPort)},
		{"gateway", "tcp://localhost", match("db", "localhost", HowGatewayPort)},
		{"gateway", "http://localhost:8011", nil},
		{"gateway", "http://localhost:8080", nil},
		{"gateway", "http://localhost", nil},
		{"gateway", "https://host.docker.internal", nil},
		{"gateway", "tcp://10.40.0.253:5432", match("db", "10.40.0.253", HowSubnetAddress)},
		{"gateway", "tcp://192.0.2.1:5432", nil},

		// Shared network namespaces.
		{"namespace", "http://sidecar:80", match("db", "sidecar", HowNetworkNamespace)},
		{"namespace", "http://legacy:80", match("db", "legacy", HowNetworkNamespace)},
		{"namespace", "http://the-db:80", match("db", "the-db", HowContainerName)},
		{"namespace", "http://vpn:8080", match("admin", "vpn", HowNetworkNamespace)},
		{"namespace", "http://localhost:9090", match("admin", "localhost:9090", HowGatewayPort)},
		{"namespace", "http://web:80", nil},

		// An internal-only service in an inactive profile counts.
		{"profiles", "http://debug:80", match("debug", "debug", HowServiceName)},
		{"profiles", "tcp://host.docker.internal:7000", match("debug", "host.docker.internal:7000", HowGatewayPort)},
		{"profiles", "http://web:80", nil},

		{"deploylabels", "http://vault:8200", match("vault", "vault", HowServiceName)},
		{"deploylabels", "http://web:80", nil},

		{"nointernal", "http://web:80", nil},
		{"nointernal", "http://localhost:8080", nil},
		{"nointernal", "bastion", nil},
	}

	gates := map[string]*Gate{}
	for _, tt := range tests {
		t.Run(tt.fixture+"/"+tt.origin, func(t *testing.T) {
			g := gates[tt.fixture]
			if g == nil {
				g = newFixtureGate(t, tt.fixture)
				gates[tt.fixture] = g
			}

			got, ok := g.CheckOrigin(tt.origin)
			if tt.want == nil {
				if ok {
					t.Fatalf("CheckOrigin(%q) = %+v, want no match", tt.origin, got)
				}
				return
			}
			if !ok {
				t.Fatalf("CheckOrigin(%q) = no match, want %+v", tt.origin, *tt.want)
			}
			if got != *tt.want {
				t.Errorf("CheckOrigin(%q) = %+v, want %+v", tt.origin, got, *tt.want)
			}
		})
	}
}

func TestGateInternal(t *testing.T) {
	tests := []struct {
		fixture string
		want    []string
	}{
		{"names", []string{"db"}},
		{"namespace", []string{"admin", "db", "legacy", "sidecar", "vpn"}},
		{"profiles", []string{"debug"}},
		{"deploylabels", []string{"vault"}},
		{"nointernal", nil},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			g := newFixtureGate(t, tt.fixture)
			if got := g.Internal(); !slices.Equal(got, tt.want) {
				t.Errorf("Internal() = %q, want %q", got, tt.want)
			}
			for _, name := range tt.want {
				if !g.IsInternal(name) {
					t.Errorf("IsInternal(%q) = false, want true", name)
				}
			}
			if g.IsInternal("web") {
				t.Errorf("IsInternal(%q) = true, want false", "web")
			}
		})
	}
}

func TestGateLabelErrors(t *testing.T) {
	p := loadGateFixture(t, "labelerrors")
	sources := func(service, key string) (string, int) {
		if service == "public" {
			return "", 0
		}
		return "compose.override.yaml", 7
	}

	g, err := NewGate(p, GateOptions{Sources: sources, File: "compose.yaml"})
	if err == nil {
		t.Fatal("NewGate: no error, want invalid security labels")
	}
	if !errors.Is(err, ErrSecurityLabel) {
		t.Errorf("errors.Is(err, ErrSecurityLabel) = false for %v", err)
	}

	var merr *multierror.Error
	if !errors.As(err, &merr) {
		t.Fatalf("error %T is not a *multierror.Error", err)
	}
	var got []SecurityLabelError
	for _, e := range merr.Errors {
		var labelErr *SecurityLabelError
		if !errors.As(e, &labelErr) {
			t.Fatalf("error %T is not a *SecurityLabelError", e)
		}
		got = append(got, *labelErr)
	}
	want := []SecurityLabelError{
		{File: "compose.override.yaml", Line: 7, Service: "typo", Key: "security", Value: "internal"},
		{File: "compose.yaml", Service: "public", Key: "Security", Value: "public"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("label errors = %+v, want %+v", got, want)
	}

	if g == nil {
		t.Fatal("NewGate returned no gate with the label errors")
	}
	// Fail closed: services with an invalid label count as internal-only.
	wantInternal := []string{"listform", "ok", "public", "typo"}
	if internal := g.Internal(); !slices.Equal(internal, wantInternal) {
		t.Errorf("Internal() = %q, want %q", internal, wantInternal)
	}

	goldenText := strings.Join([]string{merr.Errors[0].Error(), merr.Errors[1].Error()}, "\n") + "\n"
	compareGateGolden(t, "labelerrors/errors.golden", goldenText)
}

func TestGateServiceFor(t *testing.T) {
	tests := []struct {
		fixture string
		origin  string
		want    string // "": no service
	}{
		{"names", "http://db:5432", "db"},
		{"names", "http://kv:6379", "cache"},
		{"names", "http://gate-web-1", "web"},
		{"names", "http://Primary-DB.", "db"},
		{"names", "http://sql", "db"},
		{"names", "http://unknown:80", ""},
		{"names", "http_status:404", ""},
		{"names", "bastion", ""},
		{"addresses", "http://172.20.0.10:80", "web"},
		{"addresses", "http://0xac14000a:80", "web"},
		{"addresses", "http://172.20.0.99:80", ""},
		{"gateway", "http://localhost:8080", "web"},
		{"gateway", "tcp://host.docker.internal:5432", "db"},
		{"gateway", "http://localhost:9999", ""},
		{"namespace", "http://sidecar", "sidecar"},
		{"nointernal", "http://localhost:12345", "api"},
		{"nointernal", "http://localhost:8080", "web"},
	}
	for _, tt := range tests {
		t.Run(tt.fixture+"/"+tt.origin, func(t *testing.T) {
			g := newFixtureGate(t, tt.fixture)
			got, ok := g.ServiceFor(tt.origin)
			if ok != (tt.want != "") {
				t.Fatalf("ServiceFor(%q) = %q, %t, want %q", tt.origin, got, ok, tt.want)
			}
			if got != tt.want {
				t.Errorf("ServiceFor(%q) = %q, want %q", tt.origin, got, tt.want)
			}
		})
	}
}

func TestGateCheckRoutes(t *testing.T) {
	g := newFixtureGate(t, "namespace")
	source := func(line int, service string) Source {
		return Source{File: "compose.yaml", Line: line, Service: service, Key: "portcullis.hostname"}
	}
	routes := []Route{
		{Service: "web", Hostname: "b.example.com", Origin: "http://web:80", Source: source(30, "web")},
		{Service: "web", Name: "admin", Hostname: "db.example.com", Path: "^(?:/admin)", Origin: "http://db:5432", Source: source(31, "web")},
		{Service: "db", Hostname: "db.example.com", Origin: "http://web:80", Source: source(12, "db")},
		{Service: "sidecar", Hostname: "side.example.com", Origin: "http://sidecar:80", Source: source(20, "sidecar")},
		{Service: "web", Hostname: "vpn.example.com", Origin: "http://vpn:8080", Source: source(31, "web")},
		{Service: "web", Hostname: "ssh.example.com", Origin: "ssh://web:22",
			OriginRequest: OriginRequest{"bastionMode": true}, Source: source(33, "web")},
		{Service: "web", Hostname: "status.example.com", Origin: "http_status:204", Source: source(34, "web")},
		{Service: "web", Hostname: "host.example.com", Origin: "http://localhost:9090", Source: Source{Service: "web"}},
	}

	got := g.CheckRoutes(routes)
	want := []Violation{
		{Service: "web", Hostname: "host.example.com", Origin: "http://localhost:9090",
			InternalService: "admin", MatchedName: "localhost:9090", How: HowGatewayPort, Source: Source{Service: "web"}},
		{Service: "db", Hostname: "db.example.com", Origin: "http://web:80",
			InternalService: "db", MatchedName: "db", How: HowServiceItself, Source: source(12, "db")},
		{Service: "sidecar", Hostname: "side.example.com", Origin: "http://sidecar:80",
			InternalService: "db", MatchedName: "sidecar", How: HowServiceItself, Source: source(20, "sidecar")},
		{Service: "web", Route: "admin", Hostname: "db.example.com", Path: "^(?:/admin)", Origin: "http://db:5432",
			InternalService: "db", MatchedName: "db", How: HowServiceName, Source: source(31, "web")},
		{Service: "web", Hostname: "vpn.example.com", Origin: "http://vpn:8080",
			InternalService: "admin", MatchedName: "vpn", How: HowNetworkNamespace, Source: source(31, "web")},
		{Service: "web", Hostname: "ssh.example.com", Origin: "ssh://web:22",
			InternalService: "admin, db", MatchedName: "ssh://web:22", How: HowAnyHost, Source: source(33, "web")},
	}
	if len(got) != len(want) {
		t.Fatalf("CheckRoutes returned %d violations, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if !violationsEqual(got[i], want[i]) {
			t.Errorf("violation %d = %+v, want %+v", i, got[i], want[i])
		}
	}

	var text strings.Builder
	for _, v := range got {
		text.WriteString(v.Error() + "\n")
	}
	compareGateGolden(t, "namespace/violations.golden", text.String())
}

func TestGateCheckRoutesOrderIndependent(t *testing.T) {
	g := newFixtureGate(t, "names")
	routes := []Route{
		{Service: "web", Hostname: "a.example.com", Origin: "http://db", Source: Source{File: "b.yaml", Line: 1}},
		{Service: "web", Hostname: "b.example.com", Origin: "http://sql", Source: Source{File: "a.yaml", Line: 9}},
		{Service: "web", Hostname: "c.example.com", Origin: "http://pg", Source: Source{File: "a.yaml", Line: 2}},
		{Service: "cache", Hostname: "c.example.com", Origin: "http://database", Source: Source{File: "a.yaml", Line: 2}},
	}
	first := g.CheckRoutes(routes)
	slices.Reverse(routes)
	second := g.CheckRoutes(routes)

	wantHosts := []string{"cache c.example.com", "web c.example.com", "web b.example.com", "web a.example.com"}
	var gotHosts []string
	for _, v := range first {
		gotHosts = append(gotHosts, v.Service+" "+v.Hostname)
	}
	if !slices.Equal(gotHosts, wantHosts) {
		t.Errorf("order = %q, want %q", gotHosts, wantHosts)
	}
	if !slices.EqualFunc(first, second, violationsEqual) {
		t.Errorf("reversed input gives %+v, want %+v", second, first)
	}
}

func TestNewGateNilProject(t *testing.T) {
	if _, err := NewGate(nil, GateOptions{}); err == nil {
		t.Error("NewGate(nil) returned no error")
	}
}

func violationsEqual(a, b Violation) bool {
	return a == b
}

func compareGateGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("..", "testdata", "gate", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatalf("write golden file: %v", err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if got != string(want) {
		t.Errorf("%s differs:\n--- got\n%s--- want\n%s", path, got, want)
	}
}
