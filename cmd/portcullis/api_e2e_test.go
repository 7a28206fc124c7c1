package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portcullis-dev/portcullis/tunnel/emulator"
)

const (
	e2eAccount = "0123456789abcdef0123456789abcdef"
	e2eToken   = "made-up-e2e-token"
)

// apiWorld is an emulated Cloudflare account with one zone and one
// remotely-managed tunnel.
type apiWorld struct {
	e      *emulator.Emulator
	base   string
	zone   emulator.Zone
	tunnel emulator.Tunnel
}

func newAPIWorld(t *testing.T) *apiWorld {
	t.Helper()
	e := emulator.New()
	e.AddToken(e2eToken, emulator.AllPermissions()...)
	w := &apiWorld{e: e}
	w.zone = e.AddZone(e2eAccount, "example.com")
	w.tunnel = e.AddTunnel(e2eAccount, "pa", "cloudflare")
	w.base = e.Start(t)
	return w
}

// env returns the environment that points portcullis at the emulator.
func (w *apiWorld) env(extra ...string) []string {
	return append([]string{
		"PORTCULLIS_TARGET=api",
		"PORTCULLIS_CLOUDFLARE_API_BASE_URL=" + w.base,
		"CLOUDFLARE_ACCOUNT_ID=" + e2eAccount,
		"PORTCULLIS_CLOUDFLARE_TUNNEL=" + w.tunnel.ID,
		"CLOUDFLARE_API_TOKEN=" + e2eToken,
	}, extra...)
}

func (w *apiWorld) target() string { return w.tunnel.ID + ".cfargotunnel.com" }

func (w *apiWorld) countCalls(method, suffix string) int {
	n := 0
	for _, c := range w.e.Calls() {
		if c.Method == method && strings.HasSuffix(c.Path, suffix) {
			n++
		}
	}
	return n
}

func (w *apiWorld) ingress(t *testing.T) []map[string]any {
	t.Helper()
	_, raw := w.e.Config(w.tunnel.ID)
	var cfg struct {
		Ingress []map[string]any `json:"ingress"`
	}
	if len(raw) > 0 && string(raw) != "null" {
		if err := json.Unmarshal(raw, &cfg); err != nil {
			t.Fatalf("decode emulator config: %v", err)
		}
	}
	return cfg.Ingress
}

func (w *apiWorld) record(name string) (emulator.Record, bool) {
	for _, r := range w.e.Records(w.zone.ID) {
		if r.Name == name {
			return r, true
		}
	}
	return emulator.Record{}, false
}

// stack writes a compose project whose services each route one hostname.
func stack(t *testing.T, name string, hosts ...string) string {
	t.Helper()
	dir := t.TempDir()
	var b strings.Builder
	fmt.Fprintf(&b, "name: %s\nservices:\n", name)
	for i, h := range hosts {
		fmt.Fprintf(&b, "  svc%d:\n    image: nginx\n    expose: [\"80\"]\n    labels:\n      portcullis.hostname: %s\n", i, h)
	}
	writeFile(t, filepath.Join(dir, "compose.yaml"), b.String())
	return dir
}

func hostsOf(rules []map[string]any) []string {
	var out []string
	for _, r := range rules {
		h, _ := r["hostname"].(string)
		out = append(out, h)
	}
	return out
}

func TestAPIFirstApplyThenNoop(t *testing.T) {
	w := newAPIWorld(t)
	dir := stack(t, "shop", "www.example.com", "api.example.com")

	if r := runBinary(t, dir, w.env(), "apply", "--yes"); r.code != 0 {
		t.Fatalf("apply exit = %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if got := hostsOf(w.ingress(t)); strings.Join(got, ",") != "api.example.com,www.example.com," {
		t.Errorf("ingress hostnames = %v", got)
	}
	for _, h := range []string{"www.example.com", "api.example.com"} {
		rec, ok := w.record(h)
		if !ok || rec.Type != "CNAME" || rec.Content != w.target() || !rec.Proxied || rec.Comment != "portcullis:v1 owner=shop" {
			t.Errorf("record %s = %+v (found %v)", h, rec, ok)
		}
	}

	w.e.ResetCalls()
	plan := runBinary(t, dir, w.env(), "plan")
	if plan.code != 0 || !strings.Contains(plan.stdout, "No changes") {
		t.Errorf("second plan: exit %d\n%s", plan.code, plan.stdout)
	}
	again := runBinary(t, dir, w.env(), "apply", "--yes")
	if again.code != 0 {
		t.Errorf("second apply exit = %d\n%s%s", again.code, again.stdout, again.stderr)
	}
	for _, c := range w.e.Calls() {
		if c.Method != "GET" {
			t.Errorf("no-op runs made a write call: %s %s", c.Method, c.Path)
		}
	}
}

func TestAPIHandMadeRulesSurvive(t *testing.T) {
	w := newAPIWorld(t)
	hand := `{"hostname":"legacy.example.com","service":"https://legacy:8443","originRequest":{"noTLSVerify":true,"bastionMode":false,"ipRules":[{"prefix":"10.0.0.0/8","ports":[443],"allow":true}]}}`
	w.e.SetConfig(w.tunnel.ID, json.RawMessage(`{"originRequest":{"connectTimeout":10},"ingress":[`+hand+`,{"service":"http_status:404"}]}`))
	w.e.AddRecord(w.zone.ID, emulator.Record{Type: "CNAME", Name: "legacy.example.com", Content: w.target(), Proxied: true, TTL: 1, Comment: "made by hand"})
	dir := stack(t, "shop", "www.example.com")

	if r := runBinary(t, dir, w.env(), "apply", "--yes"); r.code != 0 {
		t.Fatalf("apply exit = %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	_, raw := w.e.Config(w.tunnel.ID)
	if !strings.Contains(string(raw), hand) {
		t.Errorf("hand-made rule not kept byte for byte:\n%s", raw)
	}
	if !strings.Contains(string(raw), `"connectTimeout":10`) {
		t.Errorf("top-level originRequest lost:\n%s", raw)
	}
	if rec, _ := w.record("legacy.example.com"); rec.Comment != "made by hand" {
		t.Errorf("hand-made CNAME changed: %+v", rec)
	}
}

func TestAPIRemovesOnlyOwnedHostnames(t *testing.T) {
	w := newAPIWorld(t)
	w.e.SetConfig(w.tunnel.ID, json.RawMessage(`{"ingress":[{"hostname":"hand.example.com","service":"http://hand:80"},{"service":"http_status:404"}]}`))
	dir := stack(t, "shop", "www.example.com", "old.example.com")
	if r := runBinary(t, dir, w.env(), "apply", "--yes"); r.code != 0 {
		t.Fatalf("first apply exit = %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	writeFile(t, filepath.Join(dir, "compose.yaml"), "name: shop\nservices:\n  svc0:\n    image: nginx\n    expose: [\"80\"]\n    labels:\n      portcullis.hostname: www.example.com\n")
	r := runBinary(t, dir, w.env(), "apply", "--yes")
	if r.code != 0 {
		t.Fatalf("second apply exit = %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if got := strings.Join(hostsOf(w.ingress(t)), ","); got != "www.example.com,hand.example.com," {
		t.Errorf("ingress hostnames = %s", got)
	}
	if _, ok := w.record("old.example.com"); ok {
		t.Error("the owned CNAME of the removed hostname still exists")
	}
}

func TestAPITwoStacksShareOneTunnel(t *testing.T) {
	w := newAPIWorld(t)
	a := stack(t, "alpha", "a.example.com")
	b := stack(t, "beta", "b.example.com")
	for _, dir := range []string{a, b} {
		if r := runBinary(t, dir, w.env(), "apply", "--yes"); r.code != 0 {
			t.Fatalf("apply in %s exit = %d\n%s%s", dir, r.code, r.stdout, r.stderr)
		}
	}
	for _, dir := range []string{a, b} {
		if r := runBinary(t, dir, w.env(), "plan"); r.code != 0 {
			t.Errorf("plan in %s exit = %d, want 0: the other stack's route is not ours\n%s", dir, r.code, r.stdout)
		}
	}

	writeFile(t, filepath.Join(a, "compose.yaml"), "name: alpha\nservices: {}\n")
	if r := runBinary(t, a, w.env(), "apply", "--yes"); r.code != 0 {
		t.Fatalf("apply of the emptied stack exit = %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if got := strings.Join(hostsOf(w.ingress(t)), ","); got != "b.example.com," {
		t.Errorf("ingress hostnames = %s, want only the other stack's", got)
	}
	if rec, ok := w.record("b.example.com"); !ok || rec.Comment != "portcullis:v1 owner=beta" {
		t.Errorf("the other stack's CNAME = %+v (found %v)", rec, ok)
	}
}

func TestAPIConflictsLeaveRecordsAlone(t *testing.T) {
	w := newAPIWorld(t)
	w.e.AddRecord(w.zone.ID, emulator.Record{Type: "A", Name: "app.example.com", Content: "192.0.2.10", TTL: 300})
	w.e.AddRecord(w.zone.ID, emulator.Record{Type: "CNAME", Name: "blog.example.com", Content: "11111111-2222-3333-4444-555555555555.cfargotunnel.com", Proxied: true, TTL: 1})
	dir := stack(t, "shop", "app.example.com", "blog.example.com", "www.example.com")

	r := runBinary(t, dir, w.env(), "apply", "--yes")
	if r.code != 4 {
		t.Fatalf("apply exit = %d, want 4 (conflicts)\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"app.example.com", "A 192.0.2.10", "blog.example.com"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("plan output lacks %q:\n%s", want, r.stdout)
		}
	}
	if got := strings.Join(hostsOf(w.ingress(t)), ","); got != "www.example.com," {
		t.Errorf("ingress hostnames = %s, want only the unconflicted route", got)
	}
	if rec, _ := w.record("app.example.com"); rec.Type != "A" {
		t.Errorf("A record changed: %+v", rec)
	}
	if rec, _ := w.record("blog.example.com"); rec.Comment != "" || !strings.HasPrefix(rec.Content, "11111111") {
		t.Errorf("the other tunnel's CNAME changed: %+v", rec)
	}
}

func TestAPIPaginatesZones(t *testing.T) {
	w := newAPIWorld(t)
	for i := 0; i < 120; i++ {
		w.e.AddZone(e2eAccount, fmt.Sprintf("zone%03d.test", i))
	}
	dir := stack(t, "shop", "www.example.com")
	w.e.ResetCalls()
	if r := runBinary(t, dir, w.env(), "apply", "--yes"); r.code != 0 {
		t.Fatalf("apply exit = %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if n := w.countCalls("GET", "/zones"); n < 3 {
		t.Errorf("zones listed in %d calls, want at least 3 pages for 121 zones", n)
	}
	if _, ok := w.record("www.example.com"); !ok {
		t.Error("CNAME not created in the zone found on a later page")
	}
}

func TestAPIRateLimitedReadIsRetried(t *testing.T) {
	w := newAPIWorld(t)
	w.e.Fail(emulator.Fault{Method: "GET", PathSuffix: "/configurations", Status: 429, Code: 971, Message: "rate limited", RetryAfter: "0", Times: 1, After: 1})
	dir := stack(t, "shop", "www.example.com")
	r := runBinary(t, dir, w.env(), "apply", "--yes")
	if r.code != 0 {
		t.Fatalf("apply exit = %d, want 0 after a retried 429\n%s%s", r.code, r.stdout, r.stderr)
	}
	if got := strings.Join(hostsOf(w.ingress(t)), ","); got != "www.example.com," {
		t.Errorf("ingress hostnames = %s", got)
	}
}

func TestAPIFailedBatchIsReportedAndRetried(t *testing.T) {
	w := newAPIWorld(t)
	w.e.Fail(emulator.Fault{Method: "POST", PathSuffix: "/dns_records/batch", Status: 500, Code: 1000, Message: "internal error", Times: 1})
	dir := stack(t, "shop", "www.example.com")
	r := runBinary(t, dir, w.env(), "apply", "--yes")
	if r.code != 0 {
		t.Fatalf("apply exit = %d, want 0 when the retry succeeds\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, "failed") || !strings.Contains(r.stderr, "succeeded on retry") {
		t.Errorf("the failed chunk is not reported:\n%s", r.stderr)
	}
}

func TestAPIBatchFailingForGoodWritesNoRule(t *testing.T) {
	w := newAPIWorld(t)
	w.e.Fail(emulator.Fault{Method: "POST", PathSuffix: "/dns_records/batch", Status: 500, Code: 1000, Message: "internal error"})
	dir := stack(t, "shop", "www.example.com")
	r := runBinary(t, dir, w.env(), "apply", "--yes")
	if r.code != 4 {
		t.Fatalf("apply exit = %d, want 4\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, rule := range w.ingress(t) {
		if rule["hostname"] == "www.example.com" {
			t.Error("a rule was written without its marked CNAME")
		}
	}
}

// writeOnSecondRead replaces the configuration, as another writer would,
// just before the second configuration read: the re-read before apply's
// write.
func (w *apiWorld) writeOnSecondRead(config string) {
	gets := 0
	w.e.OnRequest(func(method, path string) {
		if method == "GET" && strings.HasSuffix(path, "/configurations") {
			gets++
			if gets == 2 {
				w.e.SetConfig(w.tunnel.ID, json.RawMessage(config))
			}
		}
	})
}

func TestAPIConcurrentWriteIsReplanned(t *testing.T) {
	w := newAPIWorld(t)
	dir := stack(t, "shop", "www.example.com")
	w.writeOnSecondRead(`{"ingress":[{"hostname":"other.example.com","service":"http://other:80"},{"service":"http_status:404"}]}`)
	r := runBinary(t, dir, w.env(), "apply", "--yes")
	if r.code != 0 {
		t.Fatalf("apply exit = %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if got := strings.Join(hostsOf(w.ingress(t)), ","); got != "www.example.com,other.example.com," {
		t.Errorf("ingress hostnames = %s, want the concurrent rule kept", got)
	}
}

func TestAPIConcurrentConflictStopsYes(t *testing.T) {
	w := newAPIWorld(t)
	dir := stack(t, "shop", "www.example.com")
	w.writeOnSecondRead(`{"ingress":[{"hostname":"www.example.com","service":"http://someone-else:80"},{"service":"http_status:404"}]}`)
	r := runBinary(t, dir, w.env(), "apply", "--yes")
	if r.code != 4 {
		t.Fatalf("apply exit = %d, want 4 when the new plan differs under --yes\n%s%s", r.code, r.stdout, r.stderr)
	}
	if w.countCalls("PUT", "/configurations") != 0 {
		t.Error("the configuration was written although the plan changed")
	}
}

func TestAPIBadToken(t *testing.T) {
	w := newAPIWorld(t)
	dir := stack(t, "shop", "www.example.com")
	r := runBinary(t, dir, w.env("CLOUDFLARE_API_TOKEN=wrong-made-up-token"), "plan")
	if r.code != 1 {
		t.Fatalf("plan exit = %d, want 1\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, "Cloudflare Tunnel") || strings.Contains(r.stderr+r.stdout, "wrong-made-up-token") {
		t.Errorf("stderr should name the permission and never the token:\n%s", r.stderr)
	}
}

func TestAPITokenWithoutDNSEdit(t *testing.T) {
	w := newAPIWorld(t)
	w.e.AddToken("made-up-read-only-dns", emulator.TunnelRead, emulator.TunnelEdit, emulator.ZoneRead, emulator.DNSRead)
	dir := stack(t, "shop", "www.example.com")
	w.e.ResetCalls()
	r := runBinary(t, dir, w.env("CLOUDFLARE_API_TOKEN=made-up-read-only-dns"), "apply", "--yes")
	if r.code != 1 {
		t.Fatalf("apply exit = %d, want 1\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, "Zone › DNS › Edit") {
		t.Errorf("stderr does not name the missing permission:\n%s", r.stderr)
	}
	if n := w.countCalls("PUT", "/configurations"); n != 0 {
		t.Errorf("configuration written %d times despite the failed preflight", n)
	}
	if len(w.e.Records(w.zone.ID)) != 0 {
		t.Error("a record was created despite the failed preflight")
	}
}

func TestAPIIgnoresStrayCloudflareVariables(t *testing.T) {
	w := newAPIWorld(t)
	dir := stack(t, "shop", "www.example.com")
	r := runBinary(t, dir, w.env(
		"CLOUDFLARE_BASE_URL=http://127.0.0.1:1/client/v4",
		"CLOUDFLARE_API_KEY=made-up-global-key",
		"CLOUDFLARE_EMAIL=nobody@example.invalid",
	), "apply", "--yes")
	if r.code != 0 {
		t.Fatalf("apply exit = %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if _, ok := w.record("www.example.com"); !ok {
		t.Error("apply did not reach the configured base URL")
	}
}

func TestAPIInterruptedRunConverges(t *testing.T) {
	w := newAPIWorld(t)
	w.e.Fail(emulator.Fault{Method: "PUT", PathSuffix: "/configurations", Status: 500, Code: 1000, Message: "internal error", Times: 1})
	dir := stack(t, "shop", "www.example.com", "api.example.com")

	first := runBinary(t, dir, w.env(), "apply", "--yes")
	if first.code != 1 || !strings.Contains(first.stderr, "write the tunnel configuration") {
		t.Fatalf("interrupted apply exit = %d, want 1 naming the failed write\n%s%s", first.code, first.stdout, first.stderr)
	}
	if len(w.e.Records(w.zone.ID)) != 2 {
		t.Fatalf("records after the interrupted run = %d, want the 2 marked CNAMEs created before the write", len(w.e.Records(w.zone.ID)))
	}

	second := runBinary(t, dir, w.env(), "apply", "--yes")
	if second.code != 0 {
		t.Fatalf("second apply exit = %d\n%s%s", second.code, second.stdout, second.stderr)
	}
	if strings.Contains(second.stdout, "+ CNAME") {
		t.Errorf("second run plans CNAMEs again:\n%s", second.stdout)
	}
	if n := len(w.e.Records(w.zone.ID)); n != 2 {
		t.Errorf("records after convergence = %d, want 2 (no duplicates)", n)
	}
	if got := strings.Join(hostsOf(w.ingress(t)), ","); got != "api.example.com,www.example.com," {
		t.Errorf("ingress hostnames = %s", got)
	}
}

func TestAPIDebugLogNeverShowsToken(t *testing.T) {
	w := newAPIWorld(t)
	dir := stack(t, "shop", "www.example.com")
	r := runBinary(t, dir, w.env(), "--debug", "apply", "--yes")
	if r.code != 0 {
		t.Fatalf("apply exit = %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, "level=DEBUG") {
		t.Errorf("--debug logged nothing:\n%s", r.stderr)
	}
	if strings.Contains(r.stdout+r.stderr, e2eToken) {
		t.Error("the token appears in the output")
	}
}
