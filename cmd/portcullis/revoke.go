package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/portcullis-dev/portcullis/config"
	"github.com/portcullis-dev/portcullis/ingress"
	portsync "github.com/portcullis-dev/portcullis/sync"
	"github.com/portcullis-dev/portcullis/tunnel"
)

// Defaults of revoke's timing flags.
const (
	defaultRevokeWatch    = 10 * time.Second
	defaultRevokeDeadline = 30 * time.Second
	defaultCheckInterval  = time.Second
	minCheckInterval      = 10 * time.Millisecond
)

type revokeOptions struct {
	g        *globalOptions
	hosts    []string
	service  string
	all      bool
	reason   string
	actor    string
	yes      bool
	watch    time.Duration
	deadline time.Duration
	interval time.Duration
}

func newCmdRevoke(g *globalOptions) *cobra.Command {
	opts := &revokeOptions{g: g}
	cmd := &cobra.Command{
		Use:   "revoke (HOST... | --service NAME | --all)",
		Short: "Cut public routes now, with one configuration write, until restore",
		Long: `revoke puts a revocation rule (path ^(?:/portcullis-revoked)?, service
http_status:503) for each HOST at the top of the tunnel configuration, in one
write: that write cuts the traffic. Every other rule stays as it is, so
restore exposes exactly what is beneath. plan and apply keep revocations until
portcullis restore.

revoke HOST and revoke --all need no compose files. --all writes one
revocation without a hostname, which cuts every hostname, present and
future, and the catch-all's traffic. --service NAME loads the compose files
and cuts the live hostnames whose rules reach that service.

After the write revoke reads the configuration back, re-checks it every
second for --watch and writes again when another writer removed the
revocation. On the API target it then checks that each hostname's DNS points
at this tunnel. Within --deadline it either confirms the revocation or
reports it NOT in force, with the dashboard as the fallback.

` + exitCodeHelp,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.hosts = args
			return g.finish(runRevoke(cmd, opts))
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.service, "service", "", "cut the live hostnames whose rules reach this compose service (needs the compose files)")
	f.BoolVar(&opts.all, "all", false, "cut every hostname, present and future, and the catch-all's traffic")
	f.StringVar(&opts.reason, "reason", "", "why, recorded in the audit log and shown by plan, apply and status")
	f.StringVar(&opts.actor, "actor", "", "who, recorded in the audit log (default: PORTCULLIS_ACTOR, GITHUB_ACTOR, GITLAB_USER_LOGIN, then the OS user)")
	f.BoolVarP(&opts.yes, "yes", "y", false, "revoke without asking (needed when no terminal can answer)")
	f.DurationVar(&opts.watch, "watch", defaultRevokeWatch, "after the cut, re-check for this long and write again if the revocation was removed; 0 disables")
	f.DurationVar(&opts.deadline, "deadline", defaultRevokeDeadline, "give up and report the revocation NOT in force after this long")
	f.DurationVar(&opts.interval, "check-interval", defaultCheckInterval, "time between re-checks during --watch")
	_ = f.MarkHidden("check-interval")
	return cmd
}

// checkArgs checks the flags and returns the revocation keys of HOST
// arguments (none for --service).
func (o *revokeOptions) checkArgs() ([]string, error) {
	forms := 0
	for _, set := range []bool{len(o.hosts) > 0, o.service != "", o.all} {
		if set {
			forms++
		}
	}
	if forms != 1 {
		return nil, errors.New("revoke needs exactly one of HOST..., --service NAME or --all")
	}
	if o.deadline <= 0 {
		return nil, fmt.Errorf("invalid --deadline %s: use a positive duration such as 30s", o.deadline)
	}
	if o.watch < 0 {
		return nil, fmt.Errorf("invalid --watch %s: use 0 to disable it or a positive duration", o.watch)
	}
	if o.interval < minCheckInterval {
		return nil, fmt.Errorf("invalid --check-interval %s: use at least %s", o.interval, minCheckInterval)
	}
	if o.all {
		return []string{portsync.RevokeAll}, nil
	}
	return normalizeHostArgs(o.hosts)
}

// normalizeHostArgs returns the revocation keys of HOST arguments.
func normalizeHostArgs(hosts []string) ([]string, error) {
	keys := make([]string, 0, len(hosts))
	for _, h := range hosts {
		n, err := ingress.NormalizeHostname(h)
		if err != nil {
			return nil, fmt.Errorf("hostname %q: %w", h, err)
		}
		keys = append(keys, n)
	}
	return keys, nil
}

func runRevoke(cmd *cobra.Command, opts *revokeOptions) (outcome, error) {
	keys, err := opts.checkArgs()
	if err != nil {
		return outcome{}, err
	}
	g := opts.g
	settings, err := loadSettings(g, cmd.Flags())
	if err != nil {
		return outcome{}, err
	}
	var gate *ingress.Gate
	if opts.service != "" {
		if gate, err = loadServiceGate(cmd.Context(), settings, opts.service); err != nil {
			return outcome{}, err
		}
	}
	if !opts.yes && !g.streams.CanPrompt() {
		return outcome{}, errors.New("revoke needs --yes when no terminal can confirm; nothing was written")
	}

	ctx, cancel := context.WithTimeout(cmd.Context(), opts.deadline)
	defer cancel()
	target, api, err := openRevocationTarget(g, settings, opts.deadline)
	if err != nil {
		return outcome{}, err
	}
	run := newRevocationRun(g, target, opts.deadline, opts.interval)
	run.beforeWrite = (&session{g: g, settings: settings, file: fileOf(target)}).backup

	var start *tunnel.State
	if opts.service != "" {
		st, err := run.readState(ctx, "read the tunnel configuration")
		if err != nil {
			return reportNotInForce(g, target, nil, err)
		}
		if keys, err = serviceKeys(g, st, gate, opts.service); err != nil {
			return outcome{}, err
		}
		start = &st
	}
	if !opts.yes {
		if !g.streams.Confirm(fmt.Sprintf("Revoke %s now?", describeKeys(keys))) {
			fmt.Fprintln(g.streams.ErrOut, "Revoke cancelled; nothing was written.")
			return outcome{}, nil
		}
		start = nil
	}

	fmt.Fprintf(g.streams.Out, "Revoking %s on %s (%s target).\n", describeKeys(keys), target.where(), target.name())
	return runCut(ctx, opts, settings, run, api, keys, start)
}

// fileOf returns the config file of a file target, or nil.
func fileOf(t revocationTarget) *tunnel.File {
	if f, ok := t.(*fileRevocationTarget); ok {
		return f.file
	}
	return nil
}

// runCut makes the cut, watches it, checks DNS and appends the audit log.
func runCut(ctx context.Context, opts *revokeOptions, settings *config.Settings, run *revocationRun, api *tunnel.API, keys []string, start *tunnel.State) (outcome, error) {
	g := opts.g
	entry := portsync.AuditEntry{
		Actor: portsync.ResolveActor(opts.actor, g.environ, currentUser), Action: portsync.AuditRevoke,
		Hostnames: auditHostnames(keys), Reason: opts.reason, Target: run.target.name(),
	}
	add := func(rules []tunnel.LiveRule) portsync.RevocationChange { return portsync.AddRevocations(rules, keys) }

	st, wrote, err := run.converge(ctx, start, add)
	entry.Tunnel, entry.VersionBefore = run.target.where(), stateVersion(run.before)
	if err != nil {
		if run.writes > 0 {
			entry.VersionAfter = "unknown"
		}
		entry.Result, entry.Detail = portsync.AuditFailed, err.Error()
		o, rerr := reportNotInForce(g, run.target, keys, err)
		appendAudit(g, settings.Audit.LogDir, entry, &o)
		return o, rerr
	}
	printCutTargets(g, run.before, keys, wrote)

	var o outcome
	problems := activateWrite(ctx, run, wrote)
	if len(problems) == 0 {
		fmt.Fprintf(g.streams.Out, "Confirmed: the configuration read back (%s) has the revocation at the top.\n", describeVersion(st))
	}
	if opts.watch > 0 && len(problems) == 0 {
		fmt.Fprintf(g.streams.Out, "Watching for %s, re-checking every %s.\n", opts.watch, opts.interval)
		problems = append(problems, watchRevocation(ctx, opts, run, add)...)
	}
	entry.VersionAfter = stateVersion(run.after)
	if !wrote && run.writes == 0 {
		entry.VersionAfter = ""
	}
	if api != nil && !containsKey(keys, portsync.RevokeAll) {
		problems = append(problems, checkRevokedDNS(ctx, g, api, run.target.where(), keys)...)
	}

	switch {
	case len(problems) > 0:
		entry.Result, entry.Detail = portsync.AuditNotInForce, strings.Join(problems, "; ")
		o.notInForce = true
		fmt.Fprintf(g.streams.Out, "Revocation NOT fully in force for %s:\n", describeKeys(keys))
		for _, p := range problems {
			fmt.Fprintf(g.streams.Out, "  - %s\n", p)
		}
	case wrote || run.writes > 0:
		entry.Result = portsync.AuditInForce
		fmt.Fprintf(g.streams.Out, "Revocation IN FORCE for %s (%s).\n", describeKeys(keys), describeVersion(st))
	default:
		entry.Result = portsync.AuditUnchanged
		fmt.Fprintf(g.streams.Out, "Already revoked: %s; nothing was written.\n", describeKeys(keys))
	}
	appendAudit(g, settings.Audit.LogDir, entry, &o)
	return o, nil
}

// activateWrite runs the file target's reload command after a write and
// returns the problem when the revocation is not in force because of it.
//
// On the file target the reload runs even when nothing was written: the
// file may hold the revocation from an earlier run whose reload failed, and
// only a successful reload shows cloudflared runs it.
func activateWrite(ctx context.Context, run *revocationRun, wrote bool) []string {
	if !wrote && run.target.name() != config.TargetFile {
		return nil
	}
	err := run.target.activate(ctx)
	switch {
	case errors.Is(err, errNoReload):
		return []string{err.Error() + "; set file.reload_command (for example docker compose restart cloudflared) or restart cloudflared now"}
	case err != nil:
		return []string{fmt.Sprintf("the reload command failed, so cloudflared still runs the old configuration: %v", err)}
	case run.target.name() == config.TargetFile:
		fmt.Fprintln(run.g.streams.Out, "Reloaded: the reload command succeeded.")
	}
	return nil
}

// watchRevocation re-checks the configuration every interval for --watch
// and writes the revocation again when another writer removed it. The
// number of checks is watch/interval, so it does not depend on how long
// each call takes.
func watchRevocation(ctx context.Context, opts *revokeOptions, run *revocationRun, add func([]tunnel.LiveRule) portsync.RevocationChange) []string {
	g := opts.g
	checks := int((opts.watch + opts.interval - 1) / opts.interval)
	repairs := 0
	for i := 0; i < checks; i++ {
		if err := run.sleep(ctx, opts.interval); err != nil {
			fmt.Fprintf(g.streams.ErrOut, "warning: watch stopped after %d of %d checks at the deadline; the last check found the revocation in place\n", i, checks)
			return nil
		}
		st, err := run.readState(ctx, "re-check the tunnel configuration")
		if err != nil {
			return []string{fmt.Sprintf("the watch could not re-check the configuration: %v", err)}
		}
		if !add(st.Rules).Changed() {
			continue
		}
		fmt.Fprintf(g.streams.Out, "Watch: another writer removed or moved the revocation (%s); writing it again.\n", describeVersion(st))
		repairs++
		_, wrote, err := run.converge(ctx, &st, add)
		if err != nil {
			return []string{fmt.Sprintf("the revocation was removed by another writer and could not be written again: %v", err)}
		}
		if problems := activateWrite(ctx, run, wrote); len(problems) > 0 {
			return problems
		}
	}
	if repairs == 0 {
		fmt.Fprintf(g.streams.Out, "Watch: re-checked %d times over %s; the revocation stayed in place.\n", checks, opts.watch)
	} else {
		fmt.Fprintf(g.streams.Out, "Watch: re-checked %d times over %s; wrote the revocation again %d time(s).\n", checks, opts.watch, repairs)
	}
	return nil
}

// reportNotInForce prints the NOT in force report with the fallback, and
// returns the exit-4 outcome.
func reportNotInForce(g *globalOptions, target revocationTarget, keys []string, err error) (outcome, error) {
	w := g.streams.Out
	fmt.Fprintf(w, "Revocation NOT in force for %s: %v\n", describeKeys(keys), err)
	var nie *notInForceError
	if errors.As(err, &nie) && nie.wait > 0 {
		fmt.Fprintf(w, "The Cloudflare API asked to wait %s before the next request.\n", nie.wait)
	}
	if target.name() == config.TargetAPI {
		fmt.Fprintf(w, "Fallback: cut the route by hand in the dashboard, %s → Zero Trust → Networks → Tunnels → tunnel %s → Public Hostname: delete or disable the route of each hostname above.\n", dashboardURL, target.where())
	} else {
		fmt.Fprintf(w, "Fallback: stop cloudflared (for example docker compose stop cloudflared), or remove the hostname's rules from %s by hand and restart cloudflared.\n", target.where())
	}
	return outcome{notInForce: true}, nil
}

// printCutTargets lists, for each wildcard and for --all, the exact live
// hostnames the revocation also cuts.
func printCutTargets(g *globalOptions, live tunnel.State, keys []string, wrote bool) {
	for _, k := range keys {
		if k != portsync.RevokeAll && !strings.HasPrefix(k, "*.") {
			continue
		}
		cut := portsync.CutHostnames(live.Rules, k)
		if len(cut) == 0 {
			fmt.Fprintf(g.streams.Out, "%s cuts no other live hostname.\n", describeKey(k))
			continue
		}
		fmt.Fprintf(g.streams.Out, "%s also cuts %d live hostname(s): %s.\n", describeKey(k), len(cut), strings.Join(cut, ", "))
	}
	if !wrote {
		return
	}
	for _, k := range keys {
		if k == portsync.RevokeAll || strings.HasPrefix(k, "*.") {
			continue
		}
		if len(hostRules(live, k)) == 0 {
			fmt.Fprintf(g.streams.Out, "%s has no live rule of its own; the revocation cuts what the catch-all or a wildcard would send it.\n", k)
		}
	}
}

func hostRules(live tunnel.State, host string) []tunnel.LiveRule {
	var out []tunnel.LiveRule
	for _, r := range live.Rules {
		if !r.IsRevocation() && strings.EqualFold(r.Hostname, host) {
			out = append(out, r)
		}
	}
	return out
}

func describeKey(k string) string {
	if k == portsync.RevokeAll {
		return "every hostname (--all)"
	}
	return k
}

func describeKeys(keys []string) string {
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = describeKey(k)
	}
	if len(names) == 0 {
		return "no hostname"
	}
	return strings.Join(names, ", ")
}

func auditHostnames(keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k
		if k == portsync.RevokeAll {
			out[i] = portsync.AuditAllHostnames
		}
	}
	return out
}

func containsKey(keys []string, key string) bool {
	for _, k := range keys {
		if k == key {
			return true
		}
	}
	return false
}

// loadServiceGate loads the compose project for revoke --service and
// checks that the service exists.
func loadServiceGate(ctx context.Context, settings *config.Settings, service string) (*ingress.Gate, error) {
	project, err := config.LoadProject(ctx, settings)
	if err != nil {
		return nil, fmt.Errorf("revoke --service needs the compose files, which did not load (revoke HOST and revoke --all do not): %w", err)
	}
	gate, err := ingress.NewGate(project.Project, ingress.GateOptions{})
	if err != nil {
		return nil, fmt.Errorf("revoke --service: %w", err)
	}
	known := project.ServiceNames()
	for _, name := range known {
		if strings.EqualFold(name, service) {
			return gate, nil
		}
	}
	for _, name := range project.DisabledServiceNames() {
		if strings.EqualFold(name, service) {
			return gate, nil
		}
	}
	return nil, fmt.Errorf("revoke --service %q: no such service in the compose project; services: %s", service, strings.Join(known, ", "))
}

// serviceKeys returns the live hostnames whose rules reach service and
// prints the other services that share them.
func serviceKeys(g *globalOptions, live tunnel.State, gate *ingress.Gate, service string) ([]string, error) {
	hosts, shared, unnamed := portsync.ServiceHostnames(live.Rules, service, gate.ServiceFor)
	for _, r := range unnamed {
		fmt.Fprintf(g.streams.ErrOut, "warning: a rule without a hostname (path %q, origin %s) also reaches %s; only revoke --all cuts it\n", r.Path, r.Service, service)
	}
	if len(hosts) == 0 {
		return nil, fmt.Errorf("revoke --service %q: no live rule with a hostname reaches that service; nothing was written", service)
	}
	fmt.Fprintf(g.streams.Out, "Service %s is reached through %s.\n", service, strings.Join(hosts, ", "))
	for _, s := range shared {
		who := s.Service
		if who == "" {
			who = "an origin outside the compose project"
		} else {
			who = "service " + who
		}
		path := ""
		if s.Path != "" {
			path = " path " + s.Path
		}
		fmt.Fprintf(g.streams.Out, "  also cut: %s%s → %s (%s)\n", s.Hostname, path, s.Origin, who)
	}
	return hosts, nil
}
