package ingress

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"gopkg.in/yaml.v3"
)

// matchFixture is testdata/rules/match.yaml: one ingress list and the rule
// each URL hits.
type matchFixture struct {
	Rules []Rule `yaml:"rules"`
	Cases []struct {
		Name  string `yaml:"name"`
		URL   string `yaml:"url"`
		Rule  int    `yaml:"rule"`
		Error bool   `yaml:"error"`
	} `yaml:"cases"`
}

func TestMatchFixture(t *testing.T) {
	text, err := os.ReadFile(filepath.Join("..", "testdata", "rules", "match.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var fixture matchFixture
	if err := yaml.Unmarshal(text, &fixture); err != nil {
		t.Fatalf("parse match.yaml: %v", err)
	}
	if err := ValidateRules(fixture.Rules); err != nil {
		t.Fatalf("fixture rules are invalid: %v", err)
	}
	if len(fixture.Cases) == 0 {
		t.Fatal("match.yaml has no cases")
	}

	for _, tc := range fixture.Cases {
		t.Run(tc.Name, func(t *testing.T) {
			got, err := Match(fixture.Rules, tc.URL)
			if tc.Error {
				if err == nil {
					t.Errorf("Match(%q) = %d, want an error", tc.URL, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Match(%q): %v", tc.URL, err)
			}
			if got != tc.Rule {
				t.Errorf("Match(%q) = rule %d (%+v), want rule %d (%+v)", tc.URL, got, fixture.Rules[got], tc.Rule, fixture.Rules[tc.Rule])
			}
		})
	}
}

func TestMatchNoCatchAll(t *testing.T) {
	rules := []Rule{{Hostname: "a.example.com", Service: "http://a:80"}}
	_, err := Match(rules, "https://b.example.com/")
	if !errors.Is(err, ErrNoMatchingRule) {
		t.Errorf("Match: got error %v, want ErrNoMatchingRule", err)
	}
}

func TestMatchInvalidPath(t *testing.T) {
	rules := []Rule{{Hostname: "a.example.com", Path: "*", Service: "http://a:80"}, {Service: "http_status:404"}}
	if _, err := Match(rules, "https://a.example.com/"); err == nil {
		t.Error("Match with an invalid path regexp: no error")
	}
	got, err := Match(rules, "https://b.example.com/")
	if err != nil || got != 1 {
		t.Errorf("Match on another host = %d, %v; want 1, nil because the bad rule is never tried", got, err)
	}
}

func TestHostCovers(t *testing.T) {
	tests := []struct {
		pattern, host string
		want          bool
	}{
		{"", "a.example.com", true},
		{"*", "a.example.com", true},
		{"*", "*.example.com", true},
		{"", "", true},
		{"*", "", true},
		{"a.example.com", "a.example.com", true},
		{"a.example.com", "b.example.com", false},
		{"*.example.com", "a.example.com", true},
		{"*.example.com", "a.b.example.com", true},
		{"*.example.com", "*.a.example.com", true},
		{"*.example.com", "*.example.com", true},
		{"*.example.com", "example.com", false},
		{"*.example.com", "badexample.com", false},
		{"*.a.example.com", "*.example.com", false},
		{"*.a.example.com", "b.example.com", false},
		{"a.example.com", "*.example.com", false},
		{"*.example.com", "", false},
		{"*.example.com", "*", false},
		{"a.example.com", "", false},
		{"*example.com", "a.example.com", false},
	}
	for _, tt := range tests {
		t.Run(tt.pattern+" covers "+tt.host, func(t *testing.T) {
			if got := HostCovers(tt.pattern, tt.host); got != tt.want {
				t.Errorf("HostCovers(%q, %q) = %v, want %v", tt.pattern, tt.host, got, tt.want)
			}
		})
	}
}

func TestUnreachable(t *testing.T) {
	exact := func(host string) Rule { return Rule{Hostname: host, Service: "http://web:80"} }
	withPath := func(host, path string) Rule { return Rule{Hostname: host, Path: path, Service: "http://web:80"} }
	catchAll := Rule{Service: "http_status:404"}

	tests := []struct {
		name  string
		rules []Rule
		want  []Shadow
	}{
		{"distinct hostnames", []Rule{exact("a.example.com"), exact("b.example.com"), catchAll}, nil},
		{"duplicate hostname", []Rule{exact("a.example.com"), exact("a.example.com"), catchAll}, []Shadow{{Index: 1, By: 0}}},
		{"wildcard before name", []Rule{exact("*.example.com"), exact("a.example.com"), catchAll}, []Shadow{{Index: 1, By: 0}}},
		{"wildcard before deep name", []Rule{exact("*.example.com"), exact("a.b.example.com"), catchAll}, []Shadow{{Index: 1, By: 0}}},
		{"wildcard before narrower wildcard", []Rule{exact("*.example.com"), exact("*.a.example.com"), catchAll}, []Shadow{{Index: 1, By: 0}}},
		{"wildcard does not cover apex", []Rule{exact("*.example.com"), exact("example.com"), catchAll}, nil},
		{"name before wildcard", []Rule{exact("a.example.com"), exact("*.example.com"), catchAll}, nil},
		{"narrow wildcard before broad", []Rule{exact("*.a.example.com"), exact("*.example.com"), catchAll}, nil},
		{"path before no path", []Rule{withPath("a.example.com", "^/api"), exact("a.example.com"), catchAll}, nil},
		{"no path before path", []Rule{exact("a.example.com"), withPath("a.example.com", "^/api"), catchAll}, []Shadow{{Index: 1, By: 0}}},
		{"identical paths", []Rule{withPath("a.example.com", "^/api"), withPath("a.example.com", "^/api"), catchAll}, []Shadow{{Index: 1, By: 0}}},
		{"different paths", []Rule{withPath("a.example.com", "^/api"), withPath("a.example.com", "^/web"), catchAll}, nil},
		{"wildcard with identical path", []Rule{withPath("*.example.com", "^/api"), withPath("a.example.com", "^/api"), catchAll}, []Shadow{{Index: 1, By: 0}}},
		{"wildcard with path before no path", []Rule{withPath("*.example.com", "^/api"), exact("a.example.com"), catchAll}, nil},
		{"revocation covers every path", []Rule{RevocationRule("a.example.com"), withPath("a.example.com", "^/api"), exact("a.example.com"), catchAll},
			[]Shadow{{Index: 1, By: 0}, {Index: 2, By: 0}}},
		{"revocation of every host", []Rule{RevocationRule(""), exact("a.example.com"), exact("*.example.com"), catchAll},
			[]Shadow{{Index: 1, By: 0}, {Index: 2, By: 0}, {Index: 3, By: 0}}},
		{"path-only rule with identical path", []Rule{withPath("", "^/health"), withPath("a.example.com", "^/health"), catchAll}, []Shadow{{Index: 1, By: 0}}},
		{"earliest cover is reported", []Rule{exact("*.example.com"), exact("a.example.com"), exact("a.example.com"), catchAll},
			[]Shadow{{Index: 1, By: 0}, {Index: 2, By: 0}}},
		{"second catch-all", []Rule{catchAll, exact("a.example.com"), catchAll}, []Shadow{{Index: 1, By: 0}, {Index: 2, By: 0}}},
		{"empty list", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Unreachable(tt.rules)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Unreachable() = %v, want %v", got, tt.want)
			}
		})
	}
}

// unreachableTestRules returns n rules over distinct hostnames with a few wildcards,
// paths and duplicates, then the catch-all.
func unreachableTestRules(n int) []Rule {
	rules := make([]Rule, 0, n+1)
	for i := range n {
		zone := fmt.Sprintf("zone%d.example.com", i%50)
		switch i % 10 {
		case 0:
			rules = append(rules, Rule{Hostname: "*." + zone, Path: "^/api", Service: "http://wild:80"})
		case 1:
			rules = append(rules, Rule{Hostname: fmt.Sprintf("h%d.%s", i, zone), Path: "^/api", Service: "http://api:80"})
		default:
			rules = append(rules, Rule{Hostname: fmt.Sprintf("h%d.%s", i, zone), Service: "http://web:80"})
		}
	}
	return append(rules, Rule{Service: "http_status:404"})
}

func TestUnreachableManyRules(t *testing.T) {
	rules := unreachableTestRules(10000)
	got := Unreachable(rules)
	for _, s := range got {
		if s.By >= s.Index {
			t.Fatalf("shadow %+v: By is not earlier than Index", s)
		}
		if Covers(rules[s.By], rules[s.Index]) != CoverFull {
			t.Fatalf("shadow %+v: rule %+v does not fully cover %+v", s, rules[s.By], rules[s.Index])
		}
	}
	if len(got) == 0 {
		t.Error("Unreachable found no shadowed rule in a list that has some")
	}
}

func TestUnreachableMatchesPairwise(t *testing.T) {
	rules := unreachableTestRules(600)
	rules = append(rules[:len(rules)-1], RevocationRule("h7.zone7.example.com"), Rule{Hostname: "h7.zone7.example.com", Service: "http://x:80"}, Rule{Service: "http_status:404"})

	var want []Shadow
	for j := range rules {
		for i := range j {
			if Covers(rules[i], rules[j]) == CoverFull {
				want = append(want, Shadow{Index: j, By: i})
				break
			}
		}
	}
	got := Unreachable(rules)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("indexed check disagrees with pairwise check:\n got %v\nwant %v", got, want)
	}
}

func BenchmarkUnreachable10000(b *testing.B) {
	rules := unreachableTestRules(10000)
	b.ResetTimer()
	for b.Loop() {
		Unreachable(rules)
	}
}

func TestCovers(t *testing.T) {
	rule := func(host, path string) Rule { return Rule{Hostname: host, Path: path, Service: "http://web:80"} }
	tests := []struct {
		name         string
		upper, lower Rule
		want         Coverage
	}{
		{"same hostname no path", rule("a.example.com", ""), rule("a.example.com", ""), CoverFull},
		{"same hostname upper no path", rule("a.example.com", ""), rule("a.example.com", "^/api"), CoverFull},
		{"same hostname same path", rule("a.example.com", "^/api"), rule("a.example.com", "^/api"), CoverFull},
		{"same hostname different path", rule("a.example.com", "^/api"), rule("a.example.com", "^/web"), CoverPartial},
		{"same hostname upper path lower none", rule("a.example.com", "^/api"), rule("a.example.com", ""), CoverPartial},
		{"wildcard covers name", rule("*.example.com", ""), rule("a.example.com", ""), CoverFull},
		{"wildcard with path over name", rule("*.example.com", "^/api"), rule("a.example.com", ""), CoverPartial},
		{"name inside lower wildcard", rule("a.example.com", ""), rule("*.example.com", ""), CoverPartial},
		{"narrow wildcard over broad", rule("*.a.example.com", ""), rule("*.example.com", ""), CoverPartial},
		{"every host over name", rule("", ""), rule("a.example.com", "^/x"), CoverFull},
		{"name over catch-all", rule("a.example.com", ""), rule("", ""), CoverPartial},
		{"revocation covers every path", RevocationRule("a.example.com"), rule("a.example.com", "^/api"), CoverFull},
		{"revocation of every host", RevocationRule(""), rule("a.example.com", ""), CoverFull},
		{"different hostnames", rule("a.example.com", ""), rule("b.example.com", ""), CoverNone},
		{"wildcard and apex", rule("*.example.com", ""), rule("example.com", ""), CoverNone},
		{"different zones", rule("*.example.com", ""), rule("a.example.net", ""), CoverNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Covers(tt.upper, tt.lower); got != tt.want {
				t.Errorf("Covers(%+v, %+v) = %v, want %v", tt.upper, tt.lower, got, tt.want)
			}
		})
	}
}
