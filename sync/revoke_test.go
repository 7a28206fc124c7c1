package sync

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/portcullis-dev/portcullis/ingress"
	"github.com/portcullis-dev/portcullis/tunnel"
)

// liveRules builds live rules from "hostname|path|service" strings, each
// with a Raw text that marks it as read from the target.
func liveRules(specs ...string) []tunnel.LiveRule {
	out := make([]tunnel.LiveRule, len(specs))
	for i, s := range specs {
		parts := strings.SplitN(s, "|", 3)
		r := ingress.Rule{Hostname: parts[0], Path: parts[1], Service: parts[2]}
		raw, _ := json.Marshal(r)
		out[i] = tunnel.LiveRule{Rule: r, Raw: json.RawMessage(raw)}
	}
	return out
}

func specs(rules []tunnel.LiveRule) []string {
	out := make([]string, len(rules))
	for i, r := range rules {
		out[i] = r.Hostname + "|" + r.Path + "|" + r.Service
	}
	return out
}

const rev = "|" + ingress.RevocationPath + "|" + ingress.RevocationService

func TestAddRevocations(t *testing.T) {
	tests := []struct {
		name        string
		live        []string
		keys        []string
		want        []string
		wantAdded   []string
		wantAlready []string
		wantChanged bool
	}{
		{
			name:        "one host on top",
			live:        []string{"a.example.com||http://a:80", "b.example.com||http://b:80", "||http_status:404"},
			keys:        []string{"b.example.com"},
			want:        []string{"b.example.com" + rev, "a.example.com||http://a:80", "b.example.com||http://b:80", "||http_status:404"},
			wantAdded:   []string{"b.example.com"},
			wantChanged: true,
		},
		{
			name:        "new after existing block, in order given",
			live:        []string{"a.example.com" + rev, "a.example.com||http://a:80", "||http_status:404"},
			keys:        []string{"c.example.com", "b.example.com", "a.example.com"},
			want:        []string{"a.example.com" + rev, "c.example.com" + rev, "b.example.com" + rev, "a.example.com||http://a:80", "||http_status:404"},
			wantAdded:   []string{"c.example.com", "b.example.com"},
			wantAlready: []string{"a.example.com"},
			wantChanged: true,
		},
		{
			name:        "repeat writes nothing",
			live:        []string{"a.example.com" + rev, "a.example.com||http://a:80", "||http_status:404"},
			keys:        []string{"a.example.com", "a.example.com"},
			want:        []string{"a.example.com" + rev, "a.example.com||http://a:80", "||http_status:404"},
			wantAlready: []string{"a.example.com"},
		},
		{
			name:        "all has no hostname and keeps the catch-all",
			live:        []string{"a.example.com||http://a:80", "||http_status:404"},
			keys:        []string{RevokeAll},
			want:        []string{rev, "a.example.com||http://a:80", "||http_status:404"},
			wantAdded:   []string{RevokeAll},
			wantChanged: true,
		},
		{
			name:        "maintenance 503 rule is no revocation",
			live:        []string{"a.example.com||http_status:503", "||http_status:404"},
			keys:        []string{"a.example.com"},
			want:        []string{"a.example.com" + rev, "a.example.com||http_status:503", "||http_status:404"},
			wantAdded:   []string{"a.example.com"},
			wantChanged: true,
		},
		{
			name:        "misplaced revocation moves to the top",
			live:        []string{"x.example.com||http://x:80", "a.example.com" + rev, "||http_status:404"},
			keys:        []string{"a.example.com"},
			want:        []string{"a.example.com" + rev, "x.example.com||http://x:80", "||http_status:404"},
			wantAlready: []string{"a.example.com"},
			wantChanged: true,
		},
		{
			name:        "empty document gets a catch-all",
			keys:        []string{"a.example.com"},
			want:        []string{"a.example.com" + rev, "||http_status:404"},
			wantAdded:   []string{"a.example.com"},
			wantChanged: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			live := liveRules(tt.live...)
			c := AddRevocations(live, tt.keys)
			if got := specs(c.Rules); !slices.Equal(got, tt.want) {
				t.Errorf("rules = %q, want %q", got, tt.want)
			}
			if !slices.Equal(c.Added, tt.wantAdded) {
				t.Errorf("added = %q, want %q", c.Added, tt.wantAdded)
			}
			if !slices.Equal(c.Unchanged, tt.wantAlready) {
				t.Errorf("unchanged = %q, want %q", c.Unchanged, tt.wantAlready)
			}
			if c.Changed() != tt.wantChanged {
				t.Errorf("changed = %v, want %v", c.Changed(), tt.wantChanged)
			}
			if err := ingress.ValidateRules(ruleList(c.Rules)); err != nil {
				t.Errorf("document rejected by cloudflared's rules: %v", err)
			}
		})
	}
}

func TestAddRevocationsKeepsRaw(t *testing.T) {
	live := liveRules("a.example.com||http://a:80", "||http_status:404")
	live[0].Raw = json.RawMessage(`{"hostname":"a.example.com","service":"http://a:80","futureField":1}`)
	c := AddRevocations(live, []string{"a.example.com"})
	if c.Rules[0].Raw != nil {
		t.Errorf("new revocation carries Raw %v", c.Rules[0].Raw)
	}
	if raw, _ := c.Rules[1].Raw.(json.RawMessage); string(raw) != string(live[0].Raw.(json.RawMessage)) {
		t.Errorf("kept rule Raw = %s", raw)
	}
}

func ruleList(rules []tunnel.LiveRule) []ingress.Rule {
	out := make([]ingress.Rule, len(rules))
	for i, r := range rules {
		out[i] = r.Rule
	}
	return out
}

func TestRemoveRevocations(t *testing.T) {
	live := []string{rev, "a.example.com" + rev, "*.example.com" + rev, "a.example.com||http://a:80", "b.example.com||http_status:503", "||http_status:404"}
	tests := []struct {
		name          string
		keys          []string
		all           bool
		want          []string
		wantRemoved   []string
		wantUnchanged []string
	}{
		{"one host", []string{"a.example.com"}, false,
			[]string{rev, "*.example.com" + rev, "a.example.com||http://a:80", "b.example.com||http_status:503", "||http_status:404"},
			[]string{"a.example.com"}, nil},
		{"all", nil, true,
			[]string{"a.example.com||http://a:80", "b.example.com||http_status:503", "||http_status:404"},
			[]string{RevokeAll, "a.example.com", "*.example.com"}, nil},
		{"not revoked", []string{"b.example.com"}, false, live, nil, []string{"b.example.com"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := RemoveRevocations(liveRules(live...), tt.keys, tt.all)
			if got := specs(c.Rules); !slices.Equal(got, tt.want) {
				t.Errorf("rules = %q, want %q", got, tt.want)
			}
			if !slices.Equal(c.Removed, tt.wantRemoved) {
				t.Errorf("removed = %q, want %q", c.Removed, tt.wantRemoved)
			}
			if !slices.Equal(c.Unchanged, tt.wantUnchanged) {
				t.Errorf("unchanged = %q, want %q", c.Unchanged, tt.wantUnchanged)
			}
		})
	}
}

func TestExposedRules(t *testing.T) {
	before := liveRules("a.example.com"+rev, "*.example.com"+rev, "a.example.com||http://a:80", "b.example.com||http://b:80", "c.other.com||http://c:80", "||http_status:404")
	after := RemoveRevocations(before, []string{"*.example.com"}, false).Rules
	if got := specs(ExposedRules(before, after)); !slices.Equal(got, []string{"b.example.com||http://b:80"}) {
		t.Errorf("exposed = %q, want only b.example.com (a stays revoked)", got)
	}
	all := liveRules(rev, "a.example.com||http://a:80", "||http_status:404")
	if got := specs(ExposedRules(all, all[1:])); !slices.Equal(got, []string{"a.example.com||http://a:80", "||http_status:404"}) {
		t.Errorf("exposed after restore --all = %q, want the rule and the catch-all", got)
	}
}

func TestMissingRevocations(t *testing.T) {
	rules := liveRules("a.example.com"+rev, "x.example.com||http://x:80", "b.example.com"+rev, "||http_status:404")
	if got := MissingRevocations(rules, []string{"a.example.com", "b.example.com", "c.example.com"}); !slices.Equal(got, []string{"b.example.com", "c.example.com"}) {
		t.Errorf("missing = %q, want b (below an ordinary rule) and c", got)
	}
}

func TestCutHostnames(t *testing.T) {
	live := liveRules("*.example.com"+rev, "a.example.com||http://a:80", "b.c.example.com||http://b:80", "example.com||http://r:80", "a.example.com|^/x|http://x:80", "||http_status:404")
	tests := []struct {
		key  string
		want []string
	}{
		{"*.example.com", []string{"a.example.com", "b.c.example.com"}},
		{RevokeAll, []string{"a.example.com", "b.c.example.com", "example.com"}},
		{"a.example.com", nil},
	}
	for _, tt := range tests {
		if got := CutHostnames(live, tt.key); !slices.Equal(got, tt.want) {
			t.Errorf("CutHostnames(%q) = %q, want %q", tt.key, got, tt.want)
		}
	}
}

func TestServiceHostnames(t *testing.T) {
	live := liveRules(
		"app.example.com|^/admin|http://admin:9000",
		"app.example.com||http://web:80",
		"admin.example.com||http://ADMIN:9000",
		"www.example.com||http://web:80",
		"|^/debug|http://admin:9000",
		"||http_status:404",
	)
	serviceFor := func(origin string) (string, bool) {
		switch {
		case strings.Contains(strings.ToLower(origin), "admin"):
			return "admin", true
		case strings.Contains(origin, "web"):
			return "web", true
		}
		return "", false
	}
	hosts, shared, unnamed := ServiceHostnames(live, "admin", serviceFor)
	if !slices.Equal(hosts, []string{"admin.example.com", "app.example.com"}) {
		t.Errorf("hosts = %q", hosts)
	}
	if len(shared) != 1 || shared[0].Hostname != "app.example.com" || shared[0].Service != "web" {
		t.Errorf("shared = %+v, want app.example.com → web", shared)
	}
	if len(unnamed) != 1 || unnamed[0].Path != "^/debug" {
		t.Errorf("unnamed = %+v, want the /debug rule", unnamed)
	}
}

func TestRevocationKey(t *testing.T) {
	for in, want := range map[string]string{"": RevokeAll, "*": RevokeAll, " App.Example.com ": "app.example.com", "*.example.com": "*.example.com"} {
		if got := RevocationKey(in); got != want {
			t.Errorf("RevocationKey(%q) = %q, want %q", in, got, want)
		}
	}
}
