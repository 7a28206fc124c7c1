// Package sync computes and applies the difference between the routes that
// compose labels declare and the live tunnel configuration.
//
// The name is the standard library's too; callers that need both import this
// package as portsync.
package sync

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/go-multierror"

	"github.com/portcullis-dev/portcullis/ingress"
	"github.com/portcullis-dev/portcullis/tunnel"
)

// OriginChecker reports whether a cloudflared origin reaches an internal-only
// service. *ingress.Gate implements it.
type OriginChecker interface {
	CheckOrigin(origin string) (ingress.GateMatch, bool)
}

// RevocationInfo holds the audit log's record of a live revocation.
type RevocationInfo struct {
	Reason string
	Actor  string
	Since  string
}

// Input is everything the planner needs. It holds values only: the planner
// reads no file, network or clock.
type Input struct {
	// Routes are the desired routes of active services.
	Routes []ingress.Route
	// Held are the routes of services in inactive profiles.
	Held []ingress.Route
	// Violations are the security gate's findings on Routes.
	Violations []ingress.Violation
	// Warnings are label warnings passed through to the plan.
	Warnings []ingress.Warning
	Live     tunnel.State
	OwnerID  string
	Policy   Policy
	// Exclusive is the tunnel id that belongs wholly to portcullis, or "".
	Exclusive string
	// Adopt lists hostnames whose unmarked CNAME to this tunnel, and rules,
	// portcullis takes over.
	Adopt      []string
	MaxDeletes int
	// Gate checks live rules; nil when no compose project is loaded.
	Gate OriginChecker
	// Revocations adds audit-log details to live revocations, by hostname.
	Revocations map[string]RevocationInfo
	// FileTunnel names the tunnel in the cloudflared commands listed on the
	// file target.
	FileTunnel string
}

// Compute returns the plan that makes the live state match the desired
// routes. An error means the inputs cannot be planned at all (a hostname in
// no zone of the account, or a merged document cloudflared would reject).
func Compute(in Input) (*Plan, error) {
	p := newPlan(in)
	live := indexLive(in.Live)
	own := classifyHosts(in, live)

	var errs *multierror.Error
	desired := groupRoutes(allowedRoutes(in.Routes, in.Violations))
	held := groupRoutes(in.Held)
	changes := &changeSet{keep: map[int]bool{}}

	for _, host := range sortedKeys(desired) {
		if _, isHeld := held[host]; isHeld {
			continue
		}
		if err := planHost(p, in, live, own, host, desired[host], changes); err != nil {
			errs = multierror.Append(errs, err)
		}
	}
	for _, host := range sortedKeys(held) {
		planHeld(p, live, own, host, held[host], changes)
	}
	planRemovals(p, in, live, own, desired, held, changes)

	applyPolicy(p, in.Policy, changes)
	planRevocations(p, in, live)
	planLiveViolations(p, in, live)
	planUnmanaged(p, in.Live, own)
	addWarnings(p, in)
	addAdoptWarnings(p, in, own)

	doc, err := buildDocument(in.Live, live, own, changes)
	if err != nil {
		errs = multierror.Append(errs, err)
	}
	p.Document = doc
	p.Reorder = !p.HasChanges() && documentMoved(in.Live, doc)
	addUnreachableWarnings(p)
	if in.Live.Target == "file" {
		addDNSCommands(p, in)
	}

	p.Sort()
	if errs != nil {
		return p, errs.ErrorOrNil()
	}
	return p, nil
}

func newPlan(in Input) *Plan {
	policy := in.Policy
	if policy == "" {
		policy = PolicySync
	}
	return &Plan{
		FormatVersion: FormatVersion,
		Target:        in.Live.Target,
		AccountID:     in.Live.AccountID,
		TunnelID:      in.Live.TunnelID,
		OwnerID:       in.OwnerID,
		Policy:        policy,
		BaseVersion:   in.Live.Version,
		BaseChecksum:  in.Live.Checksum,
	}
}

// liveIndex locates the live rules by role and hostname.
type liveIndex struct {
	revocations []int
	// catchAll is the index of the final catch-all rule, or -1.
	catchAll int
	// byHost holds the indexes of ordinary rules (neither revocation nor
	// final catch-all) by hostname, in document order.
	byHost map[string][]int
	// ordinary lists the same indexes in document order.
	ordinary []int
	// records holds DNS records by lower-case name.
	records map[string][]tunnel.DNSRecord
}

func indexLive(s tunnel.State) *liveIndex {
	l := &liveIndex{catchAll: -1, byHost: map[string][]int{}, records: map[string][]tunnel.DNSRecord{}}
	last := len(s.Rules) - 1
	for i, r := range s.Rules {
		switch {
		case r.IsRevocation():
			l.revocations = append(l.revocations, i)
		case i == last && r.IsCatchAll():
			l.catchAll = i
		default:
			host := strings.ToLower(r.Hostname)
			l.byHost[host] = append(l.byHost[host], i)
			l.ordinary = append(l.ordinary, i)
		}
	}
	for _, rec := range s.Records {
		name := strings.TrimSuffix(strings.ToLower(rec.Name), ".")
		l.records[name] = append(l.records[name], rec)
	}
	return l
}

// allowedRoutes drops the routes the security gate refused: they appear as
// violations only, never as changes.
func allowedRoutes(routes []ingress.Route, violations []ingress.Violation) []ingress.Route {
	if len(violations) == 0 {
		return routes
	}
	refused := make(map[string]bool, len(violations))
	for _, v := range violations {
		refused[v.Hostname+"\x00"+v.Path] = true
	}
	out := make([]ingress.Route, 0, len(routes))
	for _, r := range routes {
		if !refused[r.Hostname+"\x00"+r.Path] {
			out = append(out, r)
		}
	}
	return out
}

func groupRoutes(routes []ingress.Route) map[string][]ingress.Route {
	out := map[string][]ingress.Route{}
	for _, r := range routes {
		out[r.Hostname] = append(out[r.Hostname], r)
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// changeSet records, per live rule index and per new rule, what the
// document will contain. Policies edit it before the document is built.
type changeSet struct {
	// keep marks live owned rules written back unchanged.
	keep map[int]bool
	// added holds new or replacing owned rules.
	added []addedRule
	// removed holds live owned rules the plan drops, with the change that
	// drops them.
	removed []removedRule
}

type addedRule struct {
	rule ingress.Rule
	// replaces is the live index of the rule an update replaces, or -1.
	replaces int
	// hostname is the change's hostname, for dropping rules whose CNAME
	// could not be created.
	hostname string
}

type removedRule struct {
	index int
	// drift is true for a live rule of a still-declared hostname.
	drift bool
}

// addAdoptWarnings reports when --adopt HOST took nothing over, and why, so
// that a mistyped or impossible adoption is not silently ignored.
func addAdoptWarnings(p *Plan, in Input, own *ownership) {
	for _, host := range in.Adopt {
		host = strings.ToLower(strings.TrimSuffix(host, "."))
		st := own.get(host)
		switch {
		case st.adopt:
			continue
		case st.owned:
			p.Warnings = append(p.Warnings, Warning{Hostname: host, Message: "--adopt had no effect: the hostname is already portcullis's"})
		case st.ruleConflict != "":
			p.Warnings = append(p.Warnings, Warning{Hostname: host, Message: "--adopt had no effect: " + st.ruleConflict})
		default:
			p.Warnings = append(p.Warnings, Warning{Hostname: host, Message: "--adopt had no effect: nothing for this hostname exists in the tunnel or its DNS"})
		}
	}
}

func addWarnings(p *Plan, in Input) {
	for _, w := range in.Warnings {
		msg := w.Message
		if w.Key != "" {
			msg = fmt.Sprintf("label %q: %s", w.Key, w.Message)
		}
		p.Warnings = append(p.Warnings, Warning{Hostname: w.Hostname, Service: w.Service, Message: msg, File: w.File, Line: w.Line})
	}
}
