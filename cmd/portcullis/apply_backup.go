package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/portcullis-dev/portcullis/config"
	"github.com/portcullis-dev/portcullis/ingress"
	portsync "github.com/portcullis-dev/portcullis/sync"
	"github.com/portcullis-dev/portcullis/tunnel"
)

// apiBackup is the JSON document backup writes on the API target.
type apiBackup struct {
	Version int64             `json:"version"`
	Ingress []json.RawMessage `json:"ingress"`
}

// runApplyFromBackup puts back the ingress rules of a configuration that
// backup saved, through the same target write as apply. Live revocations
// stay at the top, because only restore removes them.
func runApplyFromBackup(cmd *cobra.Command, opts *applyOptions) (outcome, error) {
	ctx := cmd.Context()
	g := opts.g
	settings, err := loadSettings(g, cmd.Flags())
	if err != nil {
		return outcome{}, err
	}
	s := &session{g: g, settings: settings}
	if err := s.openTarget(ctx); err != nil {
		return outcome{}, err
	}
	saved, err := readBackup(ctx, opts.fromBackup, settings.Target)
	if err != nil {
		return outcome{}, err
	}

	fresh, err := s.target.ReadRules(ctx)
	if err != nil {
		return outcome{}, err
	}
	rules := mergeBackup(fresh.Rules, saved)
	if !printBackupSummary(g, opts.fromBackup, fresh.Rules, rules) {
		return outcome{}, nil
	}
	if err := checkBackupRules(ctx, g, settings, rules, opts.force); err != nil {
		return outcome{}, err
	}
	if !opts.yes {
		if !g.streams.CanPrompt() {
			return outcome{}, errors.New("apply --from-backup needs --yes when no terminal can confirm; nothing was written")
		}
		if !g.streams.Confirm("Put this configuration back?") {
			fmt.Fprintln(g.streams.ErrOut, "Cancelled; nothing was written.")
			return outcome{}, nil
		}
	}
	return writeBackupRules(ctx, opts, s, fresh, rules)
}

// writeBackupRules saves the current configuration, writes rules, reloads
// the file target and appends the audit log.
func writeBackupRules(ctx context.Context, opts *applyOptions, s *session, fresh tunnel.State, rules []tunnel.LiveRule) (outcome, error) {
	g := opts.g
	var o outcome
	entry := portsync.AuditEntry{
		Actor: portsync.ResolveActor(opts.actor, g.environ, currentUser), Action: portsync.AuditApply,
		Hostnames: ruleHostnames(rules), Reason: "from backup " + opts.fromBackup, Target: s.settings.Target,
		Tunnel: s.settings.Cloudflare.Tunnel, VersionBefore: stateVersion(fresh), Result: portsync.AuditInForce,
	}
	if s.file != nil {
		entry.Tunnel = s.file.Path
	}

	if err := s.backup(ctx, fresh); err != nil {
		return o, fmt.Errorf("save the current configuration: %w", err)
	}
	after, err := s.target.WriteRules(ctx, fresh, rules)
	if err != nil {
		entry.Result, entry.Detail = portsync.AuditFailed, err.Error()
		appendAudit(g, s.settings.Audit.LogDir, entry, &o)
		return o, fmt.Errorf("write the tunnel configuration: %w", err)
	}
	after.Target = fresh.Target
	entry.VersionAfter = stateVersion(after)

	reload := &portsync.Result{Written: true}
	reloadAfterWrite(ctx, s, reload)
	for _, n := range reload.Notes {
		fmt.Fprintf(g.streams.ErrOut, "note: %s\n", n)
	}
	for _, p := range reload.Problems {
		entry.Result, entry.Detail = portsync.AuditNotInForce, p
		fmt.Fprintf(g.streams.ErrOut, "warning: %s\n", p)
		o.notInForce = true
	}
	fmt.Fprintf(g.streams.Out, "Put back: %s → %s.\n", describeVersion(fresh), describeVersion(after))
	appendAudit(g, s.settings.Audit.LogDir, entry, &o)
	return o, nil
}

// readBackup reads the rules of a backup file: the JSON document on the API
// target, a cloudflared config.yml copy on the file target.
func readBackup(ctx context.Context, path, target string) ([]tunnel.LiveRule, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read backup: %w", err)
	}
	isJSON := bytes.HasPrefix(bytes.TrimSpace(data), []byte("{"))
	if target == config.TargetFile {
		if isJSON {
			return nil, fmt.Errorf("backup %s is a JSON backup of the API target, but the target is file: use a config-*.yml backup", path)
		}
		st, err := (&tunnel.File{Path: path}).Read(ctx)
		if err != nil {
			return nil, fmt.Errorf("read backup: %w", err)
		}
		return st.Rules, nil
	}
	if !isJSON {
		return nil, fmt.Errorf("backup %s is not a JSON backup of the API target: use a tunnel-*.json backup", path)
	}
	var doc apiBackup
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("read backup %s: %w", path, err)
	}
	rules := make([]tunnel.LiveRule, 0, len(doc.Ingress))
	for i, raw := range doc.Ingress {
		var r ingress.Rule
		if err := json.Unmarshal(raw, &r); err != nil {
			return nil, fmt.Errorf("read backup %s: ingress rule #%d: %w", path, i+1, err)
		}
		rules = append(rules, tunnel.LiveRule{Rule: r, Raw: raw})
	}
	return rules, nil
}

// mergeBackup returns the saved rules with every live revocation first:
// putting a backup back never removes a revocation.
func mergeBackup(live, saved []tunnel.LiveRule) []tunnel.LiveRule {
	var keys []string
	for _, r := range live {
		if r.IsRevocation() {
			keys = append(keys, portsync.RevocationKey(r.Hostname))
		}
	}
	merged := portsync.AddRevocations(saved, keys).Rules
	// Keep the live rules' own text for the revocations they already had.
	liveRevocations := map[string]tunnel.LiveRule{}
	for _, r := range live {
		if r.IsRevocation() {
			liveRevocations[portsync.RevocationKey(r.Hostname)] = r
		}
	}
	for i, r := range merged {
		if lr, ok := liveRevocations[portsync.RevocationKey(r.Hostname)]; ok && r.IsRevocation() && r.Raw == nil {
			merged[i] = lr
		}
	}
	return merged
}

// printBackupSummary prints what putting the backup back changes, and
// reports whether there is anything to write.
func printBackupSummary(g *globalOptions, path string, live, rules []tunnel.LiveRule) bool {
	w := g.streams.Out
	removed := missingRules(live, rules)
	added := missingRules(rules, live)
	if len(removed)+len(added) == 0 && len(live) == len(rules) {
		fmt.Fprintf(w, "The live configuration already matches %s; nothing to write.\n", path)
		return false
	}
	fmt.Fprintf(w, "Putting back %s:\n", path)
	for _, r := range added {
		fmt.Fprintf(w, "  + %s\n", describeRuleLine(r))
	}
	for _, r := range removed {
		fmt.Fprintf(w, "  - %s\n", describeRuleLine(r))
	}
	fmt.Fprintf(w, "%d to add, %d to remove; live revocations are kept.\n", len(added), len(removed))
	return true
}

// missingRules returns the rules of a that b does not contain.
func missingRules(a, b []tunnel.LiveRule) []tunnel.LiveRule {
	var out []tunnel.LiveRule
	for _, r := range a {
		found := false
		for _, o := range b {
			if r.Equal(o.Rule) {
				found = true
				break
			}
		}
		if !found {
			out = append(out, r)
		}
	}
	return out
}

func describeRuleLine(r tunnel.LiveRule) string {
	host := r.Hostname
	if host == "" {
		host = "*"
	}
	if r.Path != "" {
		host += " path " + r.Path
	}
	return host + " → " + r.Service
}

// checkBackupRules rejects rules that reach an internal-only service, and
// requires --force when the compose files do not load for the check.
func checkBackupRules(ctx context.Context, g *globalOptions, settings *config.Settings, rules []tunnel.LiveRule, force bool) error {
	gate, gateErr := loadRestoreGate(ctx, settings)
	found, err := internalOnlyReaches(g, rules, gate, gateErr, force, "writing")
	if err != nil || len(found) == 0 {
		return err
	}
	return fmt.Errorf("%w: the backup contains %s; nothing was written", errViolation, strings.Join(found, "; "))
}

func ruleHostnames(rules []tunnel.LiveRule) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range rules {
		h := strings.ToLower(r.Hostname)
		if h != "" && !seen[h] {
			seen[h] = true
			out = append(out, h)
		}
	}
	return out
}
