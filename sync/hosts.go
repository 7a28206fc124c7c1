package sync

import (
	"fmt"
	"slices"
	"strings"

	"github.com/portcullis-dev/portcullis/ingress"
	"github.com/portcullis-dev/portcullis/tunnel"
)

// planHost plans one declared hostname: its rules, drift and CNAME.
func planHost(p *Plan, in Input, live *liveIndex, own *ownership, host string, routes []ingress.Route, ch *changeSet) error {
	st := own.get(host)
	wantsDNS := in.Live.ManagesDNS && anyDNS(routes)

	if st.ruleConflict != "" || (wantsDNS && st.dnsConflict != "") {
		reason := st.ruleConflict
		if reason == "" {
			reason = st.dnsConflict
		}
		for _, r := range routes {
			p.Conflicts = append(p.Conflicts, Conflict{Hostname: host, Path: r.Path, Service: r.Service, Reason: reason})
		}
		keepOwned(live, st, host, ch)
		return nil
	}

	var zone tunnel.Zone
	if wantsDNS && st.cname == nil {
		z, err := zoneFor(host, routes, in.Live)
		if err != nil {
			return err
		}
		zone = z
	}

	livePaths := map[string]int{}
	if st.owned {
		for _, i := range live.byHost[host] {
			path := in.Live.Rules[i].Path
			if _, dup := livePaths[path]; dup {
				// A second live rule with the same path can never match.
				p.Drift = append(p.Drift, routeChangeFromLive(in.Live.Rules[i].Rule, ""))
				ch.removed = append(ch.removed, removedRule{index: i, drift: true})
				continue
			}
			livePaths[path] = i
		}
	}

	created := 0
	for _, r := range routes {
		if reason := coverConflict(p, in, own, r); reason != "" {
			p.Conflicts = append(p.Conflicts, Conflict{Hostname: host, Path: r.Path, Service: r.Service, Reason: reason})
			if i, ok := livePaths[r.Path]; ok {
				ch.keep[i] = true
				delete(livePaths, r.Path)
			}
			continue
		}
		want := r.Rule()
		i, exists := livePaths[r.Path]
		delete(livePaths, r.Path)
		switch {
		case !exists:
			p.Creates = append(p.Creates, RouteChange{Hostname: host, Path: r.Path, Service: r.Service, After: &want})
			ch.added = append(ch.added, addedRule{rule: want, replaces: -1, hostname: host})
			created++
		case in.Live.Rules[i].Equal(want):
			ch.keep[i] = true
		default:
			before := in.Live.Rules[i].Rule
			p.Updates = append(p.Updates, RouteChange{Hostname: host, Path: r.Path, Service: r.Service, Before: &before, After: &want})
			ch.added = append(ch.added, addedRule{rule: want, replaces: i, hostname: host})
		}
	}
	for _, i := range livePaths {
		p.Drift = append(p.Drift, routeChangeFromLive(in.Live.Rules[i].Rule, ""))
		ch.removed = append(ch.removed, removedRule{index: i, drift: true})
	}

	if wantsDNS {
		planCNAME(p, in, st, host, zone)
	}
	return nil
}

// planCNAME adds the DNS change a declared hostname needs, if any.
func planCNAME(p *Plan, in Input, st *hostState, host string, zone tunnel.Zone) {
	marker := tunnel.Marker(in.OwnerID)
	target := tunnel.TunnelTarget(in.Live.TunnelID)
	switch {
	case st.cname == nil:
		p.DNS = append(p.DNS, DNSChange{Action: DNSCreate, ZoneID: zone.ID, Zone: zone.Name, Name: host, Type: "CNAME", Content: target, Proxied: true, Comment: marker})
	case st.adopt:
		c := st.cname
		p.DNS = append(p.DNS, DNSChange{Action: DNSUpdate, ZoneID: c.ZoneID, Zone: c.ZoneName, RecordID: c.ID, Name: host, Type: "CNAME", Content: target, Proxied: true, Comment: marker, BeforeComment: c.Comment})
	case st.cnameOurs && !st.cname.Proxied:
		c := st.cname
		p.DNS = append(p.DNS, DNSChange{Action: DNSUpdate, ZoneID: c.ZoneID, Zone: c.ZoneName, RecordID: c.ID, Name: host, Type: "CNAME", Content: target, Proxied: true, Comment: marker, BeforeComment: c.Comment})
	}
}

// planHeld keeps the live rules of a hostname declared only by services in
// inactive profiles: they are neither created nor deleted.
func planHeld(p *Plan, live *liveIndex, own *ownership, host string, routes []ingress.Route, ch *changeSet) {
	for _, r := range routes {
		p.Held = append(p.Held, Held{Hostname: host, Service: r.Service, Reason: "service is in an inactive profile"})
	}
	keepOwned(live, own.get(host), host, ch)
}

// keepOwned writes back every live owned rule of host unchanged.
func keepOwned(live *liveIndex, st *hostState, host string, ch *changeSet) {
	if !st.owned {
		return
	}
	for _, i := range live.byHost[host] {
		ch.keep[i] = true
	}
}

// planRemovals deletes owned hostnames that no service declares any more,
// together with their marked CNAMEs.
func planRemovals(p *Plan, in Input, live *liveIndex, own *ownership, desired, held map[string][]ingress.Route, ch *changeSet) {
	deleted := 0
	for _, host := range removedHosts(own, desired, held) {
		st := own.hosts[host]
		rules := live.byHost[host]
		for _, i := range rules {
			p.Deletes = append(p.Deletes, routeChangeFromLive(in.Live.Rules[i].Rule, ""))
			ch.removed = append(ch.removed, removedRule{index: i})
		}
		if st.cnameOurs {
			c := st.cname
			p.DNS = append(p.DNS, DNSChange{Action: DNSDelete, ZoneID: c.ZoneID, Zone: c.ZoneName, RecordID: c.ID, Name: host, Type: "CNAME", Content: c.Content, Proxied: c.Proxied, Comment: c.Comment})
		}
		if len(rules) > 0 || st.cnameOurs {
			deleted++
		}
	}
	if in.MaxDeletes >= 0 && deleted > in.MaxDeletes && in.Policy != PolicyUpsertOnly && in.Policy != PolicyCreateOnly {
		p.DeleteLimitExceeded = true
		p.Warnings = append(p.Warnings, Warning{Message: fmt.Sprintf("the plan deletes %d owned hostnames, more than --max-deletes allows (%d); apply writes nothing until you raise the limit or restore the missing services", deleted, in.MaxDeletes)})
	}
}

// removedHosts returns, sorted, the owned hostnames that neither desired
// nor held declares. It filters before sorting, because most hostnames of a
// large project are still declared.
func removedHosts(own *ownership, desired, held map[string][]ingress.Route) []string {
	var hosts []string
	for host, st := range own.hosts {
		if !st.owned {
			continue
		}
		if _, ok := desired[host]; ok {
			continue
		}
		if _, ok := held[host]; ok {
			continue
		}
		hosts = append(hosts, host)
	}
	slices.Sort(hosts)
	return hosts
}

func routeChangeFromLive(r ingress.Rule, service string) RouteChange {
	before := r
	return RouteChange{Hostname: strings.ToLower(r.Hostname), Path: r.Path, Service: service, Before: &before}
}

func anyDNS(routes []ingress.Route) bool {
	for _, r := range routes {
		if r.DNS {
			return true
		}
	}
	return false
}

// zoneFor returns the zone that holds host: the zone a label names, or the
// account's zone with the longest matching suffix.
func zoneFor(host string, routes []ingress.Route, live tunnel.State) (tunnel.Zone, error) {
	name := strings.TrimPrefix(host, "*.")
	for _, r := range routes {
		if r.Zone == "" {
			continue
		}
		for _, z := range live.Zones {
			if strings.EqualFold(z.Name, r.Zone) {
				return z, nil
			}
		}
		return tunnel.Zone{}, fmt.Errorf("%s: service %q: label %q = %q: zone not found in account %s; add the zone to the account or fix the label",
			r.Source.File, r.Service, r.Source.Key, r.Zone, live.AccountID)
	}
	var best tunnel.Zone
	for _, z := range live.Zones {
		zn := strings.ToLower(z.Name)
		if (name == zn || strings.HasSuffix(name, "."+zn)) && len(zn) > len(best.Name) {
			best = z
		}
	}
	if best.ID == "" {
		r := routes[0]
		return tunnel.Zone{}, fmt.Errorf("%s: service %q: hostname %s is in no zone of account %s; add its zone to the account, set portcullis.zone, or set portcullis.dns=false with exclusive",
			r.Source.File, r.Service, host, live.AccountID)
	}
	return best, nil
}

// coverConflict returns why route r may not be written above an unmanaged
// rule, or "" when it may. A partial overlap only adds a warning.
func coverConflict(p *Plan, in Input, own *ownership, r ingress.Route) string {
	want := r.Rule()
	for _, i := range own.unmanagedByHost.candidates(want.Hostname, own.unmanaged) {
		u := in.Live.Rules[i].Rule
		if u.Hostname != "" && u.Hostname != "*" && !strings.HasPrefix(u.Hostname, "*") && !strings.HasPrefix(want.Hostname, "*") && !strings.EqualFold(u.Hostname, want.Hostname) {
			continue
		}
		switch ingress.Covers(want, u) {
		case ingress.CoverFull:
			return fmt.Sprintf("it would take all the traffic of the unmanaged rule %s (rule #%d) below it", describeRule(u), i+1)
		case ingress.CoverPartial:
			p.Warnings = append(p.Warnings, Warning{Hostname: r.Hostname, Service: r.Service,
				Message: fmt.Sprintf("route takes part of the traffic of the unmanaged rule %s (rule #%d): requests to %s that match it no longer reach %s", describeRule(u), i+1, describeRule(want), u.Service)})
		}
	}
	return ""
}

func describeRule(r ingress.Rule) string {
	host := r.Hostname
	if host == "" {
		host = "*"
	}
	if r.Path != "" {
		return host + " path " + r.Path
	}
	return host
}
