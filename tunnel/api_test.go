package tunnel

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portcullis-dev/portcullis/ingress"
	"github.com/portcullis-dev/portcullis/tunnel/emulator"
)

// Made-up credentials and ids: the emulator accepts any token it was given.
const (
	testToken   = "test-token"
	testAccount = "0123456789abcdef0123456789abcdef"
)

// sleepRecorder replaces API.sleep: it records each wait and returns at once.
type sleepRecorder struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (s *sleepRecorder) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.waits = append(s.waits, d)
	return ctx.Err()
}

func (s *sleepRecorder) recorded() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.waits)
}

// newTestEmulator returns an emulator that accepts testToken with every
// permission, one zone and one remotely-managed tunnel.
func newTestEmulator() (*emulator.Emulator, emulator.Zone, emulator.Tunnel) {
	e := emulator.New()
	e.AddToken(testToken, emulator.AllPermissions()...)
	z := e.AddZone(testAccount, "example.com")
	tun := e.AddTunnel(testAccount, "pa-ecosystem", "cloudflare")
	return e, z, tun
}

// newTestAPI builds an API against base whose retries record their waits
// instead of sleeping. The jitter is 0, so each backoff wait is half its
// exponential step.
func newTestAPI(t *testing.T, base, tunnelRef string, edit func(*APIConfig)) (*API, *sleepRecorder) {
	t.Helper()
	cfg := APIConfig{BaseURL: base, Token: testToken, AccountID: testAccount, Tunnel: tunnelRef}
	if edit != nil {
		edit(&cfg)
	}
	a, err := NewAPI(cfg)
	if err != nil {
		t.Fatalf("NewAPI: %v", err)
	}
	rec := &sleepRecorder{}
	a.sleep = rec.sleep
	a.jitter = func(time.Duration) time.Duration { return 0 }
	a.now = func() time.Time { return time.Date(2026, time.March, 1, 12, 0, 0, 0, time.UTC) }
	return a, rec
}

// callLine formats a call as "METHOD path?query".
func callLine(c emulator.Call) string {
	if c.Query == "" {
		return c.Method + " " + c.Path
	}
	return c.Method + " " + c.Path + "?" + c.Query
}

func callLines(calls []emulator.Call) []string {
	lines := make([]string, len(calls))
	for i, c := range calls {
		lines[i] = callLine(c)
	}
	return lines
}

func TestResolveTunnelByID(t *testing.T) {
	e, _, tun := newTestEmulator()
	base := e.Start(t)
	a, _ := newTestAPI(t, base, tun.ID, nil)

	info, err := a.ResolveTunnel(context.Background())
	if err != nil {
		t.Fatalf("ResolveTunnel: %v", err)
	}
	want := TunnelInfo{ID: tun.ID, Name: "pa-ecosystem", ConfigSrc: "cloudflare", Status: "healthy", Connections: 1}
	if info != want {
		t.Errorf("ResolveTunnel = %+v, want %+v", info, want)
	}

	if _, err := a.ResolveTunnel(context.Background()); err != nil {
		t.Fatalf("second ResolveTunnel: %v", err)
	}
	wantCalls := []string{"GET /accounts/" + testAccount + "/cfd_tunnel/" + tun.ID}
	if got := callLines(e.Calls()); !slices.Equal(got, wantCalls) {
		t.Errorf("calls = %q, want %q", got, wantCalls)
	}
}

func TestResolveTunnelByName(t *testing.T) {
	tests := []struct {
		name string
		// seed adds tunnels and returns the id ResolveTunnel must find, or "".
		seed    func(e *emulator.Emulator) string
		wantErr error
		// wantText lists substrings of the error text.
		wantText []string
	}{
		{
			name: "deleted namesake ignored",
			seed: func(e *emulator.Emulator) string {
				old := e.AddTunnel(testAccount, "web", "cloudflare")
				e.DeleteTunnel(old.ID)
				return e.AddTunnel(testAccount, "web", "cloudflare").ID
			},
		},
		{
			name: "missing",
			seed: func(e *emulator.Emulator) string {
				e.AddTunnel(testAccount, "other", "cloudflare")
				return ""
			},
			wantErr:  ErrNotFound,
			wantText: []string{`"web"`, "cloudflare.tunnel"},
		},
		{
			name: "only deleted",
			seed: func(e *emulator.Emulator) string {
				old := e.AddTunnel(testAccount, "web", "cloudflare")
				e.DeleteTunnel(old.ID)
				return ""
			},
			wantErr: ErrNotFound,
		},
		{
			name: "two live are ambiguous",
			seed: func(e *emulator.Emulator) string {
				e.AddTunnel(testAccount, "web", "cloudflare")
				e.AddTunnel(testAccount, "web", "cloudflare")
				return ""
			},
			wantText: []string{"2 live tunnels", "set cloudflare.tunnel to one of these ids"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := emulator.New()
			e.AddToken(testToken, emulator.AllPermissions()...)
			wantID := tt.seed(e)
			base := e.Start(t)
			a, _ := newTestAPI(t, base, "web", nil)

			info, err := a.ResolveTunnel(context.Background())

			wantCalls := []string{"GET /accounts/" + testAccount + "/cfd_tunnel?is_deleted=false&name=web"}
			if got := callLines(e.Calls()); !slices.Equal(got, wantCalls) {
				t.Errorf("calls = %q, want %q", got, wantCalls)
			}
			if wantID != "" {
				if err != nil {
					t.Fatalf("ResolveTunnel: %v", err)
				}
				if info.ID != wantID {
					t.Errorf("ResolveTunnel id = %s, want %s", info.ID, wantID)
				}
				return
			}

			if err == nil {
				t.Fatalf("ResolveTunnel = %+v, want an error", info)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("ResolveTunnel error %q does not wrap %v", err, tt.wantErr)
			}
			for _, s := range tt.wantText {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("ResolveTunnel error %q does not contain %q", err, s)
				}
			}
		})
	}
}

func TestResolveTunnelLocallyManaged(t *testing.T) {
	for _, byID := range []bool{true, false} {
		t.Run(fmt.Sprintf("by id %v", byID), func(t *testing.T) {
			e := emulator.New()
			e.AddToken(testToken, emulator.AllPermissions()...)
			tun := e.AddTunnel(testAccount, "home", "local")
			ref := "home"
			if byID {
				ref = tun.ID
			}
			base := e.Start(t)
			a, _ := newTestAPI(t, base, ref, nil)

			_, err := a.ResolveTunnel(context.Background())
			if !errors.Is(err, ErrLocallyManaged) {
				t.Fatalf("ResolveTunnel error = %v, want ErrLocallyManaged", err)
			}
			if !strings.Contains(err.Error(), "target: file") {
				t.Errorf("error %q does not tell the user to set target: file", err)
			}
		})
	}
}

func TestResolveTunnelDeletedByID(t *testing.T) {
	e, _, tun := newTestEmulator()
	e.DeleteTunnel(tun.ID)
	base := e.Start(t)
	a, _ := newTestAPI(t, base, tun.ID, nil)

	_, err := a.ResolveTunnel(context.Background())
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("ResolveTunnel error = %v, want ErrNotFound", err)
	}
}

const testConfigDoc = `{
  "originRequest": {"connectTimeout": 10},
  "warp-routing": {"enabled": true},
  "ingress": [
    {"service": "http://app:8080", "hostname": "app.example.com"},
    {"hostname": "legacy.example.com", "service": "ssh://bastion:22",
     "originRequest": {"bastionMode": true, "ipRules": [{"prefix": "10.0.0.0/8", "ports": [22], "allow": true}], "futureField": {"nested": [1, 2.5, "x"]}},
     "x-unmodelled": "kept <&> as is"},
    {"service": "http_status:404"}
  ]
}`

func TestReadFillsState(t *testing.T) {
	e, z, tun := newTestEmulator()
	other := e.AddZone(testAccount, "bücher.example")
	e.AddZone("another-account", "not-ours.com")
	version := e.SetConfig(tun.ID, json.RawMessage(testConfigDoc))
	e.AddRecord(z.ID, emulator.Record{Type: "CNAME", Name: "app.example.com", Content: TunnelTarget(tun.ID), Proxied: true, Comment: Marker("pa-ecosystem")})
	e.AddRecord(z.ID, emulator.Record{Type: "A", Name: "db.example.com", Content: "192.0.2.10", TTL: 300})
	e.AddRecord(other.ID, emulator.Record{Type: "CNAME", Name: "www.bücher.example", Content: "target.example.net", Proxied: true})
	base := e.Start(t)
	a, _ := newTestAPI(t, base, tun.ID, nil)

	state, err := a.Read(context.Background())
	if err != nil {
		t.Fatalf("Read: %v", err)
	}

	// A tunnel given by id is not looked up, so its name stays unknown.
	if state.Target != "api" || state.AccountID != testAccount || state.TunnelID != tun.ID || state.TunnelName != "" {
		t.Errorf("Read identity = %q %q %q %q", state.Target, state.AccountID, state.TunnelID, state.TunnelName)
	}
	if state.Version != version {
		t.Errorf("Read version = %d, want %d", state.Version, version)
	}
	if !state.ManagesDNS {
		t.Error("Read ManagesDNS = false, want true")
	}

	wantRules := []ingress.Rule{
		{Hostname: "app.example.com", Service: "http://app:8080"},
		{Hostname: "legacy.example.com", Service: "ssh://bastion:22"},
		{Service: "http_status:404"},
	}
	if len(state.Rules) != len(wantRules) {
		t.Fatalf("Read rules = %d, want %d", len(state.Rules), len(wantRules))
	}
	for i, want := range wantRules {
		got := state.Rules[i]
		if got.Hostname != want.Hostname || got.Service != want.Service {
			t.Errorf("rule #%d = %q %q, want %q %q", i+1, got.Hostname, got.Service, want.Hostname, want.Service)
		}
		if raw, ok := got.Raw.(json.RawMessage); !ok || !json.Valid(raw) {
			t.Errorf("rule #%d Raw = %T, want valid json.RawMessage", i+1, got.Raw)
		}
	}
	if state.Rules[1].OriginRequest["bastionMode"] != true {
		t.Errorf("rule #2 originRequest = %v, want bastionMode true", state.Rules[1].OriginRequest)
	}

	wantZones := []Zone{{ID: z.ID, Name: "example.com"}, {ID: other.ID, Name: "xn--bcher-kva.example"}}
	if !slices.Equal(state.Zones, wantZones) {
		t.Errorf("Read zones = %+v, want %+v", state.Zones, wantZones)
	}

	var gotRecords []string
	for _, r := range state.Records {
		gotRecords = append(gotRecords, fmt.Sprintf("%s %s %s %s proxied=%v ttl=%d comment=%q", r.ZoneName, r.Type, r.Name, r.Content, r.Proxied, r.TTL, r.Comment))
		if r.ZoneID == "" || r.ID == "" {
			t.Errorf("record %+v lacks an id or zone id", r)
		}
	}
	wantRecords := []string{
		"example.com CNAME app.example.com " + TunnelTarget(tun.ID) + ` proxied=true ttl=1 comment="portcullis:v1 owner=pa-ecosystem"`,
		`example.com A db.example.com 192.0.2.10 proxied=false ttl=300 comment=""`,
		`xn--bcher-kva.example CNAME www.xn--bcher-kva.example target.example.net proxied=true ttl=1 comment=""`,
	}
	if !slices.Equal(gotRecords, wantRecords) {
		t.Errorf("Read records =\n%s\nwant\n%s", strings.Join(gotRecords, "\n"), strings.Join(wantRecords, "\n"))
	}

	wantCalls := []string{
		"GET /accounts/" + testAccount + "/cfd_tunnel/" + tun.ID + "/configurations",
		"GET /zones?account.id=" + testAccount + "&page=1&per_page=50",
		"GET /zones/" + z.ID + "/dns_records?page=1&per_page=5000",
		"GET /zones/" + other.ID + "/dns_records?page=1&per_page=5000",
	}
	assertCallSet(t, e.Calls(), wantCalls)
}

// assertCallSet compares calls with want: the first two (configuration and
// zones) in order, the record listings (made concurrently) as a set.
func assertCallSet(t *testing.T, calls []emulator.Call, want []string) {
	t.Helper()
	got := callLines(calls)
	if len(got) != len(want) {
		t.Fatalf("%d calls, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	head := min(2, len(want))
	if !slices.Equal(got[:head], want[:head]) {
		t.Errorf("first calls = %q, want %q", got[:head], want[:head])
	}
	restGot, restWant := slices.Clone(got[head:]), slices.Clone(want[head:])
	slices.Sort(restGot)
	slices.Sort(restWant)
	if !slices.Equal(restGot, restWant) {
		t.Errorf("record listings =\n%s\nwant\n%s", strings.Join(restGot, "\n"), strings.Join(restWant, "\n"))
	}
}

func TestReadSecondCallSkipsTunnelLookup(t *testing.T) {
	e, _, tun := newTestEmulator()
	base := e.Start(t)
	a, _ := newTestAPI(t, base, "pa-ecosystem", nil)

	if _, err := a.Read(context.Background()); err != nil {
		t.Fatalf("first Read: %v", err)
	}
	e.ResetCalls()
	state, err := a.Read(context.Background())
	if err != nil {
		t.Fatalf("second Read: %v", err)
	}

	if state.Version != 0 || len(state.Rules) != 0 {
		t.Errorf("Read of an unconfigured tunnel = version %d, %d rules; want 0, 0", state.Version, len(state.Rules))
	}
	for _, c := range e.Calls() {
		if strings.Contains(c.Path, "/cfd_tunnel") && !strings.HasSuffix(c.Path, tun.ID+"/configurations") {
			t.Errorf("second Read looked the tunnel up again: %s", callLine(c))
		}
	}
}

func TestReadPaginates(t *testing.T) {
	e, _, tun := newTestEmulator()
	zones := e.Zones()
	for i := len(zones); i < 101; i++ {
		zones = append(zones, e.AddZone(testAccount, fmt.Sprintf("zone%03d.example", i)))
	}
	big := zones[0]
	const bigCount = 5003
	for i := range bigCount {
		e.AddRecord(big.ID, emulator.Record{Type: "A", Name: fmt.Sprintf("h%05d.example.com", i), Content: "192.0.2.1", TTL: 300})
	}
	e.AddRecord(zones[1].ID, emulator.Record{Type: "TXT", Name: "zone001.example", Content: "v=spf1 -all", TTL: 300})
	base := e.Start(t)
	a, _ := newTestAPI(t, base, tun.ID, nil)

	state, err := a.Read(context.Background())
	if err != nil {
		t.Fatalf("Read: %v", err)
	}

	if len(state.Zones) != 101 {
		t.Errorf("Read zones = %d, want 101", len(state.Zones))
	}
	if len(state.Records) != bigCount+1 {
		t.Errorf("Read records = %d, want %d", len(state.Records), bigCount+1)
	}
	for i := 1; i < len(state.Records); i++ {
		prev, cur := state.Records[i-1], state.Records[i]
		if prev.ZoneName > cur.ZoneName || (prev.ZoneName == cur.ZoneName && prev.Name > cur.Name) {
			t.Fatalf("records out of order at %d: %s/%s before %s/%s", i, prev.ZoneName, prev.Name, cur.ZoneName, cur.Name)
		}
	}

	want := []string{
		"GET /accounts/" + testAccount + "/cfd_tunnel/" + tun.ID + "/configurations",
		"GET /zones?account.id=" + testAccount + "&page=1&per_page=50",
		"GET /zones?account.id=" + testAccount + "&page=2&per_page=50",
		"GET /zones?account.id=" + testAccount + "&page=3&per_page=50",
		"GET /zones/" + big.ID + "/dns_records?page=2&per_page=5000",
	}
	for _, z := range zones {
		want = append(want, "GET /zones/"+z.ID+"/dns_records?page=1&per_page=5000")
	}
	// The zone pages come one after another, so compare the first four in
	// order by moving them to the front.
	got := callLines(e.Calls())
	if len(got) != len(want) {
		t.Fatalf("%d calls, want %d", len(got), len(want))
	}
	if !slices.Equal(got[:4], want[:4]) {
		t.Errorf("first calls = %q, want %q", got[:4], want[:4])
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("calls differ from the expected set")
	}
}

func TestListRecordsNormalisesNames(t *testing.T) {
	e, z, tun := newTestEmulator()
	e.AddRecord(z.ID, emulator.Record{Type: "CNAME", Name: "*.Example.com", Content: "x.example.net", TTL: 300})
	e.AddRecord(z.ID, emulator.Record{Type: "TXT", Name: "_dmarc.example.com", Content: "v=DMARC1; p=none", TTL: 300})
	base := e.Start(t)
	a, _ := newTestAPI(t, base, tun.ID, nil)

	records, err := a.ListRecords(context.Background(), Zone{ID: z.ID, Name: "EXAMPLE.com."})
	if err != nil {
		t.Fatalf("ListRecords: %v", err)
	}

	var names []string
	for _, r := range records {
		names = append(names, r.ZoneName+" "+r.Name)
	}
	want := []string{"example.com *.example.com", "example.com _dmarc.example.com"}
	if !slices.Equal(names, want) {
		t.Errorf("ListRecords names = %q, want %q", names, want)
	}
}

func TestWriteConfigKeepsUnmanagedRules(t *testing.T) {
	e, _, tun := newTestEmulator()
	e.SetConfig(tun.ID, json.RawMessage(testConfigDoc))
	base := e.Start(t)
	a, _ := newTestAPI(t, base, tun.ID, nil)

	cfg, err := a.ReadConfig(context.Background())
	if err != nil {
		t.Fatalf("ReadConfig: %v", err)
	}
	if _, ok := cfg.Extra["warp-routing"]; !ok {
		t.Errorf("ReadConfig Extra = %v, want warp-routing kept", cfg.Extra)
	}
	unmanaged := cfg.Rules[1].Raw.(json.RawMessage)
	catchAll := cfg.Rules[2]
	rules := []LiveRule{
		{Rule: ingress.Rule{Hostname: "new.example.com", Path: "^(?:/api)", Service: "http://api:9000"}},
		cfg.Rules[1],
		catchAll,
	}
	e.ResetCalls()

	version, err := a.WriteConfig(context.Background(), cfg, rules)
	if err != nil {
		t.Fatalf("WriteConfig: %v", err)
	}
	if version != cfg.Version+1 {
		t.Errorf("WriteConfig version = %d, want %d", version, cfg.Version+1)
	}

	calls := e.Calls()
	if len(calls) != 1 || calls[0].Method != http.MethodPut {
		t.Fatalf("calls = %q, want one PUT", callLines(calls))
	}
	body := calls[0].Body
	if !bytes.Contains(body, unmanaged) {
		t.Errorf("PUT body does not contain the unmanaged rule byte for byte:\nbody: %s\nrule: %s", body, unmanaged)
	}

	var sent struct {
		Config map[string]json.RawMessage `json:"config"`
	}
	if err := json.Unmarshal(body, &sent); err != nil {
		t.Fatalf("PUT body is not JSON: %v\n%s", err, body)
	}
	if _, ok := sent.Config["warp-routing"]; ok {
		t.Errorf("PUT body sends read-only warp-routing: %s", body)
	}
	if got := string(sent.Config["originRequest"]); got != string(cfg.Extra["originRequest"]) {
		t.Errorf("PUT originRequest = %s, want %s", got, cfg.Extra["originRequest"])
	}
	if !bytes.Contains(body, []byte(`{"hostname":"new.example.com","path":"^(?:/api)","service":"http://api:9000"}`)) {
		t.Errorf("PUT body does not contain the new rule as marshalled: %s", body)
	}

	_, stored := e.Config(tun.ID)
	var doc struct {
		Ingress []map[string]any `json:"ingress"`
	}
	if err := json.Unmarshal(stored, &doc); err != nil {
		t.Fatalf("stored config: %v", err)
	}
	if len(doc.Ingress) != 3 || doc.Ingress[1]["x-unmodelled"] != "kept <&> as is" {
		t.Errorf("stored ingress = %v, want the unmanaged rule's unknown field kept", doc.Ingress)
	}
}

func TestWriteConfigNotRetried(t *testing.T) {
	e, _, tun := newTestEmulator()
	e.SetConfig(tun.ID, json.RawMessage(testConfigDoc))
	e.Fail(emulator.Fault{Method: http.MethodPut, PathSuffix: "/configurations", Status: http.StatusInternalServerError})
	base := e.Start(t)
	a, rec := newTestAPI(t, base, tun.ID, nil)

	cfg, err := a.ReadConfig(context.Background())
	if err != nil {
		t.Fatalf("ReadConfig: %v", err)
	}
	e.ResetCalls()

	_, err = a.WriteConfig(context.Background(), cfg, cfg.Rules)
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusInternalServerError {
		t.Fatalf("WriteConfig error = %v, want *APIError with status 500", err)
	}
	if n := len(e.Calls()); n != 1 {
		t.Errorf("WriteConfig made %d calls, want 1", n)
	}
	if waits := rec.recorded(); len(waits) != 0 {
		t.Errorf("WriteConfig waited %v, want no retry", waits)
	}
}

func TestWriteConfigRejectsEmptyRules(t *testing.T) {
	e, _, tun := newTestEmulator()
	base := e.Start(t)
	a, _ := newTestAPI(t, base, tun.ID, nil)
	if _, err := a.ResolveTunnel(context.Background()); err != nil {
		t.Fatalf("ResolveTunnel: %v", err)
	}
	e.ResetCalls()

	if _, err := a.WriteConfig(context.Background(), Config{}, nil); err == nil {
		t.Error("WriteConfig with no rules succeeded, want an error")
	}
	if n := len(e.Calls()); n != 0 {
		t.Errorf("WriteConfig with no rules made %d calls, want 0", n)
	}
}

func TestReadRetriesRateLimit(t *testing.T) {
	now := time.Date(2026, time.March, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		retryAfter string
		wantWaits  []time.Duration
		// wantErrWait is the RetryAfter of the expected error, or 0 for success.
		wantErrWait time.Duration
	}{
		{name: "seconds", retryAfter: "7", wantWaits: []time.Duration{7 * time.Second}},
		{name: "zero", retryAfter: "0", wantWaits: []time.Duration{0}},
		{name: "http date", retryAfter: now.Add(30 * time.Second).Format(http.TimeFormat), wantWaits: []time.Duration{30 * time.Second}},
		{name: "at the cap", retryAfter: "60", wantWaits: []time.Duration{time.Minute}},
		{name: "over the cap", retryAfter: "61", wantErrWait: 61 * time.Second},
		{name: "no header", retryAfter: "", wantWaits: []time.Duration{250 * time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, _, tun := newTestEmulator()
			e.Fail(emulator.Fault{Method: http.MethodGet, PathSuffix: "/zones", Status: http.StatusTooManyRequests, RetryAfter: tt.retryAfter, Times: 1})
			base := e.Start(t)
			a, rec := newTestAPI(t, base, tun.ID, nil)

			_, err := a.Read(context.Background())

			if waits := rec.recorded(); !slices.Equal(waits, tt.wantWaits) {
				t.Errorf("waits = %v, want %v", waits, tt.wantWaits)
			}
			zoneCalls := 0
			for _, c := range e.Calls() {
				if c.Path == "/zones" {
					zoneCalls++
				}
			}
			if tt.wantErrWait == 0 {
				if err != nil {
					t.Fatalf("Read: %v", err)
				}
				if zoneCalls != 2 {
					t.Errorf("zone listings = %d, want 2", zoneCalls)
				}
				return
			}

			var apiErr *APIError
			if !errors.As(err, &apiErr) || !errors.Is(err, ErrRateLimited) {
				t.Fatalf("Read error = %v, want *APIError wrapping ErrRateLimited", err)
			}
			if apiErr.RetryAfter != tt.wantErrWait {
				t.Errorf("RetryAfter = %s, want %s", apiErr.RetryAfter, tt.wantErrWait)
			}
			if !strings.Contains(err.Error(), "retry after "+tt.wantErrWait.String()) {
				t.Errorf("error %q does not state the wait", err)
			}
			if zoneCalls != 1 {
				t.Errorf("zone listings = %d, want 1", zoneCalls)
			}
		})
	}
}

func TestReadBackoffBounded(t *testing.T) {
	e, _, tun := newTestEmulator()
	e.Fail(emulator.Fault{Method: http.MethodGet, PathSuffix: "/configurations", Status: http.StatusServiceUnavailable})
	base := e.Start(t)
	a, rec := newTestAPI(t, base, tun.ID, func(c *APIConfig) { c.ReadRetries = 6 })
	a.jitter = func(n time.Duration) time.Duration { return n - 1 } // the maximum jitter

	_, err := a.ReadConfig(context.Background())

	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusServiceUnavailable {
		t.Fatalf("ReadConfig error = %v, want *APIError with status 503", err)
	}
	wantWaits := []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second}
	if waits := rec.recorded(); !slices.Equal(waits, wantWaits) {
		t.Errorf("waits = %v, want %v", waits, wantWaits)
	}
	configCalls := 0
	for _, c := range e.Calls() {
		if strings.HasSuffix(c.Path, "/configurations") {
			configCalls++
		}
	}
	if configCalls != 7 {
		t.Errorf("configuration reads = %d, want 7 (1 + 6 retries)", configCalls)
	}
}

func TestReadDefaultRetries(t *testing.T) {
	e, _, tun := newTestEmulator()
	e.Fail(emulator.Fault{Method: http.MethodGet, PathSuffix: "/configurations", Status: http.StatusBadGateway})
	base := e.Start(t)
	a, rec := newTestAPI(t, base, tun.ID, nil)

	if _, err := a.ReadConfig(context.Background()); err == nil {
		t.Fatal("ReadConfig succeeded, want an error")
	}
	if n := len(rec.recorded()); n != apiDefaultReadRetries {
		t.Errorf("retries = %d, want %d", n, apiDefaultReadRetries)
	}
}

func TestReadRetriesTimeout(t *testing.T) {
	e, _, tun := newTestEmulator()
	base := e.Start(t)
	a, rec := newTestAPI(t, base, tun.ID, func(c *APIConfig) {
		c.RequestTimeout = 50 * time.Millisecond
		c.ReadRetries = 2
	})
	if _, err := a.ResolveTunnel(context.Background()); err != nil {
		t.Fatalf("ResolveTunnel: %v", err)
	}
	e.SetLatency(time.Minute)

	_, err := a.ReadConfig(context.Background())

	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("ReadConfig error = %v, want a timeout", err)
	}
	if n := len(rec.recorded()); n != 2 {
		t.Errorf("retries = %d, want 2", n)
	}
}

func TestReadDoesNotRetryClientErrors(t *testing.T) {
	e, _, tun := newTestEmulator()
	e.Fail(emulator.Fault{Method: http.MethodGet, PathSuffix: "/configurations", Status: http.StatusNotFound, Code: 1055, Message: "Configuration for tunnel not found"})
	base := e.Start(t)
	a, rec := newTestAPI(t, base, tun.ID, nil)

	_, err := a.ReadConfig(context.Background())
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("ReadConfig error = %v, want ErrNotFound", err)
	}
	if n := len(rec.recorded()); n != 0 {
		t.Errorf("retries = %d, want 0", n)
	}
}

func TestBatchFailureCarriesCode(t *testing.T) {
	e, z, tun := newTestEmulator()
	e.AddRecord(z.ID, emulator.Record{Type: "A", Name: "app.example.com", Content: "192.0.2.7", TTL: 300})
	base := e.Start(t)
	a, rec := newTestAPI(t, base, tun.ID, nil)

	_, err := a.Batch(context.Background(), z.ID, DNSBatch{Posts: []DNSRecord{
		{Type: "CNAME", Name: "app.example.com", Content: TunnelTarget(tun.ID), Proxied: true, Comment: Marker("pa-ecosystem")},
	}})

	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("Batch error = %v, want *APIError", err)
	}
	if !slices.Contains(apiErr.Codes, 81053) {
		t.Errorf("Batch error codes = %v, want 81053", apiErr.Codes)
	}
	if apiErr.Status != http.StatusBadRequest {
		t.Errorf("Batch error status = %d, want 400", apiErr.Status)
	}
	if !strings.Contains(err.Error(), "81053") {
		t.Errorf("Batch error %q does not show the code", err)
	}
	if n := len(e.Calls()); n != 1 {
		t.Errorf("Batch made %d calls, want 1", n)
	}
	if n := len(rec.recorded()); n != 0 {
		t.Errorf("Batch retried %d times, want 0", n)
	}
}

func TestBatchAppliesChanges(t *testing.T) {
	e, z, tun := newTestEmulator()
	old := e.AddRecord(z.ID, emulator.Record{Type: "CNAME", Name: "old.example.com", Content: TunnelTarget(tun.ID), Proxied: true})
	keep := e.AddRecord(z.ID, emulator.Record{Type: "CNAME", Name: "keep.example.com", Content: TunnelTarget(tun.ID), Proxied: true})
	base := e.Start(t)
	a, _ := newTestAPI(t, base, tun.ID, nil)
	marker := Marker("pa-ecosystem")

	got, err := a.Batch(context.Background(), z.ID, DNSBatch{
		Deletes: []string{old.ID},
		Patches: []DNSPatch{{ID: keep.ID, Comment: &marker}},
		Posts:   []DNSRecord{{Type: "CNAME", Name: "new.example.com", Content: TunnelTarget(tun.ID), Proxied: true, Comment: marker}},
	})
	if err != nil {
		t.Fatalf("Batch: %v", err)
	}

	var lines []string
	for _, r := range got {
		lines = append(lines, fmt.Sprintf("%s %s %s ttl=%d comment=%q zone=%v", r.Type, r.Name, r.Content, r.TTL, r.Comment, r.ZoneID == z.ID))
	}
	want := []string{
		fmt.Sprintf("CNAME keep.example.com %s ttl=1 comment=%q zone=true", TunnelTarget(tun.ID), marker),
		fmt.Sprintf("CNAME new.example.com %s ttl=1 comment=%q zone=true", TunnelTarget(tun.ID), marker),
	}
	if !slices.Equal(lines, want) {
		t.Errorf("Batch result =\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}

	var names []string
	for _, r := range e.Records(z.ID) {
		names = append(names, r.Name)
	}
	if wantNames := []string{"keep.example.com", "new.example.com"}; !slices.Equal(names, wantNames) {
		t.Errorf("records after Batch = %q, want %q", names, wantNames)
	}

	calls := e.Calls()
	wantBody := `{"deletes":[{"id":"` + old.ID + `"}],"patches":[{"id":"` + keep.ID + `","comment":"` + marker + `"}],"posts":[{"type":"CNAME","name":"new.example.com","content":"` + TunnelTarget(tun.ID) + `","proxied":true,"ttl":1,"comment":"` + marker + `"}]}`
	if len(calls) != 1 || string(calls[0].Body) != wantBody {
		t.Errorf("Batch calls = %q, body %s; want one POST with %s", callLines(calls), calls[0].Body, wantBody)
	}
}

func TestBatchEmptyMakesNoCall(t *testing.T) {
	e, z, tun := newTestEmulator()
	base := e.Start(t)
	a, _ := newTestAPI(t, base, tun.ID, nil)

	got, err := a.Batch(context.Background(), z.ID, DNSBatch{})
	if err != nil || got != nil {
		t.Errorf("Batch of nothing = %v, %v; want nil, nil", got, err)
	}
	if n := len(e.Calls()); n != 0 {
		t.Errorf("Batch of nothing made %d calls, want 0", n)
	}
}

func TestPreflight(t *testing.T) {
	tests := []struct {
		name  string
		perms []emulator.Permission
		// wantPerms are the permissions the error must name. None means success.
		wantPerms []string
	}{
		{name: "all permissions", perms: emulator.AllPermissions()},
		{
			name:      "read only",
			perms:     []emulator.Permission{emulator.TunnelRead, emulator.ZoneRead, emulator.DNSRead},
			wantPerms: []string{PermissionTunnelEdit, PermissionDNSEdit},
		},
		{
			name:      "no dns edit",
			perms:     []emulator.Permission{emulator.TunnelEdit, emulator.ZoneRead, emulator.DNSRead},
			wantPerms: []string{PermissionDNSEdit},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, z, tun := newTestEmulator()
			e.AddToken(testToken, tt.perms...)
			before := e.Records(z.ID)
			base := e.Start(t)
			a, _ := newTestAPI(t, base, tun.ID, nil)

			err := a.Preflight(context.Background(), []string{z.ID, z.ID})

			wantCalls := []string{
				"PATCH /accounts/" + testAccount + "/cfd_tunnel/" + tun.ID,
				"POST /zones/" + z.ID + "/dns_records/batch",
			}
			if got := callLines(e.Calls()); !slices.Equal(got, wantCalls) {
				t.Errorf("calls = %q, want %q", got, wantCalls)
			}
			if got := e.Records(z.ID); !slices.EqualFunc(got, before, func(x, y emulator.Record) bool { return x.ID == y.ID }) {
				t.Errorf("Preflight changed records: %v", got)
			}

			if len(tt.wantPerms) == 0 {
				if err != nil {
					t.Fatalf("Preflight: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrPermission) {
				t.Fatalf("Preflight error = %v, want ErrPermission", err)
			}
			for _, p := range tt.wantPerms {
				if !strings.Contains(err.Error(), "lacks "+p) {
					t.Errorf("Preflight error %q does not name %q", err, p)
				}
			}
		})
	}
}

func TestForbiddenNamesPermissions(t *testing.T) {
	e, _, tun := newTestEmulator()
	e.AddToken(testToken, emulator.TunnelRead, emulator.DNSRead)
	base := e.Start(t)
	a, _ := newTestAPI(t, base, tun.ID, nil)

	_, err := a.Read(context.Background())

	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusForbidden {
		t.Fatalf("Read error = %v, want *APIError with status 403", err)
	}
	if !errors.Is(err, ErrPermission) {
		t.Errorf("Read error %q does not wrap ErrPermission", err)
	}
	if apiErr.Permission != PermissionZoneRead {
		t.Errorf("Permission = %q, want %q", apiErr.Permission, PermissionZoneRead)
	}
	for _, p := range []string{PermissionTunnelEdit, PermissionDNSEdit, PermissionZoneRead} {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("Read error %q does not name %q", err, p)
		}
	}
}

// headerRecorder is a transport that records what each request carries when
// it leaves the client.
type headerRecorder struct {
	next http.RoundTripper

	mu       sync.Mutex
	requests []*http.Request
}

func (h *headerRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	h.mu.Lock()
	h.requests = append(h.requests, r.Clone(context.Background()))
	h.mu.Unlock()
	return h.next.RoundTrip(r)
}

func TestStrayEnvironmentIgnored(t *testing.T) {
	stray := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request reached the server named by CLOUDFLARE_BASE_URL: %s %s", r.Method, r.URL)
		http.Error(w, "wrong server", http.StatusTeapot)
	}))
	t.Cleanup(stray.Close)
	t.Setenv("CLOUDFLARE_BASE_URL", stray.URL+"/client/v4")
	t.Setenv("CLOUDFLARE_API_TOKEN", "junk-env-token")
	t.Setenv("CLOUDFLARE_API_KEY", "junk-env-key")
	t.Setenv("CLOUDFLARE_EMAIL", "junk@example.invalid")
	t.Setenv("CLOUDFLARE_API_USER_SERVICE_KEY", "junk-env-service-key")

	e, z, tun := newTestEmulator()
	base := e.Start(t)
	recorder := &headerRecorder{next: &http.Transport{}}
	a, _ := newTestAPI(t, base, tun.ID, func(c *APIConfig) {
		c.HTTPClient = &http.Client{Transport: recorder}
	})

	if _, err := a.Read(context.Background()); err != nil {
		t.Fatalf("Read: %v", err)
	}
	if _, err := a.Batch(context.Background(), z.ID, DNSBatch{Deletes: []string{"0000"}}); err == nil {
		t.Error("Batch deleting an unknown record succeeded, want an error")
	}

	baseURL, err := url.Parse(base)
	if err != nil {
		t.Fatalf("emulator base url: %v", err)
	}
	recorder.mu.Lock()
	defer recorder.mu.Unlock()
	if len(recorder.requests) != len(e.Calls()) {
		t.Errorf("client sent %d requests, emulator saw %d", len(recorder.requests), len(e.Calls()))
	}
	for _, r := range recorder.requests {
		if r.URL.Host != baseURL.Host {
			t.Errorf("request to %s, want host %s", r.URL, baseURL.Host)
		}
		if got := r.Header.Values("Authorization"); !slices.Equal(got, []string{"Bearer " + testToken}) {
			t.Errorf("%s %s Authorization = %q, want only the configured token", r.Method, r.URL.Path, got)
		}
		for _, h := range []string{"X-Auth-Email", "X-Auth-Key", "X-Auth-User-Service-Key"} {
			if v := r.Header.Get(h); v != "" {
				t.Errorf("%s %s sent %s: %q", r.Method, r.URL.Path, h, v)
			}
		}
	}
}

func TestTokenRedacted(t *testing.T) {
	const secret = "made-up-token-Zq7vW3xK9p"
	e, _, tun := newTestEmulator()
	e.AddToken(secret, emulator.TunnelRead, emulator.ZoneRead, emulator.DNSRead)
	base := e.Start(t)

	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, _ := newTestAPI(t, base, tun.ID, func(c *APIConfig) {
		c.Token = secret
		c.Logger = logger
	})

	cfg, err := a.ReadConfig(context.Background())
	if err != nil {
		t.Fatalf("ReadConfig: %v", err)
	}
	_, err = a.WriteConfig(context.Background(), cfg, []LiveRule{{Rule: ingress.Rule{Service: "http_status:404"}}})

	if !errors.Is(err, ErrPermission) {
		t.Fatalf("WriteConfig error = %v, want ErrPermission", err)
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("error text contains the token: %q", err)
	}
	if !strings.Contains(logs.String(), "cloudflare api request") {
		t.Fatalf("debug log has no request lines:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "Authorization: "+apiRedacted) {
		t.Errorf("debug log does not show the redacted Authorization header:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), secret) {
		t.Errorf("debug log contains the token:\n%s", logs.String())
	}
}

func TestTokenRedactedFromServerMessage(t *testing.T) {
	e, _, tun := newTestEmulator()
	e.Fail(emulator.Fault{Method: http.MethodGet, Status: http.StatusBadRequest, Message: "invalid token " + testToken})
	base := e.Start(t)
	a, _ := newTestAPI(t, base, tun.ID, nil)

	_, err := a.ResolveTunnel(context.Background())
	if err == nil {
		t.Fatal("ResolveTunnel succeeded, want an error")
	}
	if strings.Contains(err.Error(), testToken) {
		t.Errorf("error text contains the token: %q", err)
	}
}

func TestNewAPIRejectsInvalidConfig(t *testing.T) {
	valid := APIConfig{BaseURL: "http://127.0.0.1:1/client/v4", Token: testToken, AccountID: testAccount, Tunnel: "web"}
	tests := []struct {
		name string
		edit func(*APIConfig)
		want string
	}{
		{name: "no base url", edit: func(c *APIConfig) { c.BaseURL = "" }, want: "cloudflare.api_base_url"},
		{name: "relative base url", edit: func(c *APIConfig) { c.BaseURL = "/client/v4" }, want: "scheme"},
		{name: "ftp base url", edit: func(c *APIConfig) { c.BaseURL = "ftp://127.0.0.1/client/v4" }, want: "scheme"},
		{name: "user info", edit: func(c *APIConfig) { c.BaseURL = "http://someone:pw@127.0.0.1/client/v4" }, want: "user information"},
		{name: "no token", edit: func(c *APIConfig) { c.Token = "" }, want: "token is empty"},
		{name: "token with newline", edit: func(c *APIConfig) { c.Token = testToken + "\n" }, want: "whitespace"},
		{name: "no account", edit: func(c *APIConfig) { c.AccountID = " " }, want: "cloudflare.account_id"},
		{name: "no tunnel", edit: func(c *APIConfig) { c.Tunnel = "" }, want: "cloudflare.tunnel"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := valid
			tt.edit(&cfg)
			_, err := NewAPI(cfg)
			if err == nil {
				t.Fatal("NewAPI succeeded, want an error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewAPI error %q does not contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "pw@") {
				t.Errorf("NewAPI error %q shows the URL's password", err)
			}
		})
	}

	if _, err := NewAPI(valid); err != nil {
		t.Errorf("NewAPI(valid) = %v", err)
	}
}

func TestAPIErrorText(t *testing.T) {
	tests := []struct {
		name   string
		err    *APIError
		want   string
		target error
	}{
		{
			name:   "forbidden",
			err:    &APIError{Op: "list zones", Status: 403, Codes: []int{10000}, Message: "Authentication error", Permission: PermissionZoneRead},
			want:   "list zones: cloudflare api returned HTTP 403 Forbidden (code 10000: Authentication error): the API token is invalid or expired, or lacks Zone › Zone › Read; portcullis needs Account › Cloudflare Tunnel › Edit, Zone › DNS › Edit, Zone › Zone › Read",
			target: ErrPermission,
		},
		{
			name:   "unauthorized without permission",
			err:    &APIError{Op: "get tunnel", Status: 401},
			want:   "get tunnel: cloudflare api returned HTTP 401 Unauthorized: the API token is invalid or expired, or lacks a permission; portcullis needs Account › Cloudflare Tunnel › Edit, Zone › DNS › Edit, Zone › Zone › Read",
			target: ErrPermission,
		},
		{
			name:   "rate limited",
			err:    &APIError{Op: "list zones", Status: 429, Codes: []int{971}, Message: "slow down", RetryAfter: 5 * time.Minute},
			want:   "list zones: cloudflare api returned HTTP 429 Too Many Requests (code 971: slow down): retry after 5m0s",
			target: ErrRateLimited,
		},
		{
			name:   "not found",
			err:    &APIError{Op: "get tunnel", Status: 404, Codes: []int{1003}},
			want:   "get tunnel: cloudflare api returned HTTP 404 Not Found (code 1003)",
			target: ErrNotFound,
		},
		{
			name: "chain",
			err:  &APIError{Op: "batch", Status: 400, Codes: []int{1004, 9300}, Message: "DNS Validation Error; quota"},
			want: "batch: cloudflare api returned HTTP 400 Bad Request (codes 1004, 9300: DNS Validation Error; quota)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() =\n%s\nwant\n%s", got, tt.want)
			}
			if got := tt.err.Unwrap(); got != tt.target {
				t.Errorf("Unwrap() = %v, want %v", got, tt.target)
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, time.March, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		value  string
		want   time.Duration
		wantOK bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{"12", 12 * time.Second, true},
		{" 3 ", 3 * time.Second, true},
		{"-1", 0, false},
		{"1.5", 0, false},
		{"soon", 0, false},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{"99999999999999", 24 * time.Hour, true},
	}
	for _, tt := range tests {
		got, ok := apiParseRetryAfter(tt.value, now)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("apiParseRetryAfter(%q) = %s, %v; want %s, %v", tt.value, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestCanonicalName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Example.COM", "example.com"},
		{"example.com.", "example.com"},
		{"*.example.com", "*.example.com"},
		{"_dmarc.example.com", "_dmarc.example.com"},
		{"bücher.example", "xn--bcher-kva.example"},
		{"WWW.Bücher.example", "www.xn--bcher-kva.example"},
		{"xn--bcher-kva.example", "xn--bcher-kva.example"},
	}
	for _, tt := range tests {
		if got := apiCanonicalName(tt.in); got != tt.want {
			t.Errorf("apiCanonicalName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestBackoffBounded(t *testing.T) {
	a := &API{jitter: apiJitter}
	for attempt := range 70 {
		step := apiBackoffCap
		if attempt < 5 {
			step = apiBackoffBase << attempt
		}
		for range 20 {
			d := a.backoff(attempt)
			if d < step/2 || d > step {
				t.Fatalf("backoff(%d) = %s, want within [%s, %s]", attempt, d, step/2, step)
			}
		}
	}
}

func TestReadByIDRejectsLocallyManaged(t *testing.T) {
	e, _, _ := newTestEmulator()
	local := e.AddTunnel(testAccount, "local-one", "local")
	base := e.Start(t)
	a, _ := newTestAPI(t, base, local.ID, nil)

	_, err := a.Read(context.Background())
	if !errors.Is(err, ErrLocallyManaged) {
		t.Fatalf("Read of a locally-managed tunnel given by id: err = %v, want ErrLocallyManaged", err)
	}
	for _, c := range e.Calls() {
		if c.Method != http.MethodGet {
			t.Errorf("Read made a write call: %s %s", c.Method, c.Path)
		}
	}
}
