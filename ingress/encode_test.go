package ingress

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// everyFieldOriginRequest holds one value of every field type portcullis models,
// plus an unmodelled ipRules list.
func everyFieldOriginRequest() OriginRequest {
	return OriginRequest{
		"connectTimeout":         10 * time.Second,
		"tlsTimeout":             5 * time.Second,
		"tcpKeepAlive":           30 * time.Second,
		"keepAliveTimeout":       90 * time.Second,
		"noHappyEyeballs":        true,
		"keepAliveConnections":   int64(100),
		"httpHostHeader":         "n8n.internal",
		"originServerName":       "n8n.example.com",
		"matchSNItoHost":         false,
		"caPool":                 "/etc/ssl/ca.pem",
		"noTLSVerify":            true,
		"disableChunkedEncoding": true,
		"bastionMode":            false,
		"proxyAddress":           "127.0.0.1",
		"proxyPort":              int64(8080),
		"proxyType":              "socks",
		"http2Origin":            true,
		"access": OriginRequest{
			"required":    true,
			"teamName":    "example-team",
			"audTag":      []string{"aud-one", "aud-two"},
			"environment": "fedramp",
		},
		"ipRules": []any{
			map[string]any{"prefix": "10.0.0.0/8", "ports": []any{int64(80), int64(443)}, "allow": true},
		},
	}
}

const fullOriginRequestJSON = `{"access":{"audTag":["aud-one","aud-two"],"environment":"fedramp","required":true,"teamName":"example-team"},` +
	`"bastionMode":false,"caPool":"/etc/ssl/ca.pem","connectTimeout":10,"disableChunkedEncoding":true,"http2Origin":true,` +
	`"httpHostHeader":"n8n.internal","ipRules":[{"allow":true,"ports":[80,443],"prefix":"10.0.0.0/8"}],` +
	`"keepAliveConnections":100,"keepAliveTimeout":90,"matchSNItoHost":false,"noHappyEyeballs":true,"noTLSVerify":true,` +
	`"originServerName":"n8n.example.com","proxyAddress":"127.0.0.1","proxyPort":8080,"proxyType":"socks",` +
	`"tcpKeepAlive":30,"tlsTimeout":5}`

func TestOriginRequestJSONEncode(t *testing.T) {
	got, err := json.Marshal(everyFieldOriginRequest())
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	if string(got) != fullOriginRequestJSON {
		t.Errorf("marshal:\n got %s\nwant %s", got, fullOriginRequestJSON)
	}
}

func TestOriginRequestJSONDecode(t *testing.T) {
	var got OriginRequest
	if err := json.Unmarshal([]byte(fullOriginRequestJSON), &got); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	want := everyFieldOriginRequest()
	for key, value := range want {
		if !reflect.DeepEqual(got[key], value) {
			t.Errorf("%s: got %#v, want %#v", key, got[key], value)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d keys, want %d", len(got), len(want))
	}
}

func TestOriginRequestJSONFields(t *testing.T) {
	tests := []struct {
		name string
		json string
		want OriginRequest
	}{
		{"duration seconds", `{"connectTimeout":10}`, OriginRequest{"connectTimeout": 10 * time.Second}},
		{"duration minutes", `{"keepAliveTimeout":90}`, OriginRequest{"keepAliveTimeout": 90 * time.Second}},
		{"bool", `{"noTLSVerify":true}`, OriginRequest{"noTLSVerify": true}},
		{"integer", `{"keepAliveConnections":7}`, OriginRequest{"keepAliveConnections": int64(7)}},
		{"string", `{"httpHostHeader":"a.example.com"}`, OriginRequest{"httpHostHeader": "a.example.com"}},
		{"unknown float", `{"futureRatio":0.5}`, OriginRequest{"futureRatio": 0.5}},
		{"unknown object", `{"future":{"n":1}}`, OriginRequest{"future": map[string]any{"n": int64(1)}}},
		{"empty access tags", `{"access":{"audTag":[]}}`, OriginRequest{"access": OriginRequest{"audTag": []string{}}}},
		{"empty object", `{}`, OriginRequest{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got OriginRequest
			if err := json.Unmarshal([]byte(tt.json), &got); err != nil {
				t.Fatalf("unmarshal %s: %v", tt.json, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("unmarshal %s: got %#v, want %#v", tt.json, got, tt.want)
			}

			back, err := json.Marshal(got)
			if err != nil {
				t.Fatalf("marshal: %v", err)
			}
			if string(back) != tt.json {
				t.Errorf("round trip: got %s, want %s", back, tt.json)
			}
		})
	}
}

func TestOriginRequestJSONDecodeErrors(t *testing.T) {
	tests := []struct {
		name string
		json string
	}{
		{"fractional seconds", `{"connectTimeout":10.5}`},
		{"duration not a duration", `{"connectTimeout":"ten seconds"}`},
		{"duration bool", `{"tlsTimeout":true}`},
		{"duration overflow", `{"tlsTimeout":99999999999999}`},
		{"audTag not list", `{"access":{"audTag":"one"}}`},
		{"audTag number", `{"access":{"audTag":[1]}}`},
		{"not an object", `[1,2]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got OriginRequest
			if err := json.Unmarshal([]byte(tt.json), &got); err == nil {
				t.Errorf("unmarshal %s: no error, got %#v", tt.json, got)
			}
		})
	}
}

func TestOriginRequestJSONNull(t *testing.T) {
	got := OriginRequest{"noTLSVerify": true}
	if err := got.UnmarshalJSON([]byte("null")); err != nil {
		t.Fatalf("unmarshal null: %v", err)
	}
	if !reflect.DeepEqual(got, OriginRequest{"noTLSVerify": true}) {
		t.Errorf("null changed the value to %#v", got)
	}
}

func TestOriginRequestJSONSubSecond(t *testing.T) {
	in := OriginRequest{"connectTimeout": 1500 * time.Millisecond}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatalf("marshal 1.5s: %v", err)
	}
	if string(b) != `{"connectTimeout":"1.5s"}` {
		t.Errorf("marshal 1.5s = %s, want a duration string", b)
	}
	var out OriginRequest
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("unmarshal %s: %v", b, err)
	}
	if !reflect.DeepEqual(out, in) {
		t.Errorf("round trip = %#v, want %#v", out, in)
	}
}

func TestOriginRequestYAMLFields(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want OriginRequest
	}{
		{"duration string", "connectTimeout: 1m30s\n", OriginRequest{"connectTimeout": 90 * time.Second}},
		{"duration short", "tlsTimeout: 10s\n", OriginRequest{"tlsTimeout": 10 * time.Second}},
		{"duration sub-second", "tlsTimeout: 1.5s\n", OriginRequest{"tlsTimeout": 1500 * time.Millisecond}},
		{"bool", "noTLSVerify: true\n", OriginRequest{"noTLSVerify": true}},
		{"integer", "proxyPort: 8080\n", OriginRequest{"proxyPort": int64(8080)}},
		{"string", "caPool: /etc/ssl/ca.pem\n", OriginRequest{"caPool": "/etc/ssl/ca.pem"}},
		{"string that looks like a bool", "httpHostHeader: \"true\"\n", OriginRequest{"httpHostHeader": "true"}},
		{"access", "access:\n    audTag:\n        - aud-one\n    required: true\n    teamName: example-team\n",
			OriginRequest{"access": OriginRequest{"audTag": []string{"aud-one"}, "required": true, "teamName": "example-team"}}},
		{"unknown list", "ipRules:\n    - allow: true\n      ports:\n        - 80\n      prefix: 10.0.0.0/8\n",
			OriginRequest{"ipRules": []any{map[string]any{"allow": true, "ports": []any{int64(80)}, "prefix": "10.0.0.0/8"}}}},
		{"sorted keys", "caPool: a\nconnectTimeout: 30s\nhttp2Origin: true\n",
			OriginRequest{"http2Origin": true, "connectTimeout": 30 * time.Second, "caPool": "a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got OriginRequest
			if err := yaml.Unmarshal([]byte(tt.yaml), &got); err != nil {
				t.Fatalf("unmarshal %q: %v", tt.yaml, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("unmarshal %q: got %#v, want %#v", tt.yaml, got, tt.want)
			}

			back, err := yaml.Marshal(tt.want)
			if err != nil {
				t.Fatalf("marshal: %v", err)
			}
			if string(back) != tt.yaml {
				t.Errorf("marshal: got %q, want %q", back, tt.yaml)
			}
		})
	}
}

func TestOriginRequestYAMLIntegerSeconds(t *testing.T) {
	var got OriginRequest
	if err := yaml.Unmarshal([]byte("connectTimeout: 10\n"), &got); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	want := OriginRequest{"connectTimeout": 10 * time.Second}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v, want %#v", got, want)
	}
}

func TestOriginRequestYAMLErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
	}{
		{"bad duration", "connectTimeout: soon\n"},
		{"duration bool", "connectTimeout: true\n"},
		{"duration float", "connectTimeout: 1.5\n"},
		{"audTag not list", "access:\n  audTag: one\n"},
		{"not a mapping", "- 1\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got OriginRequest
			if err := yaml.Unmarshal([]byte(tt.yaml), &got); err == nil {
				t.Errorf("unmarshal %q: no error, got %#v", tt.yaml, got)
			}
		})
	}
}

func TestOriginRequestYAMLFullRoundTrip(t *testing.T) {
	want := everyFieldOriginRequest()
	text, err := yaml.Marshal(want)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	var got OriginRequest
	if err := yaml.Unmarshal(text, &got); err != nil {
		t.Fatalf("unmarshal:\n%s\nerror: %v", text, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("round trip through\n%s\ngot  %#v\nwant %#v", text, got, want)
	}
}

func TestOriginRequestJSONYAMLAgree(t *testing.T) {
	var fromJSON, fromYAML OriginRequest
	if err := json.Unmarshal([]byte(`{"connectTimeout":90,"noTLSVerify":true,"proxyPort":1080}`), &fromJSON); err != nil {
		t.Fatalf("unmarshal JSON: %v", err)
	}
	if err := yaml.Unmarshal([]byte("connectTimeout: 1m30s\nnoTLSVerify: true\nproxyPort: 1080\n"), &fromYAML); err != nil {
		t.Fatalf("unmarshal YAML: %v", err)
	}
	if !reflect.DeepEqual(fromJSON, fromYAML) {
		t.Errorf("JSON gives %#v, YAML gives %#v", fromJSON, fromYAML)
	}
}

func TestCanonical(t *testing.T) {
	tests := []struct {
		name string
		in   OriginRequest
		want string
	}{
		{"nil", nil, "{}"},
		{"empty", OriginRequest{}, "{}"},
		{"whole seconds", OriginRequest{"connectTimeout": 30 * time.Second}, `{"connectTimeout":30}`},
		{"sub-second", OriginRequest{"connectTimeout": 1500 * time.Millisecond}, `{"connectTimeout":"1.5s"}`},
		{"sorted", OriginRequest{"noTLSVerify": true, "caPool": "x"}, `{"caPool":"x","noTLSVerify":true}`},
		{"int and int64 agree", OriginRequest{"proxyPort": 80}, `{"proxyPort":80}`},
		{"nested access", OriginRequest{"access": OriginRequest{"required": true}}, `{"access":{"required":true}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.in.Canonical(); got != tt.want {
				t.Errorf("Canonical() = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestRuleEqual(t *testing.T) {
	base := Rule{Hostname: "a.example.com", Path: "^/api", Service: "http://web:80"}
	tests := []struct {
		name string
		a, b Rule
		want bool
	}{
		{"identical", base, base, true},
		{"nil and empty originRequest", base, ruleWithOriginRequest(base, OriginRequest{}), true},
		{"empty and nil originRequest", ruleWithOriginRequest(base, OriginRequest{}), base, true},
		{"int and int64 values", ruleWithOriginRequest(base, OriginRequest{"proxyPort": 80}),
			ruleWithOriginRequest(base, OriginRequest{"proxyPort": int64(80)}), true},
		{"different hostname", base, Rule{Hostname: "b.example.com", Path: base.Path, Service: base.Service}, false},
		{"different path", base, Rule{Hostname: base.Hostname, Service: base.Service}, false},
		{"different service", base, Rule{Hostname: base.Hostname, Path: base.Path, Service: "http://web:81"}, false},
		{"different originRequest", base, ruleWithOriginRequest(base, OriginRequest{"noTLSVerify": true}), false},
		{"different duration", ruleWithOriginRequest(base, OriginRequest{"connectTimeout": 10 * time.Second}),
			ruleWithOriginRequest(base, OriginRequest{"connectTimeout": 11 * time.Second}), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.a.Equal(tt.b); got != tt.want {
				t.Errorf("%+v.Equal(%+v) = %v, want %v", tt.a, tt.b, got, tt.want)
			}
		})
	}
}

func ruleWithOriginRequest(r Rule, o OriginRequest) Rule {
	r.OriginRequest = o
	return r
}

func TestRuleJSONRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		rule Rule
		want string
	}{
		{"catch-all", Rule{Service: "http_status:404"}, `{"service":"http_status:404"}`},
		{"empty originRequest omitted", Rule{Hostname: "a.example.com", Service: "http://web:80", OriginRequest: OriginRequest{}},
			`{"hostname":"a.example.com","service":"http://web:80"}`},
		{"full", Rule{Hostname: "a.example.com", Path: "^/api", Service: "http://web:80",
			OriginRequest: OriginRequest{"connectTimeout": 10 * time.Second, "noTLSVerify": true}},
			`{"hostname":"a.example.com","path":"^/api","service":"http://web:80","originRequest":{"connectTimeout":10,"noTLSVerify":true}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text, err := json.Marshal(tt.rule)
			if err != nil {
				t.Fatalf("marshal: %v", err)
			}
			if string(text) != tt.want {
				t.Errorf("marshal: got %s, want %s", text, tt.want)
			}

			var back Rule
			if err := json.Unmarshal(text, &back); err != nil {
				t.Fatalf("unmarshal: %v", err)
			}
			if !back.Equal(tt.rule) {
				t.Errorf("round trip: got %+v, want %+v", back, tt.rule)
			}
		})
	}
}

func TestRuleYAMLRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		rule Rule
		want string
	}{
		{"catch-all", Rule{Service: "http_status:404"}, "service: http_status:404\n"},
		{"empty originRequest omitted", Rule{Hostname: "a.example.com", Service: "http://web:80", OriginRequest: OriginRequest{}},
			"hostname: a.example.com\nservice: http://web:80\n"},
		{"wildcard and path", Rule{Hostname: "*.example.com", Path: "^/api", Service: "http://api:8080",
			OriginRequest: OriginRequest{"connectTimeout": 90 * time.Second, "noTLSVerify": true}},
			"hostname: '*.example.com'\npath: ^/api\nservice: http://api:8080\noriginRequest:\n    connectTimeout: 1m30s\n    noTLSVerify: true\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text, err := yaml.Marshal(tt.rule)
			if err != nil {
				t.Fatalf("marshal: %v", err)
			}
			if string(text) != tt.want {
				t.Errorf("marshal: got %q, want %q", text, tt.want)
			}

			var back Rule
			if err := yaml.Unmarshal(text, &back); err != nil {
				t.Fatalf("unmarshal: %v", err)
			}
			if !back.Equal(tt.rule) {
				t.Errorf("round trip: got %+v, want %+v", back, tt.rule)
			}
		})
	}
}

func TestRuleYAMLList(t *testing.T) {
	text := "- hostname: gitlab.example.com\n  service: http://localhost:80\n" +
		"- hostname: \"*.example.com\"\n  path: ^/api\n  service: http://api:8080\n  originRequest: {noTLSVerify: true, connectTimeout: 30s}\n" +
		"- service: http_status:404\n"
	var got []Rule
	if err := yaml.Unmarshal([]byte(text), &got); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	want := []Rule{
		{Hostname: "gitlab.example.com", Service: "http://localhost:80"},
		{Hostname: "*.example.com", Path: "^/api", Service: "http://api:8080",
			OriginRequest: OriginRequest{"noTLSVerify": true, "connectTimeout": 30 * time.Second}},
		{Service: "http_status:404"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d rules, want %d", len(got), len(want))
	}
	for i := range want {
		if !got[i].Equal(want[i]) {
			t.Errorf("rule %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestRuleYAMLSubSecondKept(t *testing.T) {
	rule := Rule{Service: "http://web:80", OriginRequest: OriginRequest{"tlsTimeout": 250 * time.Millisecond}}
	text, err := yaml.Marshal(rule)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	if !strings.Contains(string(text), "tlsTimeout: 250ms") {
		t.Errorf("marshal: got %q, want tlsTimeout: 250ms", text)
	}
}
