package ingress

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"

	"golang.org/x/net/idna"
)

// ErrNoMatchingRule is returned by Match when no rule matches the URL, which
// only happens for a list without a catch-all rule.
var ErrNoMatchingRule = errors.New("no ingress rule matches the URL")

// Match returns the index of the first rule that a request for rawURL hits,
// with cloudflared's semantics:
//
//   - the URL's host is compared with any port removed;
//   - hostnames compare exactly, so rules are expected in lower case;
//   - "*.example.com" matches names ending in ".example.com" at any depth, but
//     not "example.com";
//   - a rule with hostname "" or "*" matches every host;
//   - a Unicode rule hostname also matches its punycode form;
//   - the path is an unanchored regular expression matched against the URL
//     path without the query, and a rule without a path matches every path.
//
// It returns an error when rawURL has no host, when a rule that is tried has
// a path that does not compile, and (wrapping ErrNoMatchingRule) when no rule
// matches.
//
// NOTE: newer cloudflared releases may compare hostnames without regard to
// case; Match compares them exactly.
func Match(rules []Rule, rawURL string) (int, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return 0, fmt.Errorf("match URL %q: %w", rawURL, err)
	}
	if u.Host == "" {
		return 0, fmt.Errorf("match URL %q: the URL has no host; write it with a scheme, as in https://app.example.com/path", rawURL)
	}

	host := u.Host
	if withoutPort, _, err := net.SplitHostPort(host); err == nil {
		host = withoutPort
	}

	for i, rule := range rules {
		if !ruleHostMatches(rule.Hostname, host) {
			continue
		}
		hit, err := rulePathMatches(rule.Path, u.Path)
		if err != nil {
			return 0, fmt.Errorf("match URL %q: rule #%d: %w", rawURL, i+1, err)
		}
		if hit {
			return i, nil
		}
	}
	return 0, fmt.Errorf("match URL %q: %w", rawURL, ErrNoMatchingRule)
}

// ruleHostMatches reports whether a rule hostname matches the request host,
// trying the punycode form of the rule hostname too, as cloudflared does.
func ruleHostMatches(ruleHost, requestHost string) bool {
	if ruleHost == "" || ruleHost == "*" {
		return true
	}
	if hostPatternMatches(ruleHost, requestHost) {
		return true
	}

	// cloudflared converts with idna.Lookup and keeps the result only when
	// the conversion succeeds and changes the name.
	punycode, err := idna.Lookup.ToASCII(ruleHost)
	if err != nil || punycode == ruleHost {
		return false
	}
	return hostPatternMatches(punycode, requestHost)
}

// hostPatternMatches compares one rule hostname with a request host: an
// exact match, or for "*.example.com" any host ending in ".example.com".
func hostPatternMatches(pattern, host string) bool {
	if pattern == host {
		return true
	}
	suffix, isWildcard := strings.CutPrefix(pattern, "*")
	return isWildcard && strings.HasPrefix(suffix, ".") && strings.HasSuffix(host, suffix)
}

// rulePathMatches matches a rule path, unanchored, against a request path.
func rulePathMatches(rulePath, requestPath string) (bool, error) {
	if rulePath == "" {
		return true, nil
	}
	re, err := regexp.Compile(rulePath)
	if err != nil {
		return false, fmt.Errorf("path is not a valid regular expression: %w", err)
	}
	return re.MatchString(requestPath), nil
}

// HostCovers reports whether the hostname pattern matches every name that
// host matches: pattern "" or "*" covers every host, a pattern covers itself,
// and "*.example.com" covers any name or wildcard inside example.com, such as
// "a.b.example.com" or "*.a.example.com", but not "example.com".
func HostCovers(pattern, host string) bool {
	if pattern == "" || pattern == "*" {
		return true
	}
	if host == "" || host == "*" {
		return false
	}
	return hostPatternMatches(pattern, host)
}

// Shadow is a rule that can never match because an earlier rule takes all
// of its traffic.
type Shadow struct {
	// Index is the 0-based position of the unreachable rule.
	Index int
	// By is the 0-based position of the earlier rule that takes its traffic.
	By int
}

// Unreachable returns the rules that an earlier rule shadows, in rule order.
// A rule is shadowed when an earlier rule's hostname covers its hostname
// (see HostCovers) and the earlier rule has no path, the identical path, or
// is a revocation rule, whose path matches every path. By is the first such
// earlier rule.
//
// The check is conservative: it does not compare regular expressions, so a
// rule shadowed only by a different path that matches a superset goes
// unreported. Rules are indexed by hostname, and each rule looks up only the
// patterns that could cover it, so the cost grows with the rule count times
// the label count.
func Unreachable(rules []Rule) []Shadow {
	index := make(map[string]*hostRuleEntry)
	var shadows []Shadow
	for i, rule := range rules {
		if by, found := firstCoveringRule(index, rule); found {
			shadows = append(shadows, Shadow{Index: i, By: by})
		}
		addToHostIndex(index, rule, i)
	}
	return shadows
}

// hostRuleEntry records, for one hostname pattern, the first rule that
// matches every path and the first rule for each path.
type hostRuleEntry struct {
	allPaths int // -1 when no rule for the pattern matches every path
	byPath   map[string]int
}

// everyHostIndexKey is the index key shared by the hostnames "" and "*".
const everyHostIndexKey = "*"

// hostIndexKey returns the index key of a rule hostname.
func hostIndexKey(hostname string) string {
	if hostname == "" {
		return everyHostIndexKey
	}
	return hostname
}

// ruleCoversEveryPath reports whether the rule matches every request path.
func ruleCoversEveryPath(rule Rule) bool {
	return rule.Path == "" || rule.IsRevocation()
}

// addToHostIndex records rule i unless an earlier rule already holds its
// place in the index.
func addToHostIndex(index map[string]*hostRuleEntry, rule Rule, i int) {
	key := hostIndexKey(rule.Hostname)
	entry := index[key]
	if entry == nil {
		entry = &hostRuleEntry{allPaths: -1, byPath: map[string]int{}}
		index[key] = entry
	}

	if ruleCoversEveryPath(rule) {
		if entry.allPaths < 0 {
			entry.allPaths = i
		}
		return
	}
	if _, seen := entry.byPath[rule.Path]; !seen {
		entry.byPath[rule.Path] = i
	}
}

// firstCoveringRule returns the first indexed rule that takes all traffic of
// rule.
func firstCoveringRule(index map[string]*hostRuleEntry, rule Rule) (int, bool) {
	best := -1
	for _, key := range coveringHostPatterns(rule.Hostname) {
		entry := index[key]
		if entry == nil {
			continue
		}
		if entry.allPaths >= 0 && (best < 0 || entry.allPaths < best) {
			best = entry.allPaths
		}
		if rule.Path == "" {
			continue
		}
		if by, ok := entry.byPath[rule.Path]; ok && (best < 0 || by < best) {
			best = by
		}
	}
	return best, best >= 0
}

// coveringHostPatterns returns the index keys of every hostname pattern that
// covers hostname: the every-host key, the hostname itself and a wildcard
// for each parent domain. For "a.b.example.com" that is "*",
// "a.b.example.com", "*.b.example.com", "*.example.com" and "*.com".
func coveringHostPatterns(hostname string) []string {
	key := hostIndexKey(hostname)
	if key == everyHostIndexKey {
		return []string{everyHostIndexKey}
	}

	patterns := []string{everyHostIndexKey, key}
	rest := hostname
	for {
		dot := strings.IndexByte(rest, '.')
		if dot < 0 {
			return patterns
		}
		rest = rest[dot+1:]
		patterns = append(patterns, "*."+rest)
	}
}

// Coverage is how much of a lower rule's traffic an upper rule takes.
type Coverage int

// Coverage values.
const (
	// CoverNone means the rules share no traffic.
	CoverNone Coverage = iota
	// CoverPartial means the upper rule takes some of the lower rule's traffic.
	CoverPartial
	// CoverFull means the upper rule takes all of the lower rule's traffic.
	CoverFull
)

// String returns "none", "partial" or "full".
func (c Coverage) String() string {
	switch c {
	case CoverNone:
		return "none"
	case CoverPartial:
		return "partial"
	case CoverFull:
		return "full"
	default:
		return fmt.Sprintf("Coverage(%d)", int(c))
	}
}

// Covers returns how much of lower's traffic upper takes when upper comes
// first. It is CoverFull when upper's hostname covers lower's (see
// HostCovers) and upper has no path, the identical path, or is a revocation
// rule. It is CoverPartial when the hostnames overlap otherwise: upper covers
// lower's hostname with a different path, or lower's hostname covers upper's,
// as for a wildcard below a name inside it. Paths are not compared as
// regular expressions, so two different paths on one hostname count as
// partial even when they match disjoint request paths.
func Covers(upper, lower Rule) Coverage {
	upperCoversHost := HostCovers(upper.Hostname, lower.Hostname)
	if upperCoversHost && (ruleCoversEveryPath(upper) || upper.Path == lower.Path) {
		return CoverFull
	}
	if upperCoversHost || HostCovers(lower.Hostname, upper.Hostname) {
		return CoverPartial
	}
	return CoverNone
}
