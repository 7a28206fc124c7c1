package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/portcullis-dev/portcullis/config"
	"github.com/portcullis-dev/portcullis/ingress"
	portsync "github.com/portcullis-dev/portcullis/sync"
	"github.com/portcullis-dev/portcullis/tunnel"
)

type restoreOptions struct {
	g      *globalOptions
	hosts  []string
	all    bool
	reason string
	actor  string
	yes    bool
	force  bool
}

func newCmdRestore(g *globalOptions) *cobra.Command {
	opts := &restoreOptions{g: g}
	cmd := &cobra.Command{
		Use:   "restore (HOST... | --all)",
		Short: "Remove revocations, exposing the rules beneath them again",
		Long: `restore takes the revocation rules of each HOST (or every revocation rule with
--all) out of the tunnel configuration in one write. It prints the rules that
become reachable, asks on a terminal (--yes otherwise), and refuses while one
of them reaches a service labelled security=internal-only. That check needs
the compose files: when they do not load, restore says so and needs --force.

` + exitCodeHelp,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.hosts = args
			return g.finish(runRestore(cmd, opts))
		},
	}
	f := cmd.Flags()
	f.BoolVar(&opts.all, "all", false, "remove every revocation rule")
	f.StringVar(&opts.reason, "reason", "", "why, recorded in the audit log")
	f.StringVar(&opts.actor, "actor", "", "who, recorded in the audit log (default: PORTCULLIS_ACTOR, GITHUB_ACTOR, GITLAB_USER_LOGIN, then the OS user)")
	f.BoolVarP(&opts.yes, "yes", "y", false, "restore without asking (needed when no terminal can answer)")
	f.BoolVar(&opts.force, "force", false, "restore even when a rule beneath reaches an internal-only service, or when that check cannot run")
	return cmd
}

func runRestore(cmd *cobra.Command, opts *restoreOptions) (outcome, error) {
	if (len(opts.hosts) > 0) == opts.all {
		return outcome{}, errors.New("restore needs either HOST... or --all")
	}
	keys := []string{portsync.RevokeAll}
	if !opts.all {
		var err error
		if keys, err = normalizeHostArgs(opts.hosts); err != nil {
			return outcome{}, err
		}
	}
	g := opts.g
	ctx := cmd.Context()
	settings, err := loadSettings(g, cmd.Flags())
	if err != nil {
		return outcome{}, err
	}
	gate, gateErr := loadRestoreGate(ctx, settings)

	target, _, err := openRevocationTarget(g, settings, defaultRevokeDeadline)
	if err != nil {
		return outcome{}, err
	}
	run := newRevocationRun(g, target, defaultRevokeDeadline, defaultCheckInterval)
	run.beforeWrite = (&session{g: g, settings: settings, file: fileOf(target)}).backup
	remove := func(rules []tunnel.LiveRule) portsync.RevocationChange {
		return portsync.RemoveRevocations(rules, keys, opts.all)
	}
	live, err := run.readState(ctx, "read the tunnel configuration")
	if err != nil {
		return outcome{}, err
	}
	change := remove(live.Rules)
	for _, k := range change.Unchanged {
		if k == portsync.RevokeAll && len(change.Removed) > 0 {
			// restore --all found no all-hostnames revocation but restores
			// the revocations of single hostnames, so saying "not revoked"
			// here would contradict the lines that follow.
			continue
		}
		fmt.Fprintf(g.streams.Out, "%s is not revoked; nothing to restore.\n", describeKey(k))
	}
	if !change.Changed() {
		var o outcome
		appendAudit(g, settings.Audit.LogDir, portsync.AuditEntry{
			Actor: portsync.ResolveActor(opts.actor, g.environ, currentUser), Action: portsync.AuditRestore,
			Hostnames: auditHostnames(change.Unchanged), Reason: opts.reason, Target: target.name(),
			Tunnel: target.where(), VersionBefore: stateVersion(live), Result: portsync.AuditUnchanged,
		}, &o)
		return o, nil
	}

	exposed := portsync.ExposedRules(live.Rules, change.Rules)
	printExposed(g, change, exposed)
	if err := checkExposed(g, exposed, gate, gateErr, opts.force); err != nil {
		return outcome{}, err
	}
	if !opts.yes && !g.streams.CanPrompt() {
		return outcome{}, errors.New("restore needs --yes when no terminal can confirm; nothing was written")
	}
	if !opts.yes && !g.streams.Confirm("Restore these routes?") {
		fmt.Fprintln(g.streams.ErrOut, "Restore cancelled; nothing was written.")
		return outcome{}, nil
	}

	start := &live
	if !opts.yes {
		start = nil
	}
	return finishRestore(ctx, opts, settings, run, change.Removed, start, remove)
}

// finishRestore writes the document without the revocations, confirms it,
// reloads the file target and appends the audit log.
func finishRestore(ctx context.Context, opts *restoreOptions, settings *config.Settings, run *revocationRun, removed []string, start *tunnel.State, remove func([]tunnel.LiveRule) portsync.RevocationChange) (outcome, error) {
	g := opts.g
	entry := portsync.AuditEntry{
		Actor: portsync.ResolveActor(opts.actor, g.environ, currentUser), Action: portsync.AuditRestore,
		Hostnames: auditHostnames(removed), Reason: opts.reason, Target: run.target.name(),
	}
	var o outcome
	st, wrote, err := run.converge(ctx, start, remove)
	entry.Tunnel, entry.VersionBefore = run.target.where(), stateVersion(run.before)
	if err != nil {
		entry.Result, entry.Detail = portsync.AuditFailed, err.Error()
		fmt.Fprintf(g.streams.Out, "Restore NOT confirmed: %v\n", err)
		o.notInForce = true
		appendAudit(g, settings.Audit.LogDir, entry, &o)
		return o, nil
	}
	entry.VersionAfter = stateVersion(st)

	problems := activateWrite(ctx, run, wrote)
	if len(problems) > 0 {
		entry.Result, entry.Detail = portsync.AuditNotInForce, strings.Join(problems, "; ")
		o.notInForce = true
		fmt.Fprintf(g.streams.Out, "Restore written but NOT in force: %s\n", strings.Join(problems, "; "))
	} else {
		entry.Result = portsync.AuditInForce
		fmt.Fprintf(g.streams.Out, "Restored %s (%s).\n", describeKeys(removed), describeVersion(st))
	}
	appendAudit(g, settings.Audit.LogDir, entry, &o)
	return o, nil
}

// loadRestoreGate loads the compose project's security gate. Its error is
// the reason the internal-only check cannot run.
func loadRestoreGate(ctx context.Context, settings *config.Settings) (*ingress.Gate, error) {
	project, err := config.LoadProject(ctx, settings)
	if err != nil {
		return nil, err
	}
	return ingress.NewGate(project.Project, ingress.GateOptions{})
}

// printExposed lists the revocations taken out and the rules that become
// reachable.
func printExposed(g *globalOptions, change portsync.RevocationChange, exposed []tunnel.LiveRule) {
	w := g.streams.Out
	fmt.Fprintf(w, "Restoring %s.\n", describeKeys(change.Removed))
	if len(exposed) == 0 {
		fmt.Fprintln(w, "No live rule becomes reachable: no rule sits beneath these revocations, or another revocation still cuts it.")
		return
	}
	fmt.Fprintf(w, "These rules become reachable again (%d):\n", len(exposed))
	for _, r := range exposed {
		host := r.Hostname
		if host == "" {
			host = "* (catch-all)"
		}
		path := ""
		if r.Path != "" {
			path = " path " + r.Path
		}
		fmt.Fprintf(w, "  + %s%s → %s\n", host, path, r.Service)
	}
}

// checkExposed rejects a restore that would expose an internal-only
// service, or that cannot be checked, unless force is set.
func checkExposed(g *globalOptions, exposed []tunnel.LiveRule, gate *ingress.Gate, gateErr error, force bool) error {
	found, err := internalOnlyReaches(g, exposed, gate, gateErr, force, "restoring")
	if err != nil || len(found) == 0 {
		return err
	}
	return fmt.Errorf("%w: restore would expose %s; fix or remove that rule, or pass --force; nothing was written", errViolation, strings.Join(found, "; "))
}

// internalOnlyReaches lists the rules (revocations skipped) whose origin
// reaches an internal-only service. When the gate could not be built
// (gateErr), the check cannot run: that is an error unless force is set,
// which only warns. With force, found rules are only warned about too, and
// the list comes back empty. action names the write in the warnings.
func internalOnlyReaches(g *globalOptions, rules []tunnel.LiveRule, gate *ingress.Gate, gateErr error, force bool, action string) ([]string, error) {
	if gateErr != nil {
		if !force {
			return nil, fmt.Errorf("the internal-only check could not run because the compose files did not load: %w; fix them, or pass --force to write without the check", gateErr)
		}
		fmt.Fprintf(g.streams.ErrOut, "warning: the internal-only check did not run (compose files did not load: %v); %s because of --force\n", gateErr, action)
		return nil, nil
	}

	var found []string
	for _, r := range rules {
		if r.IsRevocation() {
			continue
		}
		if m, ok := gate.CheckOrigin(r.Service); ok {
			found = append(found, fmt.Sprintf("%s reaches internal-only service %q through %q", describeRuleLine(r), m.InternalService, m.MatchedName))
		}
	}
	if len(found) > 0 && force {
		fmt.Fprintf(g.streams.ErrOut, "warning: %s because of --force although %s\n", action, strings.Join(found, "; "))
		return nil, nil
	}
	return found, nil
}
