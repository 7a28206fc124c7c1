package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/portcullis-dev/portcullis/ingress"
	portsync "github.com/portcullis-dev/portcullis/sync"
	"github.com/portcullis-dev/portcullis/tunnel/emulator"
)

const (
	revokeAccount = "fedcba9876543210fedcba9876543210"
	revokeToken   = "made-up-revoke-token"
)

// revokeWorld is an emulated account with the zone example.com and one
// remotely-managed tunnel, and a state directory for the audit log.
type revokeWorld struct {
	e      *emulator.Emulator
	base   string
	zone   emulator.Zone
	tunnel emulator.Tunnel
	state  string
}

func newRevokeWorld(t *testing.T, ingressJSON string) *revokeWorld {
	t.Helper()
	e := emulator.New()
	e.AddToken(revokeToken, emulator.AllPermissions()...)
	w := &revokeWorld{e: e, state: t.TempDir()}
	w.zone = e.AddZone(revokeAccount, "example.com")
	w.tunnel = e.AddTunnel(revokeAccount, "incident", "cloudflare")
	if ingressJSON != "" {
		e.SetConfig(w.tunnel.ID, json.RawMessage(`{"ingress":`+ingressJSON+`}`))
	}
	w.base = e.Start(t)
	return w
}

func (w *revokeWorld) env(extra ...string) []string {
	return append([]string{
		"PORTCULLIS_TARGET=api",
		"PORTCULLIS_CLOUDFLARE_API_BASE_URL=" + w.base,
		"CLOUDFLARE_ACCOUNT_ID=" + revokeAccount,
		"PORTCULLIS_CLOUDFLARE_TUNNEL=" + w.tunnel.ID,
		"CLOUDFLARE_API_TOKEN=" + revokeToken,
		"XDG_STATE_HOME=" + w.state,
		"PORTCULLIS_ACTOR=oncall-alice",
	}, extra...)
}

// rules returns the live ingress rules as "hostname|path|service".
func (w *revokeWorld) rules(t *testing.T) []string {
	t.Helper()
	_, raw := w.e.Config(w.tunnel.ID)
	var cfg struct {
		Ingress []ingress.Rule `json:"ingress"`
	}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		t.Fatalf("decode emulator config: %v", err)
	}
	out := make([]string, len(cfg.Ingress))
	for i, r := range cfg.Ingress {
		out[i] = r.Hostname + "|" + r.Path + "|" + r.Service
	}
	return out
}

func (w *revokeWorld) calls() []string {
	var out []string
	for _, c := range w.e.Calls() {
		out = append(out, c.Method+" "+c.Path)
	}
	return out
}

func (w *revokeWorld) cname(name string) {
	w.e.AddRecord(w.zone.ID, emulator.Record{Type: "CNAME", Name: name, Content: w.tunnel.ID + ".cfargotunnel.com", Proxied: true})
}

// auditEntries reads the audit log under dir/portcullis.
func auditEntries(t *testing.T, state string) []portsync.AuditEntry {
	t.Helper()
	f, err := os.Open(filepath.Join(state, "portcullis", portsync.AuditLogFile))
	if err != nil {
		t.Fatalf("open audit log: %v", err)
	}
	defer f.Close()
	var out []portsync.AuditEntry
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e portsync.AuditEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("audit line %q: %v", sc.Text(), err)
		}
		out = append(out, e)
	}
	return out
}

const (
	revRule = "|" + ingress.RevocationPath + "|" + ingress.RevocationService
	// liveTwoHosts has two routes, a user's own 503 maintenance rule and
	// the catch-all.
	liveTwoHosts = `[
		{"hostname":"app.example.com","service":"http://app:8080","originRequest":{"noTLSVerify":true}},
		{"hostname":"wiki.example.com","service":"http://wiki:3000"},
		{"hostname":"old.example.com","service":"http_status:503"},
		{"service":"http_status:404"}]`
)

var noWatch = []string{"--yes", "--watch", "0"}

func TestRevokeHostCutsWithSecondCall(t *testing.T) {
	w := newRevokeWorld(t, liveTwoHosts)
	w.cname("app.example.com")
	dir := t.TempDir()

	r := runBinary(t, dir, w.env(), append([]string{"revoke", "app.example.com", "--reason", "leaked admin panel"}, noWatch...)...)
	if r.code != 0 {
		t.Fatalf("exit = %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	want := []string{
		"app.example.com" + revRule,
		"app.example.com||http://app:8080",
		"wiki.example.com||http://wiki:3000",
		"old.example.com||http_status:503",
		"||http_status:404",
	}
	if got := w.rules(t); !slices.Equal(got, want) {
		t.Errorf("rules after revoke:\n%q\nwant\n%q", got, want)
	}

	calls := w.calls()
	config := "/accounts/" + revokeAccount + "/cfd_tunnel/" + w.tunnel.ID + "/configurations"
	// The cut is the 2nd call and the read-back the 3rd; the DNS check
	// follows with one zones listing and one record listing.
	wantCalls := []string{"GET " + config, "PUT " + config, "GET " + config, "GET /zones", "GET /zones/" + w.zone.ID + "/dns_records"}
	if !slices.Equal(calls, wantCalls) {
		t.Errorf("calls = %q, want %q", calls, wantCalls)
	}
	if !strings.Contains(r.stdout, "IN FORCE") || !strings.Contains(r.stdout, "points at this tunnel") {
		t.Errorf("stdout does not confirm the cut and the DNS:\n%s", r.stdout)
	}
}

func TestRevokeKeepsRawRulesVerbatim(t *testing.T) {
	w := newRevokeWorld(t, liveTwoHosts)
	r := runBinary(t, t.TempDir(), w.env(), append([]string{"revoke", "wiki.example.com"}, noWatch...)...)
	if r.code != 0 {
		t.Fatalf("exit = %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	_, raw := w.e.Config(w.tunnel.ID)
	if !strings.Contains(string(raw), `"originRequest":{"noTLSVerify":true}`) {
		t.Errorf("originRequest of the untouched rule changed:\n%s", raw)
	}
}

func TestRevokeMaintenanceRuleIsNotRevocation(t *testing.T) {
	w := newRevokeWorld(t, liveTwoHosts)
	r := runBinary(t, t.TempDir(), w.env(), append([]string{"revoke", "old.example.com"}, noWatch...)...)
	if r.code != 0 || strings.Contains(r.stdout, "Already revoked") {
		t.Fatalf("exit = %d, the maintenance rule was taken for a revocation\n%s%s", r.code, r.stdout, r.stderr)
	}
	if got := w.rules(t); got[0] != "old.example.com"+revRule {
		t.Errorf("first rule = %q, want the revocation of old.example.com", got[0])
	}

	restore := runBinary(t, t.TempDir(), w.env(), "restore", "--all", "--yes", "--force")
	if restore.code != 0 {
		t.Fatalf("restore exit = %d\n%s%s", restore.code, restore.stdout, restore.stderr)
	}
	if got := w.rules(t); !slices.Contains(got, "old.example.com||http_status:503") || len(got) != 4 {
		t.Errorf("restore --all removed the maintenance rule: %q", got)
	}
}

func TestRevokeAllWithoutCompose(t *testing.T) {
	w := newRevokeWorld(t, liveTwoHosts)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "compose.yaml"), "services: [this is not compose\n")

	r := runBinary(t, dir, w.env(), append([]string{"revoke", "--all", "--reason", "breach"}, noWatch...)...)
	if r.code != 0 {
		t.Fatalf("exit = %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	got := w.rules(t)
	if got[0] != revRule || got[len(got)-1] != "||http_status:404" || len(got) != 5 {
		t.Errorf("rules after revoke --all = %q", got)
	}
	for _, host := range []string{"app.example.com", "wiki.example.com", "old.example.com"} {
		if !strings.Contains(r.stdout, host) {
			t.Errorf("revoke --all does not list %s as cut:\n%s", host, r.stdout)
		}
	}
}

func TestRevokeRepeatIsIdempotent(t *testing.T) {
	w := newRevokeWorld(t, liveTwoHosts)
	dir := t.TempDir()
	first := runBinary(t, dir, w.env(), append([]string{"revoke", "app.example.com", "--reason", "first"}, noWatch...)...)
	if first.code != 0 {
		t.Fatalf("first exit = %d\n%s%s", first.code, first.stdout, first.stderr)
	}
	w.e.ResetCalls()
	again := runBinary(t, dir, w.env(), append([]string{"revoke", "app.example.com", "--reason", "second"}, noWatch...)...)
	if again.code != 0 || !strings.Contains(again.stdout, "Already revoked") {
		t.Errorf("repeat exit = %d\n%s%s", again.code, again.stdout, again.stderr)
	}
	for _, c := range w.calls() {
		if strings.HasPrefix(c, "PUT ") {
			t.Errorf("repeat revoke wrote: %s", c)
		}
	}
	if n := strings.Count(strings.Join(w.rules(t), "\n"), revRule); n != 1 {
		t.Errorf("%d revocation rules, want 1", n)
	}

	unrevoked := runBinary(t, dir, w.env(), "restore", "wiki.example.com", "--yes")
	if unrevoked.code != 0 || !strings.Contains(unrevoked.stdout, "not revoked") {
		t.Errorf("restore of a host that is not revoked: exit %d\n%s%s", unrevoked.code, unrevoked.stdout, unrevoked.stderr)
	}

	entries := auditEntries(t, w.state)
	if len(entries) != 3 {
		t.Fatalf("%d audit entries, want 3 (revoke, repeat, restore of a host not revoked)", len(entries))
	}
	if entries[0].Result != portsync.AuditInForce || entries[1].Result != portsync.AuditUnchanged || entries[2].Result != portsync.AuditUnchanged {
		t.Errorf("results = %q, %q, %q", entries[0].Result, entries[1].Result, entries[2].Result)
	}
	if entries[2].Action != "restore" || !slices.Equal(entries[2].Hostnames, []string{"wiki.example.com"}) {
		t.Errorf("no-op restore entry = %+v", entries[2])
	}
	e := entries[0]
	if e.Actor != "oncall-alice" || e.Action != "revoke" || e.Reason != "first" || e.Target != "api" || e.Tunnel != w.tunnel.ID {
		t.Errorf("audit entry = %+v", e)
	}
	if e.VersionBefore != "1" || e.VersionAfter != "2" || !slices.Equal(e.Hostnames, []string{"app.example.com"}) {
		t.Errorf("audit versions or hostnames = %+v", e)
	}
}

func TestRevokeFailedWriteNotInForce(t *testing.T) {
	w := newRevokeWorld(t, liveTwoHosts)
	w.e.Fail(emulator.Fault{Method: "PUT", PathSuffix: "/configurations", Status: 429, RetryAfter: "120"})

	r := runBinary(t, t.TempDir(), w.env(), append([]string{"revoke", "app.example.com"}, noWatch...)...)
	if r.code != 4 {
		t.Fatalf("exit = %d, want 4\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"NOT in force", "2m0s", "https://dash.cloudflare.com/", "Public Hostname"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	if got := w.rules(t); got[0] == "app.example.com"+revRule {
		t.Errorf("the revocation is live although the write failed: %q", got)
	}
	entries := auditEntries(t, w.state)
	if len(entries) != 1 || entries[0].Result != portsync.AuditFailed {
		t.Errorf("audit entries = %+v, want one failed entry", entries)
	}
}

func TestRevokeServerErrorIsRetried(t *testing.T) {
	w := newRevokeWorld(t, liveTwoHosts)
	w.e.Fail(emulator.Fault{Method: "PUT", PathSuffix: "/configurations", Status: 502, Times: 1})

	r := runBinary(t, t.TempDir(), w.env(), append([]string{"revoke", "app.example.com", "--check-interval", "10ms"}, noWatch...)...)
	if r.code != 0 {
		t.Fatalf("exit = %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if got := w.rules(t); got[0] != "app.example.com"+revRule {
		t.Errorf("first rule = %q after a retried write", got[0])
	}
}

func TestRevokeWatchRepairsConcurrentRemoval(t *testing.T) {
	w := newRevokeWorld(t, liveTwoHosts)
	config := "/accounts/" + revokeAccount + "/cfd_tunnel/" + w.tunnel.ID + "/configurations"
	var gets atomic.Int32
	w.e.OnRequest(func(method, path string) {
		// The 3rd GET is the first watch check: another writer puts the
		// old document back just before it.
		if method == "GET" && path == config && gets.Add(1) == 3 {
			w.e.SetConfig(w.tunnel.ID, json.RawMessage(`{"ingress":`+liveTwoHosts+`}`))
		}
	})

	r := runBinary(t, t.TempDir(), w.env(), "revoke", "app.example.com", "--yes", "--watch", "50ms", "--check-interval", "10ms")
	if r.code != 0 {
		t.Fatalf("exit = %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "writing it again") {
		t.Errorf("stdout does not report the repair:\n%s", r.stdout)
	}
	if got := w.rules(t); got[0] != "app.example.com"+revRule {
		t.Errorf("first rule after the watch = %q", got[0])
	}
	puts := 0
	for _, c := range w.calls() {
		if c == "PUT "+config {
			puts++
		}
	}
	if puts != 2 {
		t.Errorf("%d configuration writes, want 2 (the cut and the repair)", puts)
	}
}

func TestRevokeNeedsYesWithoutTerminal(t *testing.T) {
	w := newRevokeWorld(t, liveTwoHosts)
	r := runBinary(t, t.TempDir(), w.env(), "revoke", "app.example.com")
	if r.code != 1 || !strings.Contains(r.stderr, "--yes") {
		t.Errorf("exit = %d\n%s", r.code, r.stderr)
	}
	if n := w.e.CallCount(); n != 0 {
		t.Errorf("%d API calls without confirmation", n)
	}
}

// revokeStack writes a compose project in which svc routes host.
func revokeStack(t *testing.T, dir, body string) {
	t.Helper()
	writeFile(t, filepath.Join(dir, "compose.yaml"), body)
}

const stickyCompose = `name: shop
services:
  app:
    image: nginx
    expose: ["80"]
    labels:
      portcullis.hostname: app.example.com
  wiki:
    image: nginx
    expose: ["80"]
    labels:
      portcullis.hostname: wiki.example.com
`

func TestRevokeStaysThroughApplyUntilRestore(t *testing.T) {
	w := newRevokeWorld(t, "")
	dir := t.TempDir()
	revokeStack(t, dir, stickyCompose)
	if r := runBinary(t, dir, w.env(), "apply", "--yes"); r.code != 0 {
		t.Fatalf("first apply exit = %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := runBinary(t, dir, w.env(), append([]string{"revoke", "app.example.com", "--reason", "CVE in app"}, noWatch...)...); r.code != 0 {
		t.Fatalf("revoke exit = %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	plan := runBinary(t, dir, w.env(), "plan")
	if plan.code != 0 {
		t.Errorf("plan after revoke exit = %d, want 0 (a revocation is not a pending change)\n%s%s", plan.code, plan.stdout, plan.stderr)
	}
	for _, want := range []string{"app.example.com", `"CVE in app"`, "oncall-alice"} {
		if !strings.Contains(plan.stdout, want) {
			t.Errorf("plan does not show %s:\n%s", want, plan.stdout)
		}
	}
	if r := runBinary(t, dir, w.env(), "apply", "--yes"); r.code != 0 {
		t.Fatalf("apply after revoke exit = %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if got := w.rules(t); got[0] != "app.example.com"+revRule || !slices.Contains(got, "app.example.com||http://app:80") {
		t.Errorf("apply removed the revocation or the rule beneath: %q", got)
	}

	status := runBinary(t, dir, w.env(), "status")
	if !strings.Contains(status.stdout, "CVE in app") || !strings.Contains(status.stdout, "oncall-alice") {
		t.Errorf("status does not show the revocation:\n%s", status.stdout)
	}

	restore := runBinary(t, dir, w.env(), "restore", "app.example.com", "--yes")
	if restore.code != 0 || !strings.Contains(restore.stdout, "app.example.com → http://app:80") {
		t.Fatalf("restore exit = %d, want 0 listing the exposed rule\n%s%s", restore.code, restore.stdout, restore.stderr)
	}
	if r := runBinary(t, dir, w.env(), "apply", "--yes"); r.code != 0 {
		t.Fatalf("apply after restore exit = %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	want := []string{"app.example.com||http://app:80", "wiki.example.com||http://wiki:80", "||http_status:404"}
	if got := w.rules(t); !slices.Equal(got, want) {
		t.Errorf("rules after restore and apply = %q, want %q", got, want)
	}

	var actions []string
	for _, e := range auditEntries(t, w.state) {
		actions = append(actions, e.Action)
	}
	if !slices.Equal(actions, []string{"apply", "revoke", "restore"}) {
		t.Errorf("audit actions = %q, want apply, revoke, restore (applies that write nothing are not logged)", actions)
	}
}

func TestRevokeOutlivesDeletedRoute(t *testing.T) {
	w := newRevokeWorld(t, "")
	dir := t.TempDir()
	revokeStack(t, dir, stickyCompose)
	if r := runBinary(t, dir, w.env(), "apply", "--yes"); r.code != 0 {
		t.Fatalf("apply exit = %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := runBinary(t, dir, w.env(), append([]string{"revoke", "app.example.com"}, noWatch...)...); r.code != 0 {
		t.Fatalf("revoke exit = %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	revokeStack(t, dir, strings.Replace(stickyCompose, "portcullis.hostname: app.example.com", "com.example.team: shop", 1))
	if r := runBinary(t, dir, w.env(), "apply", "--yes"); r.code != 0 {
		t.Fatalf("apply without the route exit = %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	want := []string{"app.example.com" + revRule, "wiki.example.com||http://wiki:80", "||http_status:404"}
	if got := w.rules(t); !slices.Equal(got, want) {
		t.Errorf("rules = %q, want %q", got, want)
	}
}

const sharedCompose = `name: shared
services:
  web:
    image: nginx
    expose: ["80"]
  admin:
    image: nginx
    expose: ["9000"]
`

func TestRevokeServiceListsSharedHostnames(t *testing.T) {
	w := newRevokeWorld(t, `[
		{"hostname":"app.example.com","path":"^/admin","service":"http://admin:9000"},
		{"hostname":"app.example.com","service":"http://web:80"},
		{"hostname":"admin.example.com","service":"http://admin:9000"},
		{"hostname":"www.example.com","service":"http://web:80"},
		{"service":"http_status:404"}]`)
	dir := t.TempDir()
	revokeStack(t, dir, sharedCompose)

	r := runBinary(t, dir, w.env(), append([]string{"revoke", "--service", "admin"}, noWatch...)...)
	if r.code != 0 {
		t.Fatalf("exit = %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	got := w.rules(t)
	if got[0] != "admin.example.com"+revRule || got[1] != "app.example.com"+revRule || len(got) != 7 {
		t.Errorf("rules = %q, want revocations of admin. and app.example.com first", got)
	}
	if !strings.Contains(r.stdout, "also cut: app.example.com → http://web:80 (service web)") {
		t.Errorf("stdout does not name the service sharing app.example.com:\n%s", r.stdout)
	}
	if strings.Contains(strings.Join(got, "\n"), "www.example.com"+revRule) {
		t.Errorf("www.example.com, which only reaches web, was revoked: %q", got)
	}
}

func TestRevokeServiceNeedsCompose(t *testing.T) {
	w := newRevokeWorld(t, liveTwoHosts)
	r := runBinary(t, t.TempDir(), w.env(), append([]string{"revoke", "--service", "app"}, noWatch...)...)
	if r.code != 1 || !strings.Contains(r.stderr, "needs the compose files") {
		t.Errorf("exit = %d\n%s", r.code, r.stderr)
	}
}

func TestRevokeWildcardListsHostnames(t *testing.T) {
	w := newRevokeWorld(t, `[
		{"hostname":"a.example.com","service":"http://a:80"},
		{"hostname":"b.c.example.com","service":"http://b:80"},
		{"hostname":"example.com","service":"http://root:80"},
		{"service":"http_status:404"}]`)
	r := runBinary(t, t.TempDir(), w.env(), append([]string{"revoke", "*.example.com"}, noWatch...)...)
	if r.code != 0 {
		t.Fatalf("exit = %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "also cuts 2 live hostname(s): a.example.com, b.c.example.com.") {
		t.Errorf("stdout does not list the cut hostnames:\n%s", r.stdout)
	}
}

func TestRevokeWarnsDNSElsewhere(t *testing.T) {
	w := newRevokeWorld(t, liveTwoHosts)
	w.e.AddRecord(w.zone.ID, emulator.Record{Type: "A", Name: "app.example.com", Content: "192.0.2.7", TTL: 300})
	r := runBinary(t, t.TempDir(), w.env(), append([]string{"revoke", "app.example.com"}, noWatch...)...)
	if r.code != 4 || !strings.Contains(r.stdout, "192.0.2.7") {
		t.Errorf("exit = %d, want 4 naming the A record\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func TestApplyRevokesLiveViolation(t *testing.T) {
	live := `[
		{"hostname":"db.example.com","service":"tcp://db:5432"},
		{"hostname":"wiki.example.com","service":"http://wiki:3000"},
		{"service":"http_status:404"}]`
	compose := `name: leak
services:
  db:
    image: postgres:16
    labels:
      security: internal-only
  tunnel:
    image: docker.io/cloudflare/cloudflared:2025.8.1
`
	tests := []struct {
		name        string
		compose     string
		wantRevoked bool
	}{
		{"with cloudflared", compose, true},
		{"without cloudflared", strings.Replace(compose, "docker.io/cloudflare/cloudflared:2025.8.1", "busybox", 1), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newRevokeWorld(t, live)
			dir := t.TempDir()
			revokeStack(t, dir, tt.compose)
			r := runBinary(t, dir, w.env(), "apply", "--yes")
			if r.code != 3 {
				t.Fatalf("exit = %d, want 3\n%s%s", r.code, r.stdout, r.stderr)
			}
			got := w.rules(t)
			revoked := got[0] == "db.example.com"+revRule
			if revoked != tt.wantRevoked {
				t.Errorf("revoked = %v, want %v: %q", revoked, tt.wantRevoked, got)
			}
			rest := got
			if revoked {
				rest = got[1:]
			}
			if want := []string{"db.example.com||tcp://db:5432", "wiki.example.com||http://wiki:3000", "||http_status:404"}; !slices.Equal(rest, want) {
				t.Errorf("other rules changed: %q", rest)
			}
			if !tt.wantRevoked {
				return
			}
			entries := auditEntries(t, w.state)
			if len(entries) != 1 || entries[0].Action != "revoke" || !strings.Contains(entries[0].Reason, "internal-only service \"db\"") {
				t.Errorf("audit entries = %+v", entries)
			}
			again := runBinary(t, dir, w.env(), "apply", "--yes")
			if again.code != 0 {
				t.Errorf("apply with the violation neutralised: exit %d, want 0\n%s%s", again.code, again.stdout, again.stderr)
			}
		})
	}
}

func TestApplyLabelViolationWritesNothing(t *testing.T) {
	w := newRevokeWorld(t, `[{"hostname":"db.example.com","service":"tcp://db:5432"},{"service":"http_status:404"}]`)
	dir := t.TempDir()
	revokeStack(t, dir, `name: leak
services:
  db:
    image: postgres:16
    labels:
      security: internal-only
      portcullis.hostname: pg.example.com
      portcullis.port: "5432"
  tunnel:
    image: cloudflare/cloudflared
`)
	before := w.rules(t)
	r := runBinary(t, dir, w.env(), "apply", "--yes")
	if r.code != 3 {
		t.Fatalf("exit = %d, want 3\n%s%s", r.code, r.stdout, r.stderr)
	}
	if got := w.rules(t); !slices.Equal(got, before) {
		t.Errorf("a label violation still wrote: %q", got)
	}
}

const fileTargetConfig = `tunnel: 6ff42ae2-765d-4adf-8112-31c55c1551ef
credentials-file: /etc/cloudflared/creds.json
ingress:
  # the shop
  - hostname: app.example.com
    service: http://app:80
  - service: http_status:404
`

func TestRevokeFileTarget(t *testing.T) {
	tests := []struct {
		name     string
		reload   string
		wantCode int
		want     string
	}{
		{"no reload command", "", 4, "reads config.yml only when it starts"},
		{"reload succeeds", "touch reloaded", 0, "IN FORCE"},
		{"reload fails", "echo no docker >&2; exit 3", 4, "reload command failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			state := t.TempDir()
			settings := "target: file\nfile:\n  path: cloudflared/config.yml\n"
			if tt.reload != "" {
				settings += "  reload_command: " + strconv.Quote(tt.reload) + "\n"
			}
			writeFile(t, filepath.Join(dir, "portcullis.yaml"), settings)
			writeFile(t, filepath.Join(dir, "compose.yaml"), "services: [broken\n")
			cfgPath := filepath.Join(dir, "cloudflared", "config.yml")
			writeFile(t, cfgPath, fileTargetConfig)

			r := runBinary(t, dir, []string{"XDG_STATE_HOME=" + state}, append([]string{"revoke", "app.example.com", "--reason", "test"}, noWatch...)...)
			if r.code != tt.wantCode || !strings.Contains(r.stdout+r.stderr, tt.want) {
				t.Fatalf("exit = %d, want %d and %q\n%s%s", r.code, tt.wantCode, tt.want, r.stdout, r.stderr)
			}
			data, err := os.ReadFile(cfgPath)
			if err != nil {
				t.Fatal(err)
			}
			text := string(data)
			if !strings.Contains(text, "ingress:\n  - hostname: app.example.com\n    path: ^(?:/portcullis-revoked)?\n    service: http_status:503\n  # the shop\n") {
				t.Errorf("config.yml does not start with the revocation, comments kept:\n%s", text)
			}
			if !strings.Contains(text, "credentials-file: /etc/cloudflared/creds.json") {
				t.Errorf("config.yml lost its other keys:\n%s", text)
			}
			if tt.reload == "touch reloaded" {
				if _, err := os.Stat(filepath.Join(dir, "reloaded")); err != nil {
					t.Errorf("reload command did not run: %v", err)
				}
			}
			e := auditEntries(t, state)[0]
			if e.Target != "file" || len(e.VersionBefore) != 64 || len(e.VersionAfter) != 64 || e.VersionBefore == e.VersionAfter {
				t.Errorf("audit entry versions = %q → %q on target %q, want two different SHA-256", e.VersionBefore, e.VersionAfter, e.Target)
			}
		})
	}
}

func TestRestoreRefusesInternalOnlyBeneath(t *testing.T) {
	w := newRevokeWorld(t, `[
		{"hostname":"db.example.com","path":"`+strings.ReplaceAll(ingress.RevocationPath, `\`, `\\`)+`","service":"http_status:503"},
		{"hostname":"db.example.com","service":"tcp://db:5432"},
		{"service":"http_status:404"}]`)
	dir := t.TempDir()
	revokeStack(t, dir, `name: leak
services:
  db:
    image: postgres:16
    labels:
      security: internal-only
`)
	r := runBinary(t, dir, w.env(), "restore", "db.example.com", "--yes")
	if r.code != 3 || !strings.Contains(r.stderr, "internal-only service \"db\"") {
		t.Errorf("restore exit = %d, want 3 naming db\n%s%s", r.code, r.stdout, r.stderr)
	}
	if got := w.rules(t); got[0] != "db.example.com"+revRule {
		t.Errorf("restore removed the revocation: %q", got)
	}

	broken := t.TempDir()
	revokeStack(t, broken, "services: [broken\n")
	r = runBinary(t, broken, w.env(), "restore", "db.example.com", "--yes")
	if r.code != 1 || !strings.Contains(r.stderr, "--force") {
		t.Errorf("restore without compose: exit %d, want 1 asking for --force\n%s", r.code, r.stderr)
	}
	r = runBinary(t, broken, w.env(), "restore", "db.example.com", "--yes", "--force")
	if r.code != 0 || w.rules(t)[0] != "db.example.com||tcp://db:5432" {
		t.Errorf("restore --force: exit %d, rules %q\n%s%s", r.code, w.rules(t), r.stdout, r.stderr)
	}
}
