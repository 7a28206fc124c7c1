package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/portcullis-dev/portcullis/config"
	portsync "github.com/portcullis-dev/portcullis/sync"
	"github.com/portcullis-dev/portcullis/tunnel"
)

// runApplySaved applies a plan saved by `plan --save`. It needs the
// settings and the target but no compose files. It rejects the plan (exit
// 4, nothing written) when a hostname the plan changes, the revocation
// rules, the tunnel, account, owner, policy or exclusive setting changed
// since it was saved. Otherwise it applies exactly the saved changes on top
// of the current configuration.
func runApplySaved(cmd *cobra.Command, opts *applyOptions, path string) (outcome, error) {
	ctx := cmd.Context()
	g := opts.g
	saved, err := readSavedPlan(path)
	if err != nil {
		return outcome{}, err
	}
	if len(opts.adopt) > 0 {
		return outcome{}, fmt.Errorf("--adopt cannot be used with a saved plan, which records its own adopt list %q; pass --adopt to plan --save instead", saved.Saved.Adopt)
	}
	o := planOutcome(saved)
	o.pending = false
	if o.violation {
		return o, fmt.Errorf("%w: the saved plan %s has routes or live rules that reach internal-only services; nothing was written", errViolation, path)
	}
	if saved.DeleteLimitExceeded {
		return o, fmt.Errorf("the saved plan %s deletes more owned hostnames than --max-deletes allowed when it was saved; nothing was written", path)
	}

	settings, err := loadSettings(g, cmd.Flags())
	if err != nil {
		return o, err
	}
	s := &session{g: g, settings: settings}
	if err := s.openTarget(ctx); err != nil {
		return o, err
	}
	live, err := s.readLive(ctx)
	if err != nil {
		return o, err
	}
	current, err := currentSavedSettings(settings)
	if err != nil {
		return o, err
	}
	if err := portsync.CheckSavedPlan(saved.Saved, live, current); err != nil {
		return staleSavedPlan(g, err)
	}
	p, err := portsync.RebaseSavedPlan(saved, live)
	if err != nil {
		return o, err
	}

	if err := renderPlan(g, p); err != nil {
		return o, err
	}
	if !p.HasChanges() {
		fmt.Fprintln(g.streams.Out, "The saved plan has no changes; nothing was written.")
		return o, nil
	}
	if !opts.yes {
		if !g.streams.CanPrompt() {
			return o, errors.New("apply needs --yes when no terminal can confirm; nothing was written")
		}
		if !g.streams.Confirm("Apply this saved plan?") {
			fmt.Fprintln(g.streams.ErrOut, "Apply cancelled; nothing was written.")
			return o, nil
		}
	}

	return applyRebasedPlan(cmd, opts, s, saved, p, live, current, o)
}

// applyRebasedPlan writes the rebased plan. When the configuration moves
// between the read and the write, the saved plan is checked and rebased
// again on the re-read state.
func applyRebasedPlan(cmd *cobra.Command, opts *applyOptions, s *session, saved, p *portsync.Plan, live tunnel.State, current portsync.SavedSettings, o outcome) (outcome, error) {
	ctx := cmd.Context()
	g := opts.g
	applier := &portsync.Applier{
		Target:    s.target,
		DNS:       s.dns,
		Logger:    g.logger(),
		BatchSize: s.settings.Cloudflare.BatchSize,
		Replan: func(fresh tunnel.State) (*portsync.Plan, error) {
			if err := portsync.CheckSavedPlan(saved.Saved, fresh, current); err != nil {
				return nil, err
			}
			return portsync.RebaseSavedPlan(saved, fresh)
		},
		BeforeWrite: s.backup,
	}
	res, err := applier.Apply(ctx, p, live)
	if err != nil {
		appendAudit(g, s.settings.Audit.LogDir, applyAuditEntry(opts, s, live, p, res, err), &o)
	}
	if errors.Is(err, portsync.ErrStalePlan) {
		return staleSavedPlan(g, err)
	}
	if errors.Is(err, portsync.ErrPlanChanged) {
		fmt.Fprintf(g.streams.ErrOut, "error: %v\n", err)
		o.notInForce = true
		return o, nil
	}
	if err != nil {
		return o, err
	}

	reloadAfterWrite(ctx, s, res)
	printResult(g, res)
	if len(res.Problems) > 0 || len(res.Plan.Conflicts) > 0 {
		o.notInForce = true
	}
	if res.Written || res.DNSCreated+res.DNSUpdated+res.DNSDeleted > 0 {
		appendAudit(g, s.settings.Audit.LogDir, applyAuditEntry(opts, s, live, res.Plan, res, nil), &o)
	}
	return o, nil
}

// staleSavedPlan reports a rejected saved plan: nothing was written, and
// the desired state is not in force (exit 4).
func staleSavedPlan(g *globalOptions, err error) (outcome, error) {
	fmt.Fprintf(g.streams.ErrOut, "error: %v\n", err)
	return outcome{notInForce: true}, nil
}

// readSavedPlan reads a plan written by plan --save.
func readSavedPlan(path string) (*portsync.Plan, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read saved plan: %w", err)
	}
	p, err := portsync.UnmarshalPlan(data)
	if err != nil {
		return nil, fmt.Errorf("read saved plan %s: %w", path, err)
	}
	if p.Saved == nil {
		return nil, fmt.Errorf("read saved plan %s: the plan has no saved section, so it cannot be checked against the live state: write it with plan --save", path)
	}
	return p, nil
}

// currentSavedSettings returns the settings of this run in the form a saved
// plan is checked against. The owner id is compared only when the settings
// set it, because its default is the compose project name and a saved
// plan is applied without loading compose files.
func currentSavedSettings(settings *config.Settings) (portsync.SavedSettings, error) {
	policy, err := portsync.ParsePolicy(settings.Policy)
	if err != nil {
		return portsync.SavedSettings{}, err
	}
	return savedSettingsOf(settings, policy, nil), nil
}
