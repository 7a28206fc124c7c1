package emulator

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	testAccount = "0123456789abcdef0123456789abcdef"
	testToken   = "test-token"
)

// fixture is an emulator served on 127.0.0.1 with one zone and one
// remotely-managed tunnel, and a token with every permission.
type fixture struct {
	emu    *Emulator
	base   string
	zone   Zone
	tunnel Tunnel
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	emu := New()
	emu.AddToken(testToken, AllPermissions()...)
	f := fixture{
		emu:    emu,
		zone:   emu.AddZone(testAccount, "example.com"),
		tunnel: emu.AddTunnel(testAccount, "pa-ecosystem", "cloudflare"),
	}
	f.base = emu.Start(t)
	return f
}

// reply is a decoded response.
type reply struct {
	status int
	header http.Header
	env    struct {
		Success    bool            `json:"success"`
		Errors     []apiError      `json:"errors"`
		Messages   []apiError      `json:"messages"`
		Result     json.RawMessage `json:"result"`
		ResultInfo *resultInfo     `json:"result_info"`
	}
}

func (f fixture) do(t *testing.T, token, method, path, body string) reply {
	t.Helper()
	req, err := http.NewRequest(method, f.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()

	var r reply
	r.status, r.header = resp.StatusCode, resp.Header
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s %s: Content-Type = %q, want application/json", method, path, ct)
	}
	if err := json.Unmarshal(data, &r.env); err != nil {
		t.Fatalf("%s %s: body is not an envelope: %v\n%s", method, path, err, data)
	}
	return r
}

// errorCode returns the first error code, or 0.
func (r reply) errorCode() int {
	if len(r.env.Errors) == 0 {
		return 0
	}
	return r.env.Errors[0].Code
}

func (r reply) errorMessage() string {
	if len(r.env.Errors) == 0 {
		return ""
	}
	return r.env.Errors[0].Message
}

func (f fixture) tunnelPath(suffix string) string {
	return "/accounts/" + testAccount + "/cfd_tunnel/" + f.tunnel.ID + suffix
}

func (f fixture) recordsPath(suffix string) string {
	return "/zones/" + f.zone.ID + "/dns_records" + suffix
}

func TestAuthErrors(t *testing.T) {
	f := newFixture(t)
	f.emu.AddToken("dns-read-token", DNSRead)

	tests := []struct {
		name       string
		header     string
		value      string
		method     string
		path       string
		wantStatus int
		wantCode   int
		wantChain  int
	}{
		{"missing header", "", "", "GET", "/zones", 400, 9106, 0},
		{"basic scheme", "Authorization", "Basic abc", "GET", "/zones", 400, 6003, 6111},
		{"empty bearer", "Authorization", "Bearer ", "GET", "/zones", 400, 6003, 6111},
		{"bearer with space", "Authorization", "Bearer a b", "GET", "/zones", 400, 6003, 6111},
		{"unknown token", "Authorization", "Bearer made-up-unknown", "GET", "/zones", 403, 10000, 0},
		{"global key", "X-Auth-Key", "made-up-key", "GET", "/zones", 403, 10000, 0},
		{"missing zone read", "Authorization", "Bearer dns-read-token", "GET", "/zones", 403, 10000, 0},
		{"missing tunnel read", "Authorization", "Bearer dns-read-token", "GET", f.tunnelPath(""), 403, 10000, 0},
		{"missing dns edit", "Authorization", "Bearer dns-read-token", "POST", f.recordsPath(""), 403, 10000, 0},
		{"verify unknown", "Authorization", "Bearer made-up-unknown", "GET", "/user/tokens/verify", 403, 10000, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, f.base+tt.path, strings.NewReader(`{}`))
			if err != nil {
				t.Fatal(err)
			}
			if tt.header != "" {
				req.Header.Set(tt.header, tt.value)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var env struct {
				Errors []apiError `json:"errors"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
				t.Fatal(err)
			}

			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if len(env.Errors) != 1 || env.Errors[0].Code != tt.wantCode {
				t.Fatalf("errors = %+v, want one with code %d", env.Errors, tt.wantCode)
			}
			gotChain := 0
			if len(env.Errors[0].ErrorChain) > 0 {
				gotChain = env.Errors[0].ErrorChain[0].Code
			}
			if gotChain != tt.wantChain {
				t.Errorf("error_chain code = %d, want %d", gotChain, tt.wantChain)
			}
		})
	}
}

func TestPermissionsPerEndpoint(t *testing.T) {
	f := newFixture(t)
	rec := f.emu.AddRecord(f.zone.ID, Record{Type: "A", Name: "a", Content: "192.0.2.1"})
	tokens := map[string][]Permission{
		"tunnel-read": {TunnelRead}, "tunnel-edit": {TunnelEdit}, "zone-read": {ZoneRead},
		"dns-read": {DNSRead}, "dns-edit": {DNSEdit},
	}
	for token, perms := range tokens {
		f.emu.AddToken(token, perms...)
	}
	config := `{"config":{"ingress":[{"service":"http_status:404"}]}}`

	tests := []struct {
		method, path, body string
		allowed            []string
	}{
		{"GET", "/accounts/" + testAccount + "/cfd_tunnel", "", []string{"tunnel-read", "tunnel-edit"}},
		{"GET", f.tunnelPath(""), "", []string{"tunnel-read", "tunnel-edit"}},
		{"PATCH", f.tunnelPath(""), "{}", []string{"tunnel-edit"}},
		{"GET", f.tunnelPath("/configurations"), "", []string{"tunnel-read", "tunnel-edit"}},
		{"PUT", f.tunnelPath("/configurations"), config, []string{"tunnel-edit"}},
		{"GET", "/zones", "", []string{"zone-read"}},
		{"GET", f.recordsPath(""), "", []string{"dns-read", "dns-edit"}},
		{"GET", f.recordsPath("/" + rec.ID), "", []string{"dns-read", "dns-edit"}},
		{"PATCH", f.recordsPath("/" + rec.ID), `{"comment":"x"}`, []string{"dns-edit"}},
		{"POST", f.recordsPath("/batch"), `{}`, []string{"dns-edit"}},
	}
	for _, tt := range tests {
		for token := range tokens {
			t.Run(tt.method+" "+tt.path+" "+token, func(t *testing.T) {
				r := f.do(t, token, tt.method, tt.path, tt.body)
				want := http.StatusForbidden
				for _, a := range tt.allowed {
					if a == token {
						want = http.StatusOK
					}
				}
				if r.status != want {
					t.Errorf("status = %d, want %d (%s)", r.status, want, r.errorMessage())
				}
			})
		}
	}
}

func TestUnknownRoutes(t *testing.T) {
	f := newFixture(t)
	for _, path := range []string{"/nothing", "/zones/x/other", "/accounts/" + testAccount + "/cfd_tunnel/x/y/z"} {
		r := f.do(t, testToken, "GET", path, "")
		if r.status != http.StatusNotFound || r.errorCode() != 7003 {
			t.Errorf("GET %s = %d code %d, want 404 code 7003", path, r.status, r.errorCode())
		}
	}
	r := f.do(t, testToken, "DELETE", "/zones", "")
	if r.status != http.StatusNotFound || r.errorCode() != 7003 {
		t.Errorf("DELETE /zones = %d code %d, want 404 code 7003", r.status, r.errorCode())
	}
}

func TestVerifyToken(t *testing.T) {
	f := newFixture(t)
	r := f.do(t, testToken, "GET", "/user/tokens/verify", "")
	if r.status != http.StatusOK || !r.env.Success {
		t.Fatalf("status = %d, success = %v", r.status, r.env.Success)
	}
	if !strings.Contains(string(r.env.Result), `"status":"active"`) {
		t.Errorf("result = %s, want status active", r.env.Result)
	}
}

func TestTunnelList(t *testing.T) {
	f := newFixture(t)
	gone := f.emu.AddTunnel(testAccount, "old", "cloudflare")
	f.emu.DeleteTunnel(gone.ID)
	f.emu.AddTunnel("fedcba9876543210fedcba9876543210", "elsewhere", "cloudflare")

	tests := []struct {
		query string
		want  []string
	}{
		{"", []string{"pa-ecosystem", "old"}},
		{"?is_deleted=false", []string{"pa-ecosystem"}},
		{"?is_deleted=true", []string{"old"}},
		{"?name=pa-ecosystem", []string{"pa-ecosystem"}},
		{"?name=PA-ECOSYSTEM", nil},
		{"?uuid=" + gone.ID, []string{"old"}},
		{"?per_page=1&page=2", []string{"old"}},
		{"?per_page=1&page=3", nil},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			r := f.do(t, testToken, "GET", "/accounts/"+testAccount+"/cfd_tunnel"+tt.query, "")
			if r.status != http.StatusOK {
				t.Fatalf("status = %d: %s", r.status, r.errorMessage())
			}
			var got []struct {
				Name      string  `json:"name"`
				DeletedAt *string `json:"deleted_at"`
			}
			if err := json.Unmarshal(r.env.Result, &got); err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, g := range got {
				names = append(names, g.Name)
				if (g.DeletedAt != nil) != (g.Name == "old") {
					t.Errorf("%s: deleted_at = %v", g.Name, g.DeletedAt)
				}
			}
			if fmt.Sprint(names) != fmt.Sprint(tt.want) {
				t.Errorf("names = %v, want %v", names, tt.want)
			}
		})
	}

	r := f.do(t, testToken, "GET", "/accounts/ffffffffffffffffffffffffffffffff/cfd_tunnel", "")
	if r.status != http.StatusForbidden {
		t.Errorf("unknown account: status = %d, want 403", r.status)
	}
}

func TestTunnelGetAndPatch(t *testing.T) {
	f := newFixture(t)
	f.emu.AddTunnel(testAccount, "taken", "cloudflare")

	r := f.do(t, testToken, "GET", f.tunnelPath(""), "")
	if r.status != 200 || !strings.Contains(string(r.env.Result), `"config_src":"cloudflare"`) ||
		!strings.Contains(string(r.env.Result), `"status":"healthy"`) {
		t.Errorf("GET = %d %s", r.status, r.env.Result)
	}

	r = f.do(t, testToken, "PATCH", f.tunnelPath(""), "{}")
	if r.status != 200 || f.emu.Tunnels()[0].Name != "pa-ecosystem" {
		t.Errorf("empty PATCH = %d, name %q", r.status, f.emu.Tunnels()[0].Name)
	}
	r = f.do(t, testToken, "PATCH", f.tunnelPath(""), `{"name":"renamed"}`)
	if r.status != 200 || f.emu.Tunnels()[0].Name != "renamed" {
		t.Errorf("rename PATCH = %d, name %q", r.status, f.emu.Tunnels()[0].Name)
	}
	r = f.do(t, testToken, "PATCH", f.tunnelPath(""), `{"name":"taken"}`)
	if r.status != http.StatusConflict || r.errorCode() != 1013 || r.header.Get("X-Should-Retry") != "false" {
		t.Errorf("duplicate name PATCH = %d code %d", r.status, r.errorCode())
	}
	r = f.do(t, testToken, "GET", "/accounts/"+testAccount+"/cfd_tunnel/00000000-0000-4000-a000-000000000000", "")
	if r.status != http.StatusNotFound {
		t.Errorf("unknown tunnel = %d, want 404", r.status)
	}
}

func TestConfigRoundTrip(t *testing.T) {
	f := newFixture(t)

	r := f.do(t, testToken, "GET", f.tunnelPath("/configurations"), "")
	if r.status != 200 || !strings.Contains(string(r.env.Result), `"version":0`) ||
		!strings.Contains(string(r.env.Result), `"config":null`) {
		t.Fatalf("first GET = %d %s, want version 0 and config null", r.status, r.env.Result)
	}

	body := `{"config":{"originRequest":{"connectTimeout":10,"futureKey":[1,2]},"ingress":[` +
		`{"hostname":"a.example.com","service":"http://web:80","originRequest":{"bastionMode":false,"unmodelled":{"x":1.50}}},` +
		`{"service":"http_status:404"}]}}`
	for i, wantVersion := range []int64{1, 2} {
		r = f.do(t, testToken, "PUT", f.tunnelPath("/configurations"), body)
		if r.status != 200 {
			t.Fatalf("PUT %d = %d: %s", i, r.status, r.errorMessage())
		}
		var got configJSON
		if err := json.Unmarshal(r.env.Result, &got); err != nil {
			t.Fatal(err)
		}
		if got.Version != wantVersion {
			t.Errorf("PUT %d: version = %d, want %d", i, got.Version, wantVersion)
		}
	}

	version, config := f.emu.Config(f.tunnel.ID)
	if version != 2 {
		t.Errorf("Config version = %d, want 2", version)
	}
	want := `{"ingress":[{"hostname":"a.example.com","service":"http://web:80","originRequest":{"bastionMode":false,"unmodelled":{"x":1.50}}},{"service":"http_status:404"}],` +
		`"originRequest":{"connectTimeout":10,"futureKey":[1,2]},"warp-routing":{"enabled":false}}`
	if string(config) != want {
		t.Errorf("stored config =\n%s\nwant\n%s", config, want)
	}
}

func TestConfigPutErrors(t *testing.T) {
	f := newFixture(t)
	local := f.emu.AddTunnel(testAccount, "local", "local")
	gone := f.emu.AddTunnel(testAccount, "gone", "cloudflare")
	f.emu.DeleteTunnel(gone.ID)
	valid := `{"config":{"ingress":[{"service":"http_status:404"}]}}`

	tests := []struct {
		name       string
		tunnelID   string
		body       string
		wantStatus int
		wantCode   int
	}{
		{"local tunnel", local.ID, valid, 400, codeLocallyManaged},
		{"deleted tunnel", gone.ID, valid, 404, 1055},
		{"unknown tunnel", "00000000-0000-4000-a000-000000000000", valid, 404, codeTunnelNotFound},
		{"extra top-level key", f.tunnel.ID, `{"config":{"ingress":[{"service":"http_status:404"}]},"version":3}`, 400, codeMalformedJSON},
		{"missing config", f.tunnel.ID, `{}`, 400, codeInvalidRequest},
		{"not json", f.tunnel.ID, `{"config":`, 400, codeMalformedJSON},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.do(t, testToken, "PUT", "/accounts/"+testAccount+"/cfd_tunnel/"+tt.tunnelID+"/configurations", tt.body)
			if r.status != tt.wantStatus || r.errorCode() != tt.wantCode {
				t.Errorf("= %d code %d (%s), want %d code %d", r.status, r.errorCode(), r.errorMessage(), tt.wantStatus, tt.wantCode)
			}
		})
	}

	r := f.do(t, testToken, "GET", "/accounts/"+testAccount+"/cfd_tunnel/"+gone.ID+"/configurations", "")
	if r.status != 404 || r.errorCode() != 1055 || r.errorMessage() != "Configuration for tunnel not found" {
		t.Errorf("GET deleted config = %d code %d %q", r.status, r.errorCode(), r.errorMessage())
	}
	if v, _ := f.emu.Config(f.tunnel.ID); v != 0 {
		t.Errorf("version after failed PUTs = %d, want 0", v)
	}
}

func TestConfigValidationMessages(t *testing.T) {
	f := newFixture(t)
	const prefix = "Bad Configuration: Validation failed: "

	tests := []struct {
		name    string
		ingress string
		want    string
	}{
		{"empty ingress", `[]`, "The config file doesn't contain any ingress rules"},
		{"last rule has hostname", `[{"hostname":"a.example.com","service":"http://web:80"}]`,
			"The last ingress rule must match all URLs (i.e. it should not have a hostname or path filter)"},
		{"last rule has path", `[{"path":"^/x","service":"http://web:80"}]`,
			"The last ingress rule must match all URLs (i.e. it should not have a hostname or path filter)"},
		{"catch-all too early", `[{"hostname":"*","service":"http://web:80"},{"service":"http_status:404"}]`,
			"Rule #1 is matching the hostname '*', but this will match every hostname, meaning the rules which follow it will never be triggered."},
		{"hostname with port", `[{"hostname":"a.example.com:8443","service":"http://web:80"},{"service":"http_status:404"}]`,
			"Hostname cannot contain a port"},
		{"wildcard inside", `[{"hostname":"a.*.example.com","service":"http://web:80"},{"service":"http_status:404"}]`,
			`Hostname patterns can have at most one wildcard character ("*") and it can only be used for subdomains, e.g. "*.example.com"`},
		{"invalid regex", `[{"hostname":"a.example.com","path":"*","service":"http://web:80"},{"service":"http_status:404"}]`,
			"Rule #1 has an invalid regex: error parsing regexp: missing argument to repetition operator: `*`"},
		{"service with space", `[{"hostname":"a.example.com","service":"http://127.0.0.1:2333 "},{"service":"http_status:404"}]`,
			`parse "http://127.0.0.1:2333 ": invalid port ":2333 " after host`},
		{"service without scheme", `[{"hostname":"a.example.com","service":"localhost:8000"},{"service":"http_status:404"}]`,
			"localhost:8000 is an invalid address, please make sure it has a scheme and a hostname"},
		{"service with path", `[{"hostname":"a.example.com","service":"https://localhost:8000/"},{"service":"http_status:404"}]`,
			"https://localhost:8000/ is an invalid address, ingress rules don't support proxying to a different path on the origin service. The path will be the same as the eyeball request's path"},
		{"status out of range", `[{"service":"http_status:99"}]`, "invalid HTTP status code: 99"},
		{"fractional duration", `[{"hostname":"a.example.com","service":"http://web:80","originRequest":{"connectTimeout":10.5}},{"service":"http_status:404"}]`,
			"Rule #1 originRequest.connectTimeout: invalid duration 10.5: must be a whole number of seconds"},
		{"access without team", `[{"hostname":"a.example.com","service":"http://web:80","originRequest":{"access":{"required":true,"audTag":["x"]}}},{"service":"http_status:404"}]`,
			"access.TeamName cannot be blank when access.audTag is present"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.do(t, testToken, "PUT", f.tunnelPath("/configurations"), `{"config":{"ingress":`+tt.ingress+`}}`)
			if r.status != http.StatusBadRequest || r.errorCode() != 1056 {
				t.Fatalf("= %d code %d, want 400 code 1056", r.status, r.errorCode())
			}
			if got, want := r.errorMessage(), prefix+tt.want+"\n"; got != want {
				t.Errorf("message =\n%q\nwant\n%q", got, want)
			}
		})
	}

	accepted := []string{
		`[{"hostname":"*.example.com","service":"tcp://db:5432"},{"service":"hello_world"}]`,
		`[{"path":"^/api","service":"unix:/run/app.sock"},{"hostname":"*","service":"http_status:503"}]`,
		`[{"hostname":"bücher.example.com","service":"ssh://host:22"},{"service":"http_status:404"}]`,
		`[{"hostname":"a.example.com","service":"anything","originRequest":{"bastionMode":true}},{"service":"http_status:404"}]`,
	}
	for _, ingress := range accepted {
		r := f.do(t, testToken, "PUT", f.tunnelPath("/configurations"), `{"config":{"ingress":`+ingress+`}}`)
		if r.status != http.StatusOK {
			t.Errorf("ingress %s rejected: %s", ingress, r.errorMessage())
		}
	}
}

func TestRecordCreateAndConflicts(t *testing.T) {
	f := newFixture(t)
	f.emu.AddRecord(f.zone.ID, Record{Type: "A", Name: "a.example.com", Content: "192.0.2.1"})
	f.emu.AddRecord(f.zone.ID, Record{Type: "CNAME", Name: "c.example.com", Content: "t.cfargotunnel.com", Proxied: true})

	tests := []struct {
		name       string
		body       string
		wantStatus int
		wantCode   int
	}{
		{"cname on a name", `{"type":"CNAME","name":"a.example.com","content":"t.cfargotunnel.com"}`, 400, 81053},
		{"cname on cname", `{"type":"CNAME","name":"c.example.com","content":"u.cfargotunnel.com"}`, 400, 81053},
		{"a on cname", `{"type":"A","name":"C.Example.com","content":"192.0.2.2"}`, 400, 81054},
		{"identical a", `{"type":"A","name":"a","content":"192.0.2.1"}`, 400, 81058},
		{"second a", `{"type":"A","name":"a.example.com","content":"192.0.2.2"}`, 200, 0},
		{"comment too long", `{"type":"CNAME","name":"d.example.com","content":"t.cfargotunnel.com","comment":"` + strings.Repeat("x", 101) + `"}`, 400, 9313},
		{"comment at limit", `{"type":"CNAME","name":"e.example.com","content":"t.cfargotunnel.com","comment":"` + strings.Repeat("x", 100) + `"}`, 200, 0},
		{"tags on free", `{"type":"CNAME","name":"f.example.com","content":"t.cfargotunnel.com","tags":["owner:x"]}`, 400, 1004},
		{"bad ipv4", `{"type":"A","name":"g.example.com","content":"not-an-ip"}`, 400, 1004},
		{"v0 read-only keys", `{"created_on":"0001-01-01T00:00:00Z","modified_on":"0001-01-01T00:00:00Z","type":"CNAME","name":"h.example.com","content":"t.cfargotunnel.com","ttl":1,"proxied":true,"settings":{}}`, 200, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.do(t, testToken, "POST", f.recordsPath(""), tt.body)
			if r.status != tt.wantStatus || r.errorCode() != tt.wantCode {
				t.Errorf("= %d code %d (%s), want %d code %d", r.status, r.errorCode(), r.errorMessage(), tt.wantStatus, tt.wantCode)
			}
		})
	}

	r := f.do(t, testToken, "POST", f.recordsPath(""), `{"type":"CNAME","name":"Bücher","content":"t.cfargotunnel.com","proxied":true,"ttl":300}`)
	var got recordJSON
	if err := json.Unmarshal(r.env.Result, &got); err != nil {
		t.Fatal(err)
	}
	if got.Name != "xn--bcher-kva.example.com" || got.TTL != 1 || got.Comment != nil || got.CreatedOn != "2026-01-02T03:04:05.678901Z" {
		t.Errorf("created record = %+v", got)
	}
}

func TestRecordUpdateAndDelete(t *testing.T) {
	f := newFixture(t)
	f.emu.SetZonePlan(f.zone.ID, "pro")
	rec := f.emu.AddRecord(f.zone.ID, Record{Type: "CNAME", Name: "a", Content: "t.cfargotunnel.com", Proxied: true, Comment: "keep", Tags: []string{"k:v"}})

	r := f.do(t, testToken, "PATCH", f.recordsPath("/"+rec.ID), `{"content":"u.cfargotunnel.com"}`)
	if r.status != 200 {
		t.Fatalf("PATCH = %d: %s", r.status, r.errorMessage())
	}
	if got := f.emu.Records(f.zone.ID)[0]; got.Content != "u.cfargotunnel.com" || got.Comment != "keep" || !got.Proxied || len(got.Tags) != 1 {
		t.Errorf("after PATCH = %+v, want content changed and the rest kept", got)
	}

	r = f.do(t, testToken, "PUT", f.recordsPath("/"+rec.ID), `{"type":"CNAME","name":"a.example.com","content":"v.cfargotunnel.com"}`)
	if r.status != 200 {
		t.Fatalf("PUT = %d: %s", r.status, r.errorMessage())
	}
	if got := f.emu.Records(f.zone.ID)[0]; got.Comment != "" || got.Proxied || got.Tags != nil || got.TTL != 1 {
		t.Errorf("after PUT = %+v, want defaults", got)
	}

	r = f.do(t, testToken, "DELETE", f.recordsPath("/"+rec.ID), "")
	if r.status != 200 || string(r.env.Result) != `{"id":"`+rec.ID+`"}` {
		t.Errorf("DELETE = %d %s", r.status, r.env.Result)
	}
	for _, method := range []string{"GET", "PATCH", "DELETE"} {
		r = f.do(t, testToken, method, f.recordsPath("/"+rec.ID), `{}`)
		if r.status != 404 || r.errorCode() != 81044 || r.errorMessage() != "Record does not exist." {
			t.Errorf("%s deleted record = %d code %d", method, r.status, r.errorCode())
		}
	}
}

func TestRecordListFilters(t *testing.T) {
	f := newFixture(t)
	f.emu.SetZonePlan(f.zone.ID, "pro")
	owned := "portcullis:v1 owner=pa"
	for _, r := range []Record{
		{Type: "CNAME", Name: "app", Content: "T.cfargotunnel.com", Proxied: true, Comment: owned},
		{Type: "CNAME", Name: "api", Content: "t.cfargotunnel.com", Proxied: true, Comment: "portcullis:v1 owner=other", Tags: []string{"env:prod"}},
		{Type: "A", Name: "mail", Content: "192.0.2.1"},
		{Type: "TXT", Name: "example.com", Content: "v=spf1 -all", Tags: []string{"env:dev"}},
	} {
		f.emu.AddRecord(f.zone.ID, r)
	}

	tests := []struct {
		query string
		want  string
	}{
		{"", "api app example.com mail"},
		{"?name=APP.example.com", "app"},
		{"?name.exact=app.example.com&type=CNAME", "app"},
		{"?name.startswith=ap", "api app"},
		{"?name.endswith=.example.com", "api app mail"},
		{"?name.contains=AI", "mail"},
		{"?type=a", "mail"},
		{"?content=t.cfargotunnel.com", "api app"},
		{"?content.startswith=192.0", "mail"},
		{"?comment=" + strings.ReplaceAll(owned, " ", "%20"), "app"},
		{"?comment.startswith=portcullis:v1", "api app"},
		{"?comment.present=1", "api app"},
		{"?comment.absent=1", "example.com mail"},
		{"?proxied=false", "example.com mail"},
		{"?type=A&type=TXT", "mail"},
		{"?match=any&type=A&name=app.example.com", "app mail"},
		{"?tag=env", "api example.com"},
		{"?tag=env:prod", "api"},
		{"?tag.absent=env", "app mail"},
		{"?tag.startswith=env:d", "example.com"},
		{"?tag_match=any&tag=env:prod&tag=env:dev", "api"},
		{"?tag-match=any&tag.exact=env:dev&tag.contains=env:pro", "api example.com"},
		{"?order=type&direction=desc", "example.com api app mail"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			r := f.do(t, testToken, "GET", f.recordsPath(tt.query), "")
			if r.status != 200 {
				t.Fatalf("status = %d: %s", r.status, r.errorMessage())
			}
			var got []recordJSON
			if err := json.Unmarshal(r.env.Result, &got); err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, g := range got {
				names = append(names, strings.TrimSuffix(strings.TrimSuffix(g.Name, "example.com"), "."))
			}
			for i, n := range names {
				if n == "" {
					names[i] = "example.com"
				}
			}
			if strings.Join(names, " ") != tt.want {
				t.Errorf("names = %q, want %q", strings.Join(names, " "), tt.want)
			}
		})
	}

	for _, query := range []string{"?proxied=maybe", "?match=some", "?page=0", "?per_page=x", "?name.like=a", "?order=id"} {
		if r := f.do(t, testToken, "GET", f.recordsPath(query), ""); r.status != http.StatusBadRequest {
			t.Errorf("GET %s = %d, want 400", query, r.status)
		}
	}
}

func TestPagination(t *testing.T) {
	f := newFixture(t)
	for i := range 5 {
		f.emu.AddRecord(f.zone.ID, Record{Type: "A", Name: fmt.Sprintf("h%d", i), Content: "192.0.2.1"})
	}

	tests := []struct {
		query string
		want  resultInfo
	}{
		{"", resultInfo{Page: 1, PerPage: 100, Count: 5, TotalCount: 5, TotalPages: 1}},
		{"?per_page=2", resultInfo{Page: 1, PerPage: 2, Count: 2, TotalCount: 5, TotalPages: 3}},
		{"?per_page=2&page=3", resultInfo{Page: 3, PerPage: 2, Count: 1, TotalCount: 5, TotalPages: 3}},
		{"?per_page=2&page=4", resultInfo{Page: 4, PerPage: 2, Count: 0, TotalCount: 5, TotalPages: 3}},
		{"?per_page=2&page=99999999999", resultInfo{Page: 99999999999, PerPage: 2, Count: 0, TotalCount: 5, TotalPages: 3}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			r := f.do(t, testToken, "GET", f.recordsPath(tt.query), "")
			if r.status != 200 || r.env.ResultInfo == nil {
				t.Fatalf("status = %d, result_info = %v", r.status, r.env.ResultInfo)
			}
			if *r.env.ResultInfo != tt.want {
				t.Errorf("result_info = %+v, want %+v", *r.env.ResultInfo, tt.want)
			}
			if tt.want.Count == 0 && string(r.env.Result) != "[]" {
				t.Errorf("result = %s, want []", r.env.Result)
			}
		})
	}

	r := f.do(t, testToken, "GET", "/zones?per_page=500", "")
	if r.env.ResultInfo == nil || r.env.ResultInfo.PerPage != 50 {
		t.Errorf("zones per_page 500: result_info = %+v, want per_page 50", r.env.ResultInfo)
	}
}

func TestBatchOrderAndResult(t *testing.T) {
	f := newFixture(t)
	a := f.emu.AddRecord(f.zone.ID, Record{Type: "A", Name: "app", Content: "192.0.2.1"})
	b := f.emu.AddRecord(f.zone.ID, Record{Type: "CNAME", Name: "b", Content: "old.cfargotunnel.com", Proxied: true})

	// The post only succeeds because the delete of the A record runs first.
	body := `{"posts":[{"type":"CNAME","name":"app.example.com","content":"t.cfargotunnel.com","proxied":true,"comment":"portcullis:v1 owner=pa"}],` +
		`"patches":[{"id":"` + b.ID + `","content":"t.cfargotunnel.com"}],` +
		`"deletes":[{"id":"` + a.ID + `"}]}`
	r := f.do(t, testToken, "POST", f.recordsPath("/batch"), body)
	if r.status != 200 {
		t.Fatalf("batch = %d: %s", r.status, r.errorMessage())
	}
	var got batchResult
	if err := json.Unmarshal(r.env.Result, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Deletes) != 1 || got.Deletes[0].ID != a.ID || len(got.Patches) != 1 || len(got.Posts) != 1 || len(got.Puts) != 0 {
		t.Errorf("result = %+v", got)
	}

	records := f.emu.Records(f.zone.ID)
	if len(records) != 2 || records[0].Type != "CNAME" || records[0].Name != "app.example.com" || records[1].Content != "t.cfargotunnel.com" {
		t.Errorf("records = %+v", records)
	}
}

func TestBatchAllOrNothing(t *testing.T) {
	f := newFixture(t)
	a := f.emu.AddRecord(f.zone.ID, Record{Type: "A", Name: "app", Content: "192.0.2.1"})
	c := f.emu.AddRecord(f.zone.ID, Record{Type: "CNAME", Name: "taken", Content: "x.cfargotunnel.com"})
	before := f.emu.Records(f.zone.ID)

	tests := []struct {
		name     string
		body     string
		wantCode int
	}{
		{"bad post rolls back deletes", `{"deletes":[{"id":"` + a.ID + `"},{"id":"` + c.ID + `"}],"posts":[` +
			`{"type":"CNAME","name":"new","content":"t.cfargotunnel.com"},` +
			`{"type":"CNAME","name":"bad","content":"t.cfargotunnel.com","comment":"` + strings.Repeat("y", 101) + `"}]}`, 9313},
		{"conflict in posts", `{"posts":[{"type":"CNAME","name":"n1","content":"t.cfargotunnel.com"},{"type":"CNAME","name":"n1","content":"u.cfargotunnel.com"}]}`, 81053},
		{"unknown delete", `{"deletes":[{"id":"` + a.ID + `"},{"id":"ffffffffffffffffffffffffffffffff"}]}`, 81044},
		{"patch into conflict", `{"patches":[{"id":"` + a.ID + `","name":"taken.example.com"}]}`, 81054},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.do(t, testToken, "POST", f.recordsPath("/batch"), tt.body)
			if r.status < 400 || r.errorCode() != tt.wantCode {
				t.Errorf("= %d code %d (%s), want code %d", r.status, r.errorCode(), r.errorMessage(), tt.wantCode)
			}
			if after := f.emu.Records(f.zone.ID); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Errorf("records changed:\n%v\nwant\n%v", after, before)
			}
		})
	}

	// Ids handed out inside a failed batch are handed out again, so ids stay
	// the same whether or not a failed batch came first.
	r := f.do(t, testToken, "POST", f.recordsPath(""), `{"type":"CNAME","name":"z","content":"t.cfargotunnel.com"}`)
	fresh := New()
	fresh.AddZone(testAccount, "example.com")
	fresh.AddTunnel(testAccount, "pa-ecosystem", "cloudflare")
	fresh.AddRecord(fresh.Zones()[0].ID, Record{Type: "A", Name: "app", Content: "192.0.2.1"})
	fresh.AddRecord(fresh.Zones()[0].ID, Record{Type: "CNAME", Name: "taken", Content: "x.cfargotunnel.com"})
	var got recordJSON
	if err := json.Unmarshal(r.env.Result, &got); err != nil {
		t.Fatal(err)
	}
	if want := fresh.newHexID(); got.ID != want {
		t.Errorf("id after failed batches = %s, want %s", got.ID, want)
	}
}

func TestBatchLimit(t *testing.T) {
	f := newFixture(t)
	posts := func(n int) string {
		var items []string
		for i := range n {
			items = append(items, fmt.Sprintf(`{"type":"A","name":"h%d","content":"192.0.2.1"}`, i))
		}
		return `{"posts":[` + strings.Join(items, ",") + `]}`
	}

	r := f.do(t, testToken, "POST", f.recordsPath("/batch"), posts(201))
	if r.status != 400 || r.errorCode() != codeBatchTooLarge {
		t.Errorf("201 ops on free = %d code %d, want 400 code %d", r.status, r.errorCode(), codeBatchTooLarge)
	}
	if n := len(f.emu.Records(f.zone.ID)); n != 0 {
		t.Errorf("records after rejected batch = %d, want 0", n)
	}
	r = f.do(t, testToken, "POST", f.recordsPath("/batch"), posts(200))
	if r.status != 200 {
		t.Errorf("200 ops on free = %d: %s", r.status, r.errorMessage())
	}

	f.emu.SetZonePlan(f.zone.ID, "pro")
	for _, rec := range f.emu.Records(f.zone.ID) {
		f.do(t, testToken, "DELETE", f.recordsPath("/"+rec.ID), "")
	}
	r = f.do(t, testToken, "POST", f.recordsPath("/batch"), posts(201))
	if r.status != 200 {
		t.Errorf("201 ops on pro = %d: %s", r.status, r.errorMessage())
	}
}

func TestFaults(t *testing.T) {
	f := newFixture(t)
	f.emu.Fail(Fault{Method: "GET", PathSuffix: "/configurations", Status: 429, RetryAfter: "7", Times: 2, After: 1})

	wantStatus := []int{200, 429, 429, 200}
	for i, want := range wantStatus {
		r := f.do(t, testToken, "GET", f.tunnelPath("/configurations"), "")
		if r.status != want {
			t.Errorf("request %d: status = %d, want %d", i, r.status, want)
		}
		if want == 429 && (r.header.Get("Retry-After") != "7" || r.errorCode() != codeRateLimited) {
			t.Errorf("request %d: Retry-After = %q, code %d", i, r.header.Get("Retry-After"), r.errorCode())
		}
	}
	if r := f.do(t, testToken, "GET", "/zones", ""); r.status != 200 {
		t.Errorf("other path: status = %d, want 200", r.status)
	}

	f.emu.Fail(Fault{Status: 503, Code: 1234, Message: "made-up outage"})
	r := f.do(t, "", "GET", "/zones", "")
	if r.status != 503 || r.errorCode() != 1234 || r.errorMessage() != "made-up outage" || r.header.Get("Retry-After") != "" {
		t.Errorf("catch-all fault = %d code %d %q", r.status, r.errorCode(), r.errorMessage())
	}
}

func TestCallsAndHook(t *testing.T) {
	f := newFixture(t)
	var hookCalls []string
	var mu sync.Mutex
	f.emu.OnRequest(func(method, path string) {
		mu.Lock()
		hookCalls = append(hookCalls, method+" "+path)
		mu.Unlock()
		if method == http.MethodPut {
			f.emu.SetConfig(f.tunnel.ID, json.RawMessage(`{"ingress":[{"service":"http_status:503"}]}`))
		}
	})

	f.do(t, testToken, "GET", "/zones?name=example.com", "")
	r := f.do(t, testToken, "PUT", f.tunnelPath("/configurations"), `{"config":{"ingress":[{"service":"http_status:404"}]}}`)
	if !strings.Contains(string(r.env.Result), `"version":2`) {
		t.Errorf("PUT after a concurrent write: result = %s, want version 2", r.env.Result)
	}

	calls := f.emu.Calls()
	if len(calls) != 2 || f.emu.CallCount() != 2 {
		t.Fatalf("calls = %+v", calls)
	}
	want := Call{Method: "GET", Path: "/zones", Query: "name=example.com", Status: 200}
	if got := calls[0]; got.Method != want.Method || got.Path != want.Path || got.Query != want.Query || got.Status != want.Status {
		t.Errorf("call 0 = %+v, want %+v", got, want)
	}
	if calls[1].Path != f.tunnelPath("/configurations") || !strings.Contains(string(calls[1].Body), "http_status:404") {
		t.Errorf("call 1 = %+v", calls[1])
	}
	if len(hookCalls) != 2 || hookCalls[1] != "PUT "+f.tunnelPath("/configurations") {
		t.Errorf("hook calls = %v", hookCalls)
	}

	f.emu.ResetCalls()
	if f.emu.CallCount() != 0 {
		t.Errorf("CallCount after ResetCalls = %d", f.emu.CallCount())
	}
}

func TestLatencyHonoursCancel(t *testing.T) {
	emu := New()
	emu.SetLatency(time.Hour)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequest("GET", "/client/v4/zones", nil).WithContext(ctx)
	w := httptest.NewRecorder()
	emu.ServeHTTP(w, req)

	if calls := emu.Calls(); len(calls) != 1 || calls[0].Status != 0 {
		t.Errorf("calls = %+v, want one with status 0", calls)
	}
	if w.Body.Len() != 0 {
		t.Errorf("body = %q, want nothing for a cancelled request", w.Body.String())
	}
}

func TestMountedUnderPrefix(t *testing.T) {
	emu := New()
	emu.AddToken(testToken, ZoneRead)
	for path, want := range map[string]int{"/api/client/v4/zones": 200, "/client/v4/zones": 200, "/zones": 404, "/client/v4x/zones": 404} {
		req := httptest.NewRequest("GET", path, nil)
		req.Header.Set("Authorization", "Bearer "+testToken)
		w := httptest.NewRecorder()
		emu.ServeHTTP(w, req)
		if w.Code != want {
			t.Errorf("GET %s = %d, want %d", path, w.Code, want)
		}
	}
}

func TestConcurrentRequests(t *testing.T) {
	f := newFixture(t)
	const workers, perWorker = 8, 10

	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWorker {
				body := fmt.Sprintf(`{"config":{"ingress":[{"hostname":"w%d-%d.example.com","service":"http://web:80"},{"service":"http_status:404"}]}}`, w, i)
				f.do(t, testToken, "PUT", f.tunnelPath("/configurations"), body)
				f.do(t, testToken, "POST", f.recordsPath(""), fmt.Sprintf(`{"type":"A","name":"w%d-%d","content":"192.0.2.1"}`, w, i))
				f.do(t, testToken, "GET", f.recordsPath("?per_page=3"), "")
				f.emu.Advance(time.Microsecond)
			}
		}()
	}
	wg.Wait()

	if v, _ := f.emu.Config(f.tunnel.ID); v != workers*perWorker {
		t.Errorf("version = %d, want %d", v, workers*perWorker)
	}
	if n := len(f.emu.Records(f.zone.ID)); n != workers*perWorker {
		t.Errorf("records = %d, want %d", n, workers*perWorker)
	}
	if n := f.emu.CallCount(); n != 3*workers*perWorker {
		t.Errorf("calls = %d, want %d", n, 3*workers*perWorker)
	}
}

func TestSeedExample(t *testing.T) {
	file, err := os.Open("../../cmd/portcullis-emulator/seed.example.json")
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()

	emu := New()
	if err := emu.Seed(file); err != nil {
		t.Fatalf("Seed: %v", err)
	}
	tunnels := emu.Tunnels()
	if len(tunnels) != 2 || tunnels[0].Name != "pa-ecosystem" || tunnels[1].ConfigSrc != "local" {
		t.Fatalf("tunnels = %+v", tunnels)
	}
	if v, config := emu.Config(tunnels[0].ID); v != 1 || !strings.Contains(string(config), "status.example.com") {
		t.Errorf("config = %d %s", v, config)
	}
	records := emu.Records(emu.Zones()[0].ID)
	if len(records) != 3 || records[2].Content != tunnels[0].ID+".cfargotunnel.com" {
		t.Errorf("records = %+v", records)
	}
}

func TestSeedErrors(t *testing.T) {
	tests := []struct {
		name, seed string
	}{
		{"unknown key", `{"zonez":[]}`},
		{"unknown permission", `{"tokens":[{"token":"t","permissions":["dns:write"]}]}`},
		{"bad plan", `{"zones":[{"account":"a","name":"example.com","plan":"gold"}]}`},
		{"invalid config", `{"tunnels":[{"account":"a","name":"t","config":{"ingress":[]}}]}`},
		{"record in unknown zone", `{"records":[{"zone":"example.org","type":"A","name":"a","content":"192.0.2.1"}]}`},
		{"unknown tunnel reference", `{"zones":[{"account":"a","name":"example.com"}],"records":[{"zone":"example.com","type":"CNAME","name":"a","content":"tunnel:nope"}]}`},
		{"conflicting records", `{"zones":[{"account":"a","name":"example.com"}],"records":[` +
			`{"zone":"example.com","type":"A","name":"a","content":"192.0.2.1"},{"zone":"example.com","type":"CNAME","name":"a","content":"x.example.net"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := New().Seed(strings.NewReader(tt.seed)); err == nil {
				t.Error("Seed succeeded, want an error")
			}
		})
	}
}
