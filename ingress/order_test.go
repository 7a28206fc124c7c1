package ingress

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestSortRulesFixtures(t *testing.T) {
	inputs, err := filepath.Glob(filepath.Join("..", "testdata", "rules", "order", "*.in.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(inputs) == 0 {
		t.Fatal("no fixtures under testdata/rules/order")
	}

	for _, input := range inputs {
		name := strings.TrimSuffix(filepath.Base(input), ".in.yaml")
		t.Run(name, func(t *testing.T) {
			text, err := os.ReadFile(input)
			if err != nil {
				t.Fatal(err)
			}
			var rules []Rule
			if err := yaml.Unmarshal(text, &rules); err != nil {
				t.Fatalf("parse %s: %v", input, err)
			}

			SortRules(rules)
			got, err := yaml.Marshal(rules)
			if err != nil {
				t.Fatalf("marshal: %v", err)
			}

			golden := strings.TrimSuffix(input, ".in.yaml") + ".golden.yaml"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("read golden file (run with -update to create it): %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("sorted rules differ from %s:\n--- got\n%s--- want\n%s", golden, got, want)
			}
		})
	}
}

func TestSortRulesOrder(t *testing.T) {
	rule := func(host, path, service string) Rule { return Rule{Hostname: host, Path: path, Service: service} }
	tests := []struct {
		name string
		want []Rule // already in order; the test feeds it reversed
	}{
		{"exact before wildcard", []Rule{rule("z.example.com", "", "s"), rule("*.a.example.com", "", "s")}},
		{"wildcard before every host", []Rule{rule("*.example.com", "", "s"), rule("", "^/x", "s")}},
		{"narrow wildcard first", []Rule{rule("*.a.b.example.com", "", "s"), rule("*.b.example.com", "", "s"), rule("*.example.com", "", "s")}},
		{"lexical hostnames", []Rule{rule("a.example.com", "", "s"), rule("b.example.com", "", "s")}},
		{"path before none", []Rule{rule("a.example.com", "^/x", "s"), rule("a.example.com", "", "s")}},
		{"longer path first", []Rule{rule("a.example.com", "^/api/v2", "s"), rule("a.example.com", "^/api", "s")}},
		{"lexical paths", []Rule{rule("a.example.com", "^/a", "s"), rule("a.example.com", "^/b", "s")}},
		{"service breaks ties", []Rule{rule("a.example.com", "", "http://a:80"), rule("a.example.com", "", "http://b:80")}},
		{"originRequest breaks ties", []Rule{
			{Hostname: "a.example.com", Service: "s", OriginRequest: OriginRequest{"connectTimeout": 5 * time.Second}},
			{Hostname: "a.example.com", Service: "s", OriginRequest: OriginRequest{"noTLSVerify": true}},
		}},
		{"literal star is exact", []Rule{rule("*example.com", "", "s"), rule("*.example.com", "", "s")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := make([]Rule, len(tt.want))
			for i, r := range tt.want {
				got[len(got)-1-i] = r
			}
			SortRules(got)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("SortRules() =\n%v\nwant\n%v", got, tt.want)
			}
		})
	}
}

// specificityTestRules returns a mix of exact, wildcard and every-host rules with
// shared hostnames, paths and services, so that every sort key is used.
func specificityTestRules() []Rule {
	hosts := []string{"a.example.com", "b.example.com", "*.example.com", "*.a.example.com", "*.x.a.example.com", "example.com", "", "*"}
	paths := []string{"", "^(?:/api)", "^(?:/api/v2)", "^(?:/b)", RevocationPath}
	services := []string{"http://web:80", "http://api:8080"}
	origins := []OriginRequest{nil, {"noTLSVerify": true}, {"connectTimeout": 10 * time.Second}}

	var rules []Rule
	for _, h := range hosts {
		for _, p := range paths {
			for _, s := range services {
				for _, o := range origins {
					rules = append(rules, Rule{Hostname: h, Path: p, Service: s, OriginRequest: o})
				}
			}
		}
	}
	return rules
}

func TestSortRulesShuffledInput(t *testing.T) {
	want := specificityTestRules()
	SortRules(want)

	random := rand.New(rand.NewPCG(1, 2))
	for round := range 50 {
		got := specificityTestRules()
		random.Shuffle(len(got), func(i, j int) { got[i], got[j] = got[j], got[i] })
		SortRules(got)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("round %d: shuffled input sorts differently", round)
		}
	}
}

func TestSortRulesStrictOrder(t *testing.T) {
	rules := specificityTestRules()
	SortRules(rules)
	for i := 1; i < len(rules); i++ {
		if compareRulesBySpecificity(rules[i-1], rules[i]) >= 0 {
			t.Errorf("rules %d and %d are not strictly ordered: %+v, %+v", i-1, i, rules[i-1], rules[i])
		}
	}
}

func TestSortRulesNoShadowing(t *testing.T) {
	// Sorting puts the narrower of two overlapping rules first, so distinct
	// rules without revocations never shadow each other once sorted.
	rules := []Rule{
		{Hostname: "*.example.com", Service: "http://wild:80"},
		{Hostname: "a.example.com", Service: "http://a:80"},
		{Hostname: "a.example.com", Path: "^(?:/api)", Service: "http://api:80"},
		{Hostname: "*.a.example.com", Service: "http://deep:80"},
		{Hostname: "b.a.example.com", Path: "^(?:/x)", Service: "http://x:80"},
	}
	SortRules(rules)
	if shadows := Unreachable(rules); len(shadows) != 0 {
		t.Errorf("sorted rules have unreachable rules %v:\n%s", shadows, describeRuleList(rules))
	}
}

func describeRuleList(rules []Rule) string {
	var b strings.Builder
	for i, r := range rules {
		fmt.Fprintf(&b, "%d: %s %s -> %s\n", i, r.Hostname, r.Path, r.Service)
	}
	return b.String()
}
