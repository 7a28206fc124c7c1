package sync

import (
	"slices"
	"sort"
	"strings"

	"github.com/portcullis-dev/portcullis/ingress"
	"github.com/portcullis-dev/portcullis/tunnel"
)

// RevokeAll is the hostname key of the revocation that cuts every hostname
// (revoke --all), whose rule has no hostname.
const RevokeAll = ""

// RevocationKey returns the key that identifies the revocation of host:
// the lower-case hostname, and RevokeAll for "" and "*", which cloudflared
// treats alike.
func RevocationKey(host string) string {
	h := strings.ToLower(strings.TrimSpace(host))
	if h == "*" {
		return RevokeAll
	}
	return h
}

// RevocationChange is a new ingress list that adds or removes revocation
// rules, with what changed.
type RevocationChange struct {
	// Rules is the whole document to write: the revocation block first,
	// then every other live rule in live order with its Raw unchanged.
	Rules []tunnel.LiveRule
	// Added and Removed are the keys of revocations written or taken out,
	// in request order.
	Added   []string
	Removed []string
	// Unchanged are the requested keys that needed nothing: already revoked
	// for a revoke, not revoked for a restore.
	Unchanged []string
	// Moved is set when the write also changes the document beyond the
	// revocations: live revocation rules that were not all in the leading
	// block move to the top, or a missing catch-all is added.
	Moved bool
}

// Changed reports whether Rules differ from the live document.
func (c RevocationChange) Changed() bool {
	return len(c.Added)+len(c.Removed) > 0 || c.Moved
}

// AddRevocations returns the document that revokes keys (see RevocationKey):
// one block at the top with the live revocations in live order, then the
// new ones in the order given. An existing revocation is never duplicated.
// A document without ordinary rules gets the default catch-all, because
// cloudflared rejects a document whose last rule has a path.
func AddRevocations(live []tunnel.LiveRule, keys []string) RevocationChange {
	var block, rest []tunnel.LiveRule
	present := map[string]bool{}
	for _, r := range live {
		if r.IsRevocation() {
			block = append(block, r)
			present[RevocationKey(r.Hostname)] = true
			continue
		}
		rest = append(rest, r)
	}

	var c RevocationChange
	c.Moved = !leadingBlock(live)
	for _, k := range dedupe(keys) {
		if present[k] {
			c.Unchanged = append(c.Unchanged, k)
			continue
		}
		present[k] = true
		block = append(block, tunnel.LiveRule{Rule: ingress.RevocationRule(k)})
		c.Added = append(c.Added, k)
	}
	if len(rest) == 0 {
		// cloudflared needs a catch-all last, and an empty document has none.
		rest = append(rest, tunnel.LiveRule{Rule: ingress.Rule{Service: ingress.DefaultCatchAll}})
		c.Moved = true
	}
	c.Rules = append(block, rest...)
	return c
}

// RemoveRevocations returns the document without the revocations of keys,
// or without every revocation when all is set. Every other rule keeps its
// place and Raw.
func RemoveRevocations(live []tunnel.LiveRule, keys []string, all bool) RevocationChange {
	requested := map[string]bool{}
	for _, k := range keys {
		requested[k] = true
	}

	var c RevocationChange
	removed := map[string]bool{}
	for _, r := range live {
		k := RevocationKey(r.Hostname)
		if r.IsRevocation() && (all || requested[k]) {
			if !removed[k] {
				c.Removed = append(c.Removed, k)
			}
			removed[k] = true
			continue
		}
		c.Rules = append(c.Rules, r)
	}
	for _, k := range dedupe(keys) {
		if !removed[k] {
			c.Unchanged = append(c.Unchanged, k)
		}
	}
	return c
}

// MissingRevocations returns the keys whose revocation is not in the
// leading block of rules. A revocation below an ordinary rule may not cut
// all the traffic of its hostname, so it does not count.
func MissingRevocations(rules []tunnel.LiveRule, keys []string) []string {
	top := map[string]bool{}
	for _, r := range rules {
		if !r.IsRevocation() {
			break
		}
		top[RevocationKey(r.Hostname)] = true
	}
	var missing []string
	for _, k := range dedupe(keys) {
		if !top[k] {
			missing = append(missing, k)
		}
	}
	return missing
}

// CutHostnames returns the sorted hostnames of live ordinary rules that the
// revocation of key cuts and that differ from key itself: every named
// hostname for RevokeAll, and the names inside a wildcard.
func CutHostnames(live []tunnel.LiveRule, key string) []string {
	var out []string
	for i, r := range live {
		host := strings.ToLower(r.Hostname)
		if r.IsRevocation() || host == key || host == "" || host == "*" {
			continue
		}
		if i == len(live)-1 && r.IsCatchAll() {
			continue
		}
		if ingress.HostCovers(key, host) {
			out = append(out, host)
		}
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// ExposedRules returns the ordinary rules of after that a revocation in
// before cut and no revocation in after cuts: what a restore makes
// reachable again.
func ExposedRules(before, after []tunnel.LiveRule) []tunnel.LiveRule {
	var exposed []tunnel.LiveRule
	for _, r := range after {
		if r.IsRevocation() {
			continue
		}
		if cutBy(before, r.Rule) && !cutBy(after, r.Rule) {
			exposed = append(exposed, r)
		}
	}
	return exposed
}

// cutBy reports whether a revocation rule in rules takes traffic of rule.
// A revocation of a named hostname takes part of a wildcard rule's traffic,
// so that counts as cut too.
func cutBy(rules []tunnel.LiveRule, rule ingress.Rule) bool {
	host := strings.ToLower(rule.Hostname)
	for _, r := range rules {
		if !r.IsRevocation() {
			continue
		}
		k := RevocationKey(r.Hostname)
		if k == RevokeAll || ingress.HostCovers(k, host) || (host != "" && ingress.HostCovers(host, k)) {
			return true
		}
	}
	return false
}

// SharedHostname is a live rule of a hostname being revoked whose origin
// reaches another service (or no known service).
type SharedHostname struct {
	Hostname string
	Path     string
	Origin   string
	// Service is the compose service the origin reaches, or "" when unknown.
	Service string
}

// ServiceHostnames returns the sorted hostnames of the live rules whose
// origin reaches service by serviceFor (the gate's name resolver), the
// other rules of those hostnames, and the rules that reach service but
// carry no hostname, which only revoke --all cuts.
func ServiceHostnames(live []tunnel.LiveRule, service string, serviceFor func(origin string) (string, bool)) (hosts []string, shared []SharedHostname, unnamed []ingress.Rule) {
	reaches := func(r tunnel.LiveRule) (string, bool) {
		s, ok := serviceFor(r.Service)
		return s, ok && strings.EqualFold(s, service)
	}

	selected := map[string]bool{}
	for _, r := range live {
		if r.IsRevocation() {
			continue
		}
		if _, ok := reaches(r); !ok {
			continue
		}
		host := strings.ToLower(r.Hostname)
		if host == "" || host == "*" {
			unnamed = append(unnamed, r.Rule)
			continue
		}
		if !selected[host] {
			selected[host] = true
			hosts = append(hosts, host)
		}
	}
	sort.Strings(hosts)

	for _, r := range live {
		host := strings.ToLower(r.Hostname)
		if r.IsRevocation() || !selected[host] {
			continue
		}
		if other, ok := reaches(r); !ok {
			shared = append(shared, SharedHostname{Hostname: host, Path: r.Path, Origin: r.Service, Service: other})
		}
	}
	return hosts, shared, unnamed
}

// leadingBlock reports whether every revocation rule sits before every
// ordinary rule.
func leadingBlock(rules []tunnel.LiveRule) bool {
	seenOrdinary := false
	for _, r := range rules {
		if !r.IsRevocation() {
			seenOrdinary = true
			continue
		}
		if seenOrdinary {
			return false
		}
	}
	return true
}

func dedupe(keys []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, k := range keys {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}
