package ingress

import (
	"slices"
	"strings"
)

// SortRules sorts portcullis's own rules into specificity order, so that a
// narrower rule comes before a broader one that would take its traffic:
//
//  1. exact hostnames, then wildcards, then rules for every hostname ("" or "*");
//  2. among wildcards, more labels first ("*.a.example.com" before "*.example.com");
//  3. hostname in lexical order;
//  4. within one hostname, rules with a path before the rule without, longer
//     path first, then path in lexical order;
//  5. service, then the canonical originRequest JSON.
//
// The order is total, so the result does not depend on the input order, and
// an unstable sort gives the same result as a stable one.
func SortRules(rules []Rule) {
	slices.SortFunc(rules, CompareRules)
}

// CompareRules returns a negative number when a sorts before b in SortRules
// order, a positive number when after, and 0 only when the rules are equal,
// so callers can sort values that carry a rule.
func CompareRules(a, b Rule) int {
	return compareRulesBySpecificity(a, b)
}

// Hostname classes in sort order.
const (
	ruleHostExact = iota
	ruleHostWildcard
	ruleHostEvery
)

// ruleHostClass returns the sort class of a rule hostname. A "*" that is not
// followed by "." is matched literally by cloudflared, so it counts as exact.
func ruleHostClass(hostname string) int {
	switch {
	case hostname == "" || hostname == "*":
		return ruleHostEvery
	case strings.HasPrefix(hostname, "*."):
		return ruleHostWildcard
	default:
		return ruleHostExact
	}
}

// compareRulesBySpecificity returns a negative number when a sorts before b, a positive
// number when after, and 0 only when the rules are equal.
func compareRulesBySpecificity(a, b Rule) int {
	if c := compareRuleHostnames(a.Hostname, b.Hostname); c != 0 {
		return c
	}
	if c := compareRulePaths(a.Path, b.Path); c != 0 {
		return c
	}
	if c := strings.Compare(a.Service, b.Service); c != 0 {
		return c
	}
	return strings.Compare(a.OriginRequest.Canonical(), b.OriginRequest.Canonical())
}

// compareRuleHostnames orders exact names before wildcards before every-host
// rules, deeper wildcards first, then lexically.
func compareRuleHostnames(a, b string) int {
	classA, classB := ruleHostClass(a), ruleHostClass(b)
	if classA != classB {
		return classA - classB
	}
	if classA == ruleHostWildcard {
		// More labels means a narrower wildcard.
		if c := strings.Count(b, ".") - strings.Count(a, "."); c != 0 {
			return c
		}
	}
	return strings.Compare(a, b)
}

// compareRulePaths orders rules with a path before the rule without, then longer
// paths first, then lexically.
func compareRulePaths(a, b string) int {
	switch {
	case a == b:
		return 0
	case a == "":
		return 1
	case b == "":
		return -1
	case len(a) != len(b):
		return len(b) - len(a)
	default:
		return strings.Compare(a, b)
	}
}
