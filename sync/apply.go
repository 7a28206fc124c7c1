package sync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"

	"github.com/portcullis-dev/portcullis/ingress"
	"github.com/portcullis-dev/portcullis/tunnel"
)

// Target is the store of the tunnel configuration: the Cloudflare API or a
// cloudflared config file.
type Target interface {
	// ReadRules reads the configuration again (the re-read before a write):
	// version or checksum, and rules.
	ReadRules(ctx context.Context) (tunnel.State, error)
	// WriteRules replaces the ingress list. base is the state of the last
	// read; the result is the state after the write (version or checksum).
	WriteRules(ctx context.Context, base tunnel.State, rules []tunnel.LiveRule) (tunnel.State, error)
}

// DNSTarget changes DNS records; only the API target has one.
type DNSTarget interface {
	Batch(ctx context.Context, zoneID string, b tunnel.DNSBatch) ([]tunnel.DNSRecord, error)
	ListRecords(ctx context.Context, zone tunnel.Zone) ([]tunnel.DNSRecord, error)
	Preflight(ctx context.Context, zoneIDs []string) error
}

// ErrDeleteLimit means the plan deletes more owned hostnames than allowed.
var ErrDeleteLimit = errors.New("delete limit exceeded")

// ErrPlanChanged means the live configuration moved since the plan, the new
// plan differs, and it was not confirmed.
var ErrPlanChanged = errors.New("live configuration changed since the plan")

// ErrBlocked means the plan contains violations, so nothing may be written.
var ErrBlocked = errors.New("plan has security violations")

// Applier carries out plans.
type Applier struct {
	Target Target
	DNS    DNSTarget // nil on the file target
	Logger *slog.Logger
	// BatchSize is the maximum number of operations in one DNS batch
	// (200 on the Free plan).
	BatchSize int
	// Replan computes a new plan from a fresh live state; called when the
	// configuration moved between plan and write.
	Replan func(live tunnel.State) (*Plan, error)
	// Confirm asks whether to apply a re-computed plan that differs from
	// the reviewed one. Nil means no terminal can confirm, so the run stops.
	Confirm func(p *Plan) bool
	// BeforeWrite runs just before each configuration write with the state
	// about to be replaced (for the backup).
	BeforeWrite func(ctx context.Context, base tunnel.State) error
}

// Result is the outcome of an apply. Problems are reasons the desired state is not
// fully in force (exit code 4).
type Result struct {
	Written    bool     `json:"written"`
	Version    int64    `json:"version"`
	Checksum   string   `json:"checksum,omitempty"`
	DNSCreated int      `json:"dns_created"`
	DNSUpdated int      `json:"dns_updated"`
	DNSDeleted int      `json:"dns_deleted"`
	Problems   []string `json:"problems"`
	// Notes report what went wrong on the way but was recovered, such as a
	// batch chunk that failed once and succeeded when retried.
	Notes       []string `json:"notes,omitempty"`
	BaseVersion int64    `json:"base_version"`
	Plan        *Plan    `json:"-"`
}

// Apply carries out p against live, the state p was computed from.
func (a *Applier) Apply(ctx context.Context, p *Plan, live tunnel.State) (*Result, error) {
	res := &Result{Version: live.Version, Checksum: live.Checksum, BaseVersion: live.Version, Plan: p}
	if hasBlockingViolations(p) {
		return res, ErrBlocked
	}
	if p.DeleteLimitExceeded {
		return res, ErrDeleteLimit
	}
	if !p.HasChanges() {
		return res, nil
	}

	failed := map[string]bool{}
	if a.DNS != nil && len(p.DNS) > 0 {
		// The first batch of the run needs no preflight of its own: it is
		// all-or-nothing and nothing has been written before it, so a
		// permission error there leaves nothing half-applied.
		if err := a.DNS.Preflight(ctx, preflightZones(p)); err != nil {
			return res, fmt.Errorf("preflight: %w", err)
		}
		var err error
		failed, err = a.applyDNS(ctx, p, live, res, dnsCreateOrUpdate)
		if err != nil {
			return res, err
		}
	}

	fresh, err := a.Target.ReadRules(ctx)
	if err != nil {
		return res, fmt.Errorf("re-read before writing: %w", err)
	}
	if moved(live, fresh) {
		p, live, err = a.replan(p, live, fresh)
		if err != nil {
			return res, err
		}
		res.Plan = p
	}

	if err := a.writeDocument(ctx, p, live, fresh, failed, res); err != nil {
		return res, err
	}
	if a.DNS != nil {
		if _, err := a.applyDNS(ctx, p, live, res, dnsDelete); err != nil {
			return res, err
		}
	}
	return res, nil
}

func hasBlockingViolations(p *Plan) bool {
	for _, v := range p.Violations {
		if !v.Live || !v.Neutralised {
			return true
		}
	}
	return false
}

func moved(before, after tunnel.State) bool {
	return before.Version != after.Version || before.Checksum != after.Checksum
}

// replan recomputes the plan after the configuration moved. The new plan is
// used as is when it makes the same changes, and otherwise only when
// confirmed.
func (a *Applier) replan(p *Plan, live, fresh tunnel.State) (*Plan, tunnel.State, error) {
	if a.Replan == nil {
		return p, live, fmt.Errorf("%w (version %d, now %d)", ErrPlanChanged, live.Version, fresh.Version)
	}
	live.Version, live.Checksum, live.Rules = fresh.Version, fresh.Checksum, fresh.Rules
	next, err := a.Replan(live)
	if err != nil {
		return p, live, err
	}
	if sameChanges(p, next) {
		return next, live, nil
	}
	if a.Confirm == nil || !a.Confirm(next) {
		return p, live, fmt.Errorf("%w and the new plan differs; review it with plan and apply again", ErrPlanChanged)
	}
	return next, live, nil
}

func sameChanges(a, b *Plan) bool {
	key := func(p *Plan) string {
		var sb strings.Builder
		for _, set := range [][]RouteChange{p.Creates, p.Updates, p.Deletes, p.Drift} {
			for _, c := range set {
				fmt.Fprintf(&sb, "%s|%s|%v|%v;", c.Hostname, c.Path, ruleText(c.Before), ruleText(c.After))
			}
			sb.WriteString("#")
		}
		return sb.String()
	}
	return key(a) == key(b)
}

func ruleText(r *ingress.Rule) string {
	if r == nil {
		return ""
	}
	return r.Service + " " + r.OriginRequest.Canonical()
}

// writeDocument makes the one configuration write of the plan. A rule
// whose CNAME could not be created is left out, so no rule of ours is ever
// live without its marked CNAME.
func (a *Applier) writeDocument(ctx context.Context, p *Plan, live, fresh tunnel.State, failed map[string]bool, res *Result) error {
	rules := make([]tunnel.LiveRule, 0, len(p.Document))
	for _, d := range p.Document {
		if d.LiveIndex < 0 && failed[strings.ToLower(d.Rule.Hostname)] {
			continue
		}
		lr := tunnel.LiveRule{Rule: d.Rule}
		if d.LiveIndex >= 0 && d.LiveIndex < len(live.Rules) {
			lr = live.Rules[d.LiveIndex]
		}
		if d.Kind == KindOwned {
			lr.Owner = p.OwnerID
		}
		rules = append(rules, lr)
	}
	if !documentDiffers(live, rules) {
		return nil
	}
	if a.BeforeWrite != nil {
		if err := a.BeforeWrite(ctx, fresh); err != nil {
			return fmt.Errorf("save the previous configuration: %w", err)
		}
	}
	after, err := a.Target.WriteRules(ctx, fresh, rules)
	if err != nil {
		return fmt.Errorf("write the tunnel configuration: %w", err)
	}
	res.Written = true
	res.Version, res.Checksum = after.Version, after.Checksum
	if live.Target == "api" && after.Version != fresh.Version+1 {
		res.Problems = append(res.Problems, fmt.Sprintf("the configuration version went from %d to %d, not %d: another writer changed the tunnel at the same moment and its change may be lost; run plan to check", fresh.Version, after.Version, fresh.Version+1))
	}
	a.log("configuration written", "version", after.Version, "rules", len(rules))
	return nil
}

// documentDiffers reports whether rules differ from the live rules in
// content, order or ownership.
func documentDiffers(live tunnel.State, rules []tunnel.LiveRule) bool {
	if len(rules) != len(live.Rules) {
		return true
	}
	for i, r := range rules {
		l := live.Rules[i]
		if !l.Equal(r.Rule) || l.Owner != r.Owner || l.Raw == nil {
			return true
		}
	}
	return false
}

func (a *Applier) log(msg string, args ...any) {
	if a.Logger != nil {
		a.Logger.Info(msg, args...)
	}
}

// preflightZones lists the zones whose DNS changes need a permission check
// before the first write: every zone with a change, except the zone of the
// very first batch.
func preflightZones(p *Plan) []string {
	zones := planZones(p)
	first := firstBatchZone(p)
	out := zones[:0:0]
	for _, z := range zones {
		if z != first {
			out = append(out, z)
		}
	}
	return out
}

// firstBatchZone returns the zone of the first batch apply sends, the
// lowest zone id with a creation or update, or "" when there is none.
func firstBatchZone(p *Plan) string {
	first := ""
	for _, d := range p.DNS {
		if dnsCreateOrUpdate(d) && (first == "" || d.ZoneID < first) {
			first = d.ZoneID
		}
	}
	return first
}

func planZones(p *Plan) []string {
	seen := map[string]bool{}
	var out []string
	for _, d := range p.DNS {
		if !seen[d.ZoneID] {
			seen[d.ZoneID] = true
			out = append(out, d.ZoneID)
		}
	}
	sort.Strings(out)
	return out
}
