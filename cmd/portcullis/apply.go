package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	portsync "github.com/portcullis-dev/portcullis/sync"
	"github.com/portcullis-dev/portcullis/tunnel"
)

type applyOptions struct {
	g   *globalOptions
	yes bool
	// actor is recorded in the audit log.
	actor string
	// fromBackup is a configuration saved before an earlier write, to put
	// back instead of applying the compose files.
	fromBackup string
	force      bool
	planOptions
}

func newCmdApply(g *globalOptions) *cobra.Command {
	opts := &applyOptions{g: g}
	cmd := &cobra.Command{
		Use:   "apply [SAVED-PLAN]",
		Short: "Make the tunnel's routes match the compose files",
		Long: `apply computes the plan, shows it, asks for confirmation on a terminal
(--yes otherwise), and writes it: CNAME creations first, then one tunnel
configuration write, then CNAME deletions. Nothing is written while any
label is invalid or any declared route reaches an internal-only service.

When the only violations are live rules that reach an internal-only service
and the compose project contains the cloudflared service, apply writes one
change that revokes those hostnames (nothing else) and exits 3.

apply SAVED-PLAN applies a plan saved by plan --save, exactly as reviewed; it
needs no compose files and refuses (exit 4) when anything the plan touches
changed since. apply --from-backup FILE puts back a configuration saved
before an earlier write.

` + exitCodeHelp,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.fromBackup != "" {
				if len(args) > 0 {
					return g.finish(outcome{}, errors.New("apply --from-backup takes no saved plan"))
				}
				return g.finish(runApplyFromBackup(cmd, opts))
			}
			if len(args) == 1 {
				return g.finish(runApplySaved(cmd, opts, args[0]))
			}
			return g.finish(runApply(cmd, opts))
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&opts.yes, "yes", "y", false, "apply without asking (needed when no terminal can answer)")
	f.StringArrayVar(&opts.adopt, "adopt", nil, "take over HOST: its unmarked CNAME to this tunnel and its rules (repeatable)")
	f.StringVar(&opts.actor, "actor", "", "who, recorded in the audit log (default: PORTCULLIS_ACTOR, GITHUB_ACTOR, GITLAB_USER_LOGIN, then the OS user)")
	f.StringVar(&opts.fromBackup, "from-backup", "", "put back the configuration saved in FILE before an earlier write (live revocations are kept)")
	f.BoolVar(&opts.force, "force", false, "with --from-backup: put it back even when the internal-only check cannot run or fails")
	addPlanSettingsFlags(cmd)
	return cmd
}

func runApply(cmd *cobra.Command, opts *applyOptions) (outcome, error) {
	ctx := cmd.Context()
	g := opts.g
	s, err := loadDesired(ctx, g, cmd.Flags())
	if err != nil {
		return outcome{}, err
	}
	if err := s.openTarget(ctx); err != nil {
		return outcome{}, err
	}
	live, err := s.readLive(ctx)
	if err != nil {
		return outcome{}, err
	}
	p, err := s.plan(live, opts.planOptions)
	if err != nil {
		return outcome{}, err
	}
	if err := renderPlan(g, p); err != nil {
		return outcome{}, err
	}

	o := planOutcome(p)
	o.pending = false
	if o.violation && liveViolationsOnly(p) {
		return revokeLiveViolations(ctx, opts, s, p)
	}
	if o.violation {
		return o, fmt.Errorf("%w: nothing was written; remove the routes that reach internal-only services", errViolation)
	}
	if p.DeleteLimitExceeded {
		return o, fmt.Errorf("the plan deletes more owned hostnames than --max-deletes (%d) allows; nothing was written", s.settings.MaxDeletes)
	}
	if !p.HasChanges() {
		return o, nil
	}
	if !opts.yes {
		if !g.streams.CanPrompt() {
			return o, errors.New("apply needs --yes when no terminal can confirm; nothing was written")
		}
		if !g.streams.Confirm("Apply these changes?") {
			fmt.Fprintln(g.streams.ErrOut, "Apply cancelled; nothing was written.")
			return o, nil
		}
	}

	applier := &portsync.Applier{
		Target:    s.target,
		DNS:       s.dns,
		Logger:    g.logger(),
		BatchSize: s.settings.Cloudflare.BatchSize,
		Replan: func(fresh tunnel.State) (*portsync.Plan, error) {
			return s.plan(fresh, opts.planOptions)
		},
		BeforeWrite: s.backup,
	}
	if !opts.yes {
		applier.Confirm = func(next *portsync.Plan) bool {
			fmt.Fprintln(g.streams.Out, "The tunnel configuration changed since the plan. The new plan is:")
			if err := renderPlan(g, next); err != nil {
				return false
			}
			return g.streams.Confirm("Apply the new plan?")
		}
	}
	res, err := applier.Apply(ctx, p, live)
	if err != nil {
		appendAudit(g, s.settings.Audit.LogDir, applyAuditEntry(opts, s, live, p, res, err), &o)
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

// reloadAfterWrite runs the file target's reload command after a write,
// because cloudflared reads config.yml only when it starts. A failure is a
// problem (exit 4); a missing command is a note.
func reloadAfterWrite(ctx context.Context, s *session, res *portsync.Result) {
	if !res.Written || s.file == nil {
		return
	}
	if s.settings.File.ReloadCommand == "" {
		res.Notes = append(res.Notes, "cloudflared reads config.yml only when it starts: restart it, or set file.reload_command, for the change to take effect")
		return
	}
	if err := s.file.Reload(ctx); err != nil {
		res.Problems = append(res.Problems, fmt.Sprintf("reload command failed, so cloudflared still runs the old configuration: %v", err))
	}
}

// printResult prints what apply did, including every problem.
func printResult(g *globalOptions, res *portsync.Result) {
	w := g.streams.Out
	switch {
	case res.Written && res.Checksum != "":
		fmt.Fprintf(w, "Applied: configuration written (sha256 %s).\n", shortSum(res.Checksum))
	case res.Written:
		fmt.Fprintf(w, "Applied: configuration version %d.\n", res.Version)
	default:
		fmt.Fprintln(w, "The tunnel configuration needed no write.")
	}
	if res.DNSCreated+res.DNSUpdated+res.DNSDeleted > 0 {
		fmt.Fprintf(w, "DNS: %d created, %d updated, %d deleted.\n", res.DNSCreated, res.DNSUpdated, res.DNSDeleted)
	}
	for _, n := range res.Notes {
		fmt.Fprintf(g.streams.ErrOut, "note: %s\n", n)
	}
	for _, p := range res.Problems {
		fmt.Fprintf(g.streams.ErrOut, "warning: %s\n", p)
	}
}

func shortSum(sum string) string {
	if len(sum) > 12 {
		return sum[:12]
	}
	return sum
}
