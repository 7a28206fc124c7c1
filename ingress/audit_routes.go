package ingress

import (
	"fmt"
	"slices"
	"strings"
)

// reachedService returns the compose service that origin reaches by the
// gate's name resolution, with the kind of name that matched (one of the
// How constants). It is ServiceFor with the kind added.
func (g *Gate) reachedService(origin string) (service, how string, ok bool) {
	target := parseGateOrigin(origin)
	if target.kind != gateOriginHost {
		return "", "", false
	}
	for _, hit := range g.index.resolve(target) {
		if hit.how != HowSubnetAddress {
			return hit.service, hit.how, true
		}
	}
	return "", "", false
}

// checkRoutes runs the security gate on the declared routes and checks that
// every other route's origin is a compose service that cloudflared can
// reach.
func (a *auditor) checkRoutes() {
	violating := map[int]bool{}
	for i, r := range a.in.Routes {
		if _, ok := a.in.Gate.checkRoute(r); ok {
			violating[i] = true
		}
	}
	for _, v := range a.in.Gate.CheckRoutes(a.in.Routes) {
		a.add(violationFinding(v, KindGateViolation, SeverityError))
	}
	for _, v := range a.in.Gate.CheckRoutes(a.in.Held) {
		f := violationFinding(v, KindHeldGateViolation, SeverityWarning)
		f.Exposure = false
		f.Message = "held in an inactive profile: " + f.Message
		a.add(f)
	}

	for i, r := range a.in.Routes {
		if !violating[i] {
			a.checkRouteTarget(r)
		}
	}
}

// violationFinding turns a gate violation into a finding whose message
// leaves the location to the finding's own fields.
func violationFinding(v Violation, kind AuditKind, severity AuditSeverity) AuditFinding {
	located := v
	located.Source = Source{}
	return AuditFinding{
		Kind: kind, Severity: severity, Exposure: true,
		Service: v.Service, InternalService: v.InternalService,
		Hostname: v.Hostname, Path: v.Path, Origin: v.Origin,
		File: v.Source.File, Line: v.Source.Line, Key: v.Source.Key,
		Message: located.Error(),
		Fix:     "point the route at a service that is not internal-only, or remove the route labels; plan and apply refuse it",
	}
}

// checkRouteTarget reports a route whose origin matches no compose service,
// reaches a service of an inactive profile, or reaches a service that
// shares no network with cloudflared.
func (a *auditor) checkRouteTarget(r Route) {
	if parseGateOrigin(r.Origin).kind != gateOriginHost {
		return
	}
	source := r.Source
	if r.OriginSource.File != "" {
		source = r.OriginSource
	}
	f := AuditFinding{Service: r.Service, Hostname: r.Hostname, Path: r.Path, Origin: r.Origin,
		File: stringOrDefault(source.File, a.in.File), Line: source.Line, Key: source.Key}

	target, how, ok := a.in.Gate.reachedService(r.Origin)
	if !ok {
		f.Kind, f.Severity = KindUnknownOrigin, SeverityWarning
		if a.in.Strict {
			f.Severity = SeverityError
		}
		f.Message = fmt.Sprintf("origin %q matches no compose service by name, alias, container_name, static IP or published port", r.Origin)
		f.Fix = "point the origin at a compose service; if it is outside the project on purpose, this warning can stay"
		if a.in.Strict {
			f.Fix = "point the origin at a compose service; if it is outside the project on purpose, audit without --strict"
		}
		a.add(f)
		return
	}
	if _, active := a.in.Project.Services[target]; !active {
		f.Kind, f.Severity = KindInactiveOrigin, SeverityError
		f.Message = fmt.Sprintf("origin %q reaches service %q, which is in an inactive profile, so cloudflared answers 502", r.Origin, target)
		f.Fix = fmt.Sprintf("enable the profile of %q, or point the route at a running service", target)
		a.add(f)
		return
	}
	if how == HowGatewayPort || a.cloudflared == "" || target == a.cloudflared {
		return
	}
	a.checkSharedNetwork(f, target)
}

// checkSharedNetwork reports a route target that cloudflared cannot reach
// because the two share no network, so cloudflared returns 502.
func (a *auditor) checkSharedNetwork(f AuditFinding, target string) {
	tunnelNets, known := composeServiceNetworks(a.services, a.cloudflared)
	targetNets, targetKnown := composeServiceNetworks(a.services, target)
	if !known || !targetKnown {
		return
	}
	for _, n := range targetNets {
		if slices.Contains(tunnelNets, n) {
			return
		}
	}

	f.Kind, f.Severity = KindNoSharedNetwork, SeverityError
	f.Message = fmt.Sprintf("origin %q reaches service %q on %s, and cloudflared service %q is on %s, so cloudflared cannot connect and answers 502",
		f.Origin, target, describeServiceNetworks(targetNets), a.cloudflared, describeServiceNetworks(tunnelNets))
	f.Fix = fmt.Sprintf("attach %q and %q to a common network", target, a.cloudflared)
	a.add(f)
}

func describeServiceNetworks(networks []string) string {
	switch {
	case len(networks) == 0:
		return "no network"
	case len(networks) == 1 && networks[0] == hostNetworkMode:
		return "the host network"
	case len(networks) == 1:
		return "network " + networks[0]
	}
	return "networks " + strings.Join(networks, ", ")
}

// checkLive reports live rules that reach an internal-only service, and
// live rules that reach a service by a name that compose no longer defines.
func (a *auditor) checkLive() {
	if !a.in.LiveChecked {
		if a.in.LiveNote != "" {
			a.add(AuditFinding{Kind: KindLiveNotChecked, Severity: SeverityNote, Message: a.in.LiveNote,
				Fix: "configure the target (cloudflare.* settings and a token, or file.path) to check the live rules too"})
		}
		return
	}

	var revocations []Rule
	for i, rule := range a.in.Live {
		if rule.IsRevocation() {
			revocations = append(revocations, rule)
			continue
		}
		f := AuditFinding{Hostname: rule.Hostname, Path: rule.Path, Origin: rule.Service,
			Key: fmt.Sprintf("ingress[%d]", i)}
		if m, ok := a.in.Gate.checkRoute(Route{Origin: rule.Service, OriginRequest: rule.OriginRequest}); ok {
			a.add(a.liveViolation(f, m, revokedBy(revocations, rule.Hostname)))
			continue
		}
		if a.isUndefinedServiceName(rule.Service) {
			// A warning unless --strict: the name may belong to a service of
			// another compose project on the same docker network.
			f.Kind, f.Severity = KindLiveUndefinedService, SeverityWarning
			if a.in.Strict {
				f.Severity = SeverityError
			}
			f.Message = fmt.Sprintf("live rule %s sends traffic to %q, a name no service of this project has; unless another project on the same network defines it, cloudflared answers 502",
				describeLiveRule(rule), rule.Service)
			f.Fix = "remove the rule, or restore the service it named; portcullis apply removes it when portcullis owns the hostname"
			a.add(f)
		}
	}
}

// liveViolation builds the finding of a live rule that reaches an
// internal-only service. A rule beneath a revocation is neutralised: its
// traffic is cut, so it is a warning and no exposure.
func (a *auditor) liveViolation(f AuditFinding, m GateMatch, revoked bool) AuditFinding {
	f.InternalService = m.InternalService
	f.Kind, f.Severity, f.Exposure = KindLiveInternal, SeverityError, true
	f.Message = fmt.Sprintf("live rule %s sends traffic to %q, which reaches internal-only service %q through its %s %q",
		describeLiveRule(Rule{Hostname: f.Hostname, Path: f.Path}), f.Origin, m.InternalService, m.How, m.MatchedName)
	f.Fix = "run portcullis revoke HOST now to cut it, then remove the rule; portcullis apply revokes it when the compose project contains cloudflared"
	if revoked {
		f.Kind, f.Severity, f.Exposure = KindLiveRevokedViolations, SeverityWarning, false
		f.Message += ", but a revocation above it cuts its traffic"
		f.Fix = "remove the rule before portcullis restore exposes it again"
	}
	return f
}

// revokedBy reports whether a revocation rule covers hostname.
func revokedBy(revocations []Rule, hostname string) bool {
	for _, r := range revocations {
		if HostCovers(r.Hostname, hostname) {
			return true
		}
	}
	return false
}

func describeLiveRule(r Rule) string {
	host := r.Hostname
	if host == "" {
		host = "*"
	}
	if r.Path == "" {
		return fmt.Sprintf("for %q", host)
	}
	return fmt.Sprintf("for %q path %q", host, r.Path)
}

// isUndefinedServiceName reports whether origin names a host the way a
// compose service is named (one label, not an address or a name of the
// docker host) and no compose service has that name. A name with dots may
// be a host outside the project, so it is not reported.
func (a *auditor) isUndefinedServiceName(origin string) bool {
	target := parseGateOrigin(origin)
	if target.kind != gateOriginHost {
		return false
	}
	host := normaliseGateHost(target.host)
	if host.name == "" || strings.Contains(host.name, ".") || isGatewayName(host.name) || len(host.addrs) > 0 {
		return false
	}
	_, _, ok := a.in.Gate.reachedService(origin)
	return !ok
}
