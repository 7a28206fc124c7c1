package main

import (
	"github.com/spf13/cobra"
)

type planCmdOptions struct {
	g                *globalOptions
	detailedExitcode bool
	// offline plans without credentials against liveFile, a status -o json
	// snapshot, or an empty state when liveFile is "".
	offline  bool
	liveFile string
	// savePath is the --save file: the JSON plan with its saved section.
	savePath string
	planOptions
}

func newCmdPlan(g *globalOptions) *cobra.Command {
	opts := &planCmdOptions{g: g}
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Show what apply would change, without writing anything",
		Long: `plan loads the compose files, reads the live tunnel configuration (and DNS
records on the API target), and prints the difference. It writes nothing to
the tunnel or DNS.

-o text|json|markdown|github selects the format: markdown is a summary for a
pull-request comment, github prints GitHub Actions annotations (label errors
and violations at their compose file line) and then the text plan. When
GITHUB_STEP_SUMMARY is set, the Markdown summary is also appended to that
file, whatever the format.

--save FILE writes the JSON plan with fingerprints of every hostname it
changes, for "portcullis apply FILE" to apply later, exactly as reviewed, or
to reject when those hostnames changed in the meantime.

--offline needs no credentials and never contacts the target: it diffs
against an empty state, or against --live FILE, a snapshot written by
"portcullis status -o json".

` + exitCodeHelp,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.finish(runPlan(cmd, opts))
		},
	}
	f := cmd.Flags()
	f.BoolVar(&opts.detailedExitcode, "detailed-exitcode", true, "exit 2 when changes are pending; false makes a pending change exit 0")
	f.StringArrayVar(&opts.adopt, "adopt", nil, "take over HOST: its unmarked CNAME to this tunnel and its rules (repeatable)")
	f.StringVar(&opts.savePath, "save", "", "also write the plan, with fingerprints of what it changes, to this JSON file for apply FILE")
	f.BoolVar(&opts.offline, "offline", false, "plan without credentials or network: diff against an empty state or --live")
	f.StringVar(&opts.liveFile, "live", "", "with --offline: diff against this snapshot from status -o json")
	addPlanSettingsFlags(cmd)
	return cmd
}

// addPlanSettingsFlags adds the flags that override settings keys.
func addPlanSettingsFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.String("owner-id", "", "owner id written in ownership markers (default: the compose project name)")
	f.String("policy", "", "which changes apply may make: sync, upsert-only or create-only")
	f.String("exclusive", "", "tunnel id whose every rule belongs to portcullis")
	f.Int("max-deletes", 10, "maximum number of owned hostnames one apply may delete")
	f.String("label-prefix", "", "label prefix (default portcullis)")
}

func runPlan(cmd *cobra.Command, opts *planCmdOptions) (outcome, error) {
	ctx := cmd.Context()
	g := opts.g
	if err := opts.checkFlags(); err != nil {
		return outcome{}, err
	}

	s, err := loadDesired(ctx, g, cmd.Flags())
	if err != nil {
		return outcome{}, reportPlanFailure(g, err)
	}
	live, err := opts.liveState(ctx, s)
	if err != nil {
		return outcome{}, reportPlanFailure(g, err)
	}
	p, err := s.plan(live, opts.planOptions)
	if err != nil {
		return outcome{}, reportPlanFailure(g, err)
	}
	if opts.offline {
		addOfflineWarning(p, live, opts.liveFile)
	}

	if opts.savePath != "" {
		if err := savePlan(s, p, live, opts); err != nil {
			return outcome{}, err
		}
	}
	if err := renderPlan(g, p); err != nil {
		return outcome{}, err
	}
	if err := appendStepSummary(g, p); err != nil {
		return outcome{}, err
	}

	o := planOutcome(p)
	if !opts.detailedExitcode {
		o.pending = false
	}
	return o, nil
}
