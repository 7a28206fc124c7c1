package sync

import (
	"fmt"
	"slices"
	"strings"

	"github.com/portcullis-dev/portcullis/ingress"
	"github.com/portcullis-dev/portcullis/tunnel"
)

// planRevocations lists the live revocation rules, which no plan removes.
func planRevocations(p *Plan, in Input, live *liveIndex) {
	for _, i := range live.revocations {
		host := strings.ToLower(in.Live.Rules[i].Hostname)
		rev := Revoked{Hostname: host, Reason: "reason unknown"}
		if info, ok := in.Revocations[host]; ok {
			rev.Reason, rev.Actor, rev.Since = info.Reason, info.Actor, info.Since
			if rev.Reason == "" {
				rev.Reason = "reason unknown"
			}
		}
		p.Revoked = append(p.Revoked, rev)
	}
}

// planLiveViolations reports the declared routes the gate refused, and the
// live rules whose origin reaches an internal-only service. A live rule
// beneath a revocation that covers its hostname is neutralised: its traffic
// is already cut.
func planLiveViolations(p *Plan, in Input, live *liveIndex) {
	for _, v := range in.Violations {
		p.Violations = append(p.Violations, Violation{
			Hostname: v.Hostname, Path: v.Path, Origin: v.Origin, Service: v.Service,
			InternalService: v.InternalService, MatchedName: v.MatchedName, How: v.How,
			File: v.Source.File, Line: v.Source.Line,
		})
	}
	if in.Gate == nil {
		return
	}
	for i, r := range in.Live.Rules {
		if r.IsRevocation() {
			continue
		}
		m, ok := in.Gate.CheckOrigin(r.Service)
		if !ok {
			continue
		}
		p.Violations = append(p.Violations, Violation{
			Hostname: strings.ToLower(r.Hostname), Path: r.Path, Origin: r.Service,
			InternalService: m.InternalService, MatchedName: m.MatchedName, How: m.How,
			Live: true, Neutralised: revokedAbove(in.Live, live, i),
		})
	}
}

func revokedAbove(s tunnel.State, live *liveIndex, index int) bool {
	host := strings.ToLower(s.Rules[index].Hostname)
	for _, i := range live.revocations {
		if i >= index {
			break
		}
		rev := strings.ToLower(s.Rules[i].Hostname)
		if rev == "" || rev == "*" || (host != "" && ingress.HostCovers(rev, host)) {
			return true
		}
	}
	return false
}

// planUnmanaged lists live rules that are not ours, in live order.
func planUnmanaged(p *Plan, s tunnel.State, own *ownership) {
	for _, i := range own.unmanaged {
		r := s.Rules[i]
		u := Unmanaged{Hostname: strings.ToLower(r.Hostname), Path: r.Path, Origin: r.Service, Owner: r.Owner}
		if u.Owner == "" {
			u.Owner = own.get(u.Hostname).otherOwner
		}
		p.Unmanaged = append(p.Unmanaged, u)
	}
}

// buildDocument assembles the ingress list apply writes: revocations, owned
// rules in specificity order, unmanaged rules in live order, catch-all.
func buildDocument(s tunnel.State, live *liveIndex, own *ownership, ch *changeSet) ([]DocumentRule, error) {
	var doc []DocumentRule
	for _, i := range live.revocations {
		doc = append(doc, DocumentRule{Kind: KindRevocation, Rule: s.Rules[i].Rule, LiveIndex: i})
	}

	owned := make([]DocumentRule, 0, len(ch.keep)+len(ch.added))
	for i := range ch.keep {
		owned = append(owned, DocumentRule{Kind: KindOwned, Rule: s.Rules[i].Rule, LiveIndex: i})
	}
	for _, a := range ch.added {
		owned = append(owned, DocumentRule{Kind: KindOwned, Rule: a.rule, LiveIndex: -1})
	}
	// Rules of another portcullis owner sort together with ours, so that
	// two stacks sharing a tunnel agree on one order instead of each moving
	// its own rules above the other's on every run.
	var unmanaged []DocumentRule
	for _, i := range own.unmanaged {
		d := DocumentRule{Kind: KindUnmanaged, Rule: s.Rules[i].Rule, LiveIndex: i}
		if otherOwned(s, own, i) {
			owned = append(owned, d)
			continue
		}
		unmanaged = append(unmanaged, d)
	}
	sortDocumentRules(owned)
	doc = append(doc, owned...)
	doc = append(doc, unmanaged...)
	if live.catchAll >= 0 {
		doc = append(doc, DocumentRule{Kind: KindCatchAll, Rule: s.Rules[live.catchAll].Rule, LiveIndex: live.catchAll})
	} else {
		doc = append(doc, DocumentRule{Kind: KindCatchAll, Rule: ingress.Rule{Service: ingress.DefaultCatchAll}, LiveIndex: -1})
	}

	if err := ingress.ValidateRules(documentRules(doc)); err != nil {
		return doc, fmt.Errorf("the merged tunnel configuration would be rejected by cloudflared: %w", err)
	}
	return doc, nil
}

// otherOwned reports whether live rule i belongs to another portcullis
// owner, by its own marker (file target) or its hostname's (API target).
func otherOwned(s tunnel.State, own *ownership, i int) bool {
	r := s.Rules[i]
	return r.Owner != "" || own.get(strings.ToLower(r.Hostname)).otherOwner != ""
}

// sortDocumentRules puts owned rules in ingress.SortRules order, carrying
// each rule's live index along.
func sortDocumentRules(rules []DocumentRule) {
	slices.SortFunc(rules, func(a, b DocumentRule) int {
		if c := ingress.CompareRules(a.Rule, b.Rule); c != 0 {
			return c
		}
		return a.LiveIndex - b.LiveIndex
	})
}

func documentRules(doc []DocumentRule) []ingress.Rule {
	out := make([]ingress.Rule, len(doc))
	for i, d := range doc {
		out[i] = d.Rule
	}
	return out
}

// documentMoved reports whether writing doc would change the live document
// even though no rule changes: rules out of order, or a missing catch-all.
func documentMoved(s tunnel.State, doc []DocumentRule) bool {
	if len(s.Rules) == 0 {
		return false
	}
	if len(doc) != len(s.Rules) {
		return true
	}
	for i, d := range doc {
		if d.LiveIndex != i {
			return true
		}
	}
	return false
}

// addUnreachableWarnings warns about rules no request can reach. Rules
// beneath a revocation are cut on purpose and not reported.
func addUnreachableWarnings(p *Plan) {
	for _, sh := range ingress.Unreachable(documentRules(p.Document)) {
		upper, lower := p.Document[sh.By], p.Document[sh.Index]
		if upper.Kind == KindRevocation {
			continue
		}
		p.Warnings = append(p.Warnings, Warning{Hostname: lower.Rule.Hostname,
			Message: fmt.Sprintf("rule #%d (%s) is unreachable: rule #%d (%s) above it takes all its traffic", sh.Index+1, describeRule(lower.Rule), sh.By+1, describeRule(upper.Rule))})
	}
}

// addDNSCommands lists the cloudflared commands that route new hostnames to
// the tunnel, because the file target manages no DNS.
func addDNSCommands(p *Plan, in Input) {
	name := in.FileTunnel
	if name == "" {
		name = in.Live.TunnelID
	}
	if name == "" {
		name = "<tunnel>"
	}
	seen := map[string]bool{}
	for _, c := range p.Creates {
		if seen[c.Hostname] {
			continue
		}
		seen[c.Hostname] = true
		host := c.Hostname
		if strings.HasPrefix(host, "*") {
			// Quoted, so that a shell does not expand the wildcard.
			host = "'" + host + "'"
		}
		p.DNSCommands = append(p.DNSCommands, fmt.Sprintf("cloudflared tunnel route dns %s %s", name, host))
	}
}
