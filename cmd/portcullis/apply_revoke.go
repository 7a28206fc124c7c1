package main

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/portcullis-dev/portcullis/ingress"
	portsync "github.com/portcullis-dev/portcullis/sync"
	"github.com/portcullis-dev/portcullis/tunnel"
)

// liveViolationsOnly reports whether every blocking violation of p is a
// live rule, so the labels themselves are fine and a revocation can cut
// the exposure.
func liveViolationsOnly(p *portsync.Plan) bool {
	found := false
	for _, v := range p.Violations {
		switch {
		case !v.Live:
			return false
		case !v.Neutralised:
			found = true
		}
	}
	return found
}

// liveViolationKeys returns the revocation keys of the live rules that
// expose an internal-only service, in plan order, and why each is cut.
func liveViolationKeys(p *portsync.Plan) ([]string, map[string]string) {
	var keys []string
	reasons := map[string]string{}
	for _, v := range p.Violations {
		if !v.Live || v.Neutralised {
			continue
		}
		k := portsync.RevocationKey(v.Hostname)
		if _, seen := reasons[k]; seen {
			continue
		}
		keys = append(keys, k)
		reasons[k] = fmt.Sprintf("apply: live rule %s reaches internal-only service %q through %q", v.Origin, v.InternalService, v.MatchedName)
	}
	return keys, reasons
}

// revokeLiveViolations handles a plan whose only violations are live
// rules. When the compose project runs cloudflared, the gate's names are
// the ones the connector resolves, so it writes one configuration change
// that contains only the revocations of those hostnames. Otherwise it only
// reports them. The outcome is a violation (exit 3) either way.
func revokeLiveViolations(ctx context.Context, opts *applyOptions, s *session, p *portsync.Plan) (outcome, error) {
	g := opts.g
	o := outcome{violation: true}
	keys, reasons := liveViolationKeys(p)

	services, err := ingress.FindCloudflaredService(s.project.Project, s.settings.Audit.CloudflaredService)
	if err != nil {
		return o, err
	}
	if len(services) == 0 {
		fmt.Fprintf(g.streams.ErrOut, "Live rules of %s expose an internal-only service. The compose project has no cloudflared service (image cloudflare/cloudflared, or audit.cloudflared_service), so its names may not be the ones the connector resolves: nothing was written. Cut them with portcullis revoke HOST.\n", describeKeys(keys))
		return o, nil
	}
	if !opts.yes {
		if !g.streams.CanPrompt() {
			fmt.Fprintf(g.streams.ErrOut, "Live rules of %s expose an internal-only service; apply --yes revokes them. Nothing was written.\n", describeKeys(keys))
			return o, nil
		}
		if !g.streams.Confirm(fmt.Sprintf("Revoke %s, whose live rules expose an internal-only service?", describeKeys(keys))) {
			fmt.Fprintln(g.streams.ErrOut, "Revocation cancelled; nothing was written.")
			return o, nil
		}
	}

	fresh, err := s.target.ReadRules(ctx)
	if err != nil {
		return o, fmt.Errorf("re-read before revoking: %w", err)
	}
	change := portsync.AddRevocations(fresh.Rules, keys)
	entry := portsync.AuditEntry{
		Actor: portsync.ResolveActor(opts.actor, g.environ, currentUser), Action: portsync.AuditRevoke,
		Hostnames: auditHostnames(change.Added), Target: s.settings.Target, Tunnel: p.TunnelID,
		VersionBefore: stateVersion(fresh), Result: portsync.AuditInForce,
	}
	if !change.Changed() {
		return o, nil
	}
	reasonList := make([]string, 0, len(change.Added))
	for _, k := range change.Added {
		reasonList = append(reasonList, reasons[k])
	}
	entry.Reason = strings.Join(reasonList, "; ")

	if err := s.backup(ctx, fresh); err != nil {
		return o, fmt.Errorf("save the previous configuration: %w", err)
	}
	after, err := s.target.WriteRules(ctx, fresh, change.Rules)
	if err != nil {
		entry.Result, entry.Detail = portsync.AuditFailed, err.Error()
		appendAudit(g, s.settings.Audit.LogDir, entry, &o)
		return o, fmt.Errorf("%w: revoking the exposed hostnames failed: %w", errViolation, err)
	}
	after.Target = fresh.Target
	entry.VersionAfter = stateVersion(after)
	if s.file != nil {
		if problems := activateWrite(ctx, &revocationRun{g: g, target: &fileRevocationTarget{file: s.file}}, true); len(problems) > 0 {
			entry.Result, entry.Detail = portsync.AuditNotInForce, strings.Join(problems, "; ")
			fmt.Fprintf(g.streams.ErrOut, "warning: %s\n", strings.Join(problems, "; "))
		}
	}
	for _, k := range change.Added {
		fmt.Fprintf(g.streams.Out, "! revoked %s: %s\n", describeKey(k), strings.TrimPrefix(reasons[k], "apply: "))
	}
	fmt.Fprintf(g.streams.Out, "Only these revocations were written (%s); no other change. Fix the rules, then portcullis restore.\n", describeVersion(after))
	appendAudit(g, s.settings.Audit.LogDir, entry, &o)
	return o, nil
}

// applyAuditEntry records one apply that wrote, or tried to write.
func applyAuditEntry(opts *applyOptions, s *session, live tunnel.State, p *portsync.Plan, res *portsync.Result, err error) portsync.AuditEntry {
	e := portsync.AuditEntry{
		Time:   time.Now().UTC().Format(time.RFC3339),
		Actor:  portsync.ResolveActor(opts.actor, opts.g.environ, currentUser),
		Action: portsync.AuditApply, Hostnames: planHostnames(p),
		Target: live.Target, Tunnel: live.TunnelID, VersionBefore: stateVersion(live),
		Result: portsync.AuditInForce,
	}
	if live.Target == "file" {
		e.Tunnel = s.settings.File.Path
	}
	switch {
	case err != nil:
		e.Result, e.Detail = portsync.AuditFailed, err.Error()
	case res == nil:
	case !res.Written:
		e.Result = portsync.AuditUnchanged
	case len(res.Problems) > 0:
		e.Result, e.Detail = portsync.AuditNotInForce, strings.Join(res.Problems, "; ")
	}
	if res != nil && res.Written {
		e.VersionAfter = strconv.FormatInt(res.Version, 10)
		if live.Target == "file" {
			e.VersionAfter = res.Checksum
		}
	}
	return e
}

// planHostnames returns the sorted hostnames a plan changes.
func planHostnames(p *portsync.Plan) []string {
	seen := map[string]bool{}
	var out []string
	add := func(h string) {
		if !seen[h] {
			seen[h] = true
			out = append(out, h)
		}
	}
	for _, set := range [][]portsync.RouteChange{p.Creates, p.Updates, p.Deletes, p.Drift} {
		for _, c := range set {
			add(c.Hostname)
		}
	}
	for _, d := range p.DNS {
		add(strings.TrimSuffix(strings.ToLower(d.Name), "."))
	}
	sort.Strings(out)
	return out
}
