package sync

import (
	"cmp"
	"slices"

	"github.com/portcullis-dev/portcullis/ingress"
)

// Sort puts every bucket of the plan in a total, deterministic order, so the
// same plan renders to the same bytes whatever order the planner built it in.
// Each bucket sorts by its documented key and then by every remaining field,
// so two items compare equal only when they are identical.
//
//   - Creates, Updates, Deletes and Drift: hostname, then path. A wildcard
//     sorts by its text ("*" before letters), not in cloudflared's order.
//   - DNS: zone, name, type, action.
//   - Held: hostname, service.
//   - Skipped: hostname, path, action.
//   - Revoked: hostname, so the revocation of every hostname ("") is first.
//   - Conflicts: hostname, path, service.
//   - Violations: desired routes before live rules, then file, line, service,
//     hostname, path.
//   - Warnings: service, hostname, message.
//   - DNSCommands: lexical.
//
// Unmanaged keeps the live document's order, because that order decides
// which unmanaged rule cloudflared matches first. Document is not sorted
// either: it is already in the order apply writes.
func (p *Plan) Sort() {
	for _, bucket := range [][]RouteChange{p.Creates, p.Updates, p.Deletes, p.Drift} {
		slices.SortFunc(bucket, compareRouteChanges)
	}
	slices.SortFunc(p.DNS, compareDNSChanges)
	slices.SortFunc(p.Held, compareHeld)
	slices.SortFunc(p.Skipped, compareSkipped)
	slices.SortFunc(p.Revoked, compareRevoked)
	slices.SortFunc(p.Conflicts, compareConflicts)
	slices.SortFunc(p.Violations, compareViolations)
	slices.SortFunc(p.Warnings, compareWarnings)
	slices.Sort(p.DNSCommands)
}

// compareRouteChanges compares the cheap string keys first and the rules
// only on a tie, because comparing originRequest encodes it as JSON.
func compareRouteChanges(a, b RouteChange) int {
	byKey := cmp.Or(
		cmp.Compare(a.Hostname, b.Hostname),
		cmp.Compare(a.Path, b.Path),
		cmp.Compare(a.Service, b.Service),
	)
	if byKey != 0 {
		return byKey
	}
	if byBefore := compareRulePointers(a.Before, b.Before); byBefore != 0 {
		return byBefore
	}
	return compareRulePointers(a.After, b.After)
}

// compareRulePointers orders a nil rule before any other, then compares the
// rules field by field, originRequest by its canonical JSON text.
func compareRulePointers(a, b *ingress.Rule) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	return compareRuleFields(*a, *b)
}

func compareRuleFields(a, b ingress.Rule) int {
	byText := cmp.Or(
		cmp.Compare(a.Hostname, b.Hostname),
		cmp.Compare(a.Path, b.Path),
		cmp.Compare(a.Service, b.Service),
	)
	if byText != 0 {
		return byText
	}
	return cmp.Compare(a.OriginRequest.Canonical(), b.OriginRequest.Canonical())
}

func compareDNSChanges(a, b DNSChange) int {
	return cmp.Or(
		cmp.Compare(a.Zone, b.Zone),
		cmp.Compare(a.Name, b.Name),
		cmp.Compare(a.Type, b.Type),
		cmp.Compare(a.Action, b.Action),
		cmp.Compare(a.ZoneID, b.ZoneID),
		cmp.Compare(a.RecordID, b.RecordID),
		cmp.Compare(a.Content, b.Content),
		compareBools(a.Proxied, b.Proxied),
		cmp.Compare(a.Comment, b.Comment),
		cmp.Compare(a.BeforeComment, b.BeforeComment),
	)
}

func compareHeld(a, b Held) int {
	return cmp.Or(
		cmp.Compare(a.Hostname, b.Hostname),
		cmp.Compare(a.Service, b.Service),
		cmp.Compare(a.Reason, b.Reason),
	)
}

func compareSkipped(a, b Skipped) int {
	return cmp.Or(
		cmp.Compare(a.Hostname, b.Hostname),
		cmp.Compare(a.Path, b.Path),
		cmp.Compare(a.Action, b.Action),
		cmp.Compare(a.Reason, b.Reason),
	)
}

func compareRevoked(a, b Revoked) int {
	return cmp.Or(
		cmp.Compare(a.Hostname, b.Hostname),
		cmp.Compare(a.Reason, b.Reason),
		cmp.Compare(a.Actor, b.Actor),
		cmp.Compare(a.Since, b.Since),
	)
}

func compareConflicts(a, b Conflict) int {
	return cmp.Or(
		cmp.Compare(a.Hostname, b.Hostname),
		cmp.Compare(a.Path, b.Path),
		cmp.Compare(a.Service, b.Service),
		cmp.Compare(a.Reason, b.Reason),
	)
}

func compareViolations(a, b Violation) int {
	return cmp.Or(
		compareBools(a.Live, b.Live),
		cmp.Compare(a.File, b.File),
		cmp.Compare(a.Line, b.Line),
		cmp.Compare(a.Service, b.Service),
		cmp.Compare(a.Hostname, b.Hostname),
		cmp.Compare(a.Path, b.Path),
		cmp.Compare(a.Origin, b.Origin),
		cmp.Compare(a.InternalService, b.InternalService),
		cmp.Compare(a.MatchedName, b.MatchedName),
		compareBools(a.Neutralised, b.Neutralised),
	)
}

func compareWarnings(a, b Warning) int {
	return cmp.Or(
		cmp.Compare(a.Service, b.Service),
		cmp.Compare(a.Hostname, b.Hostname),
		cmp.Compare(a.Message, b.Message),
	)
}

// compareBools orders false before true.
func compareBools(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	default:
		return 1
	}
}
