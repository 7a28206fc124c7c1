package sync

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/portcullis-dev/portcullis/ingress"
	"github.com/portcullis-dev/portcullis/tunnel"
)

// SavedPlan is the section that plan --save adds to the JSON plan document.
// It records what the plan was computed against, so that applying the plan
// later can tell whether anything it touches has changed since.
type SavedPlan struct {
	// Target is "api" or "file"; FilePath is the file target's
	// configuration file as the settings name it.
	Target    string `json:"target"`
	FilePath  string `json:"file_path,omitempty"`
	AccountID string `json:"account_id,omitempty"`
	TunnelID  string `json:"tunnel_id"`
	OwnerID   string `json:"owner_id"`
	Policy    Policy `json:"policy"`
	Exclusive string `json:"exclusive,omitempty"`
	// Adopt lists the normalised --adopt hostnames of the plan.
	Adopt []string `json:"adopt"`
	// Hostnames holds one fingerprint per hostname the plan changes, sorted
	// by hostname.
	Hostnames []HostFingerprint `json:"hostnames"`
	// Revocations is the fingerprint of the live revocation rules.
	Revocations string `json:"revocations"`
}

// HostFingerprint is the state of one hostname when the plan was saved:
// SHA-256 digests of its live ingress rules (in live order) and of its DNS
// records.
type HostFingerprint struct {
	Hostname string `json:"hostname"`
	Rules    string `json:"rules"`
	DNS      string `json:"dns"`
}

// SavedSettings are the settings a saved plan depends on. NewSavedPlan
// records them, and CheckSavedPlan compares them with the settings of the
// run that applies the plan.
type SavedSettings struct {
	Target    string
	FilePath  string
	AccountID string
	OwnerID   string
	Policy    Policy
	Exclusive string
	Adopt     []string
}

// ErrStalePlan is wrapped by every StalePlanError.
var ErrStalePlan = errors.New("saved plan is stale")

// StalePlanError lists what changed since a plan was saved. Each reason
// names the hostname, identifier or setting that changed.
type StalePlanError struct {
	Reasons []string
}

// Error lists the reasons and the next step.
func (e *StalePlanError) Error() string {
	return fmt.Sprintf("%v: %s; nothing was written: run plan --save again and review the new plan", ErrStalePlan, strings.Join(e.Reasons, "; "))
}

// Unwrap returns ErrStalePlan.
func (e *StalePlanError) Unwrap() error { return ErrStalePlan }

// NewSavedPlan returns the saved section for p, computed from live, the
// state p was computed against. The account is the state's when it names
// one, else the settings'.
func NewSavedPlan(p *Plan, live tunnel.State, settings SavedSettings) *SavedPlan {
	s := &SavedPlan{
		Target:      settings.Target,
		FilePath:    settings.FilePath,
		AccountID:   settings.AccountID,
		TunnelID:    live.TunnelID,
		OwnerID:     settings.OwnerID,
		Policy:      settings.Policy,
		Exclusive:   settings.Exclusive,
		Adopt:       append([]string{}, settings.Adopt...),
		Hostnames:   []HostFingerprint{},
		Revocations: FingerprintRevocations(live),
	}
	if live.AccountID != "" {
		s.AccountID = live.AccountID
	}
	slices.Sort(s.Adopt)
	for _, host := range TouchedHostnames(p) {
		s.Hostnames = append(s.Hostnames, FingerprintHost(live, host))
	}
	return s
}

// TouchedHostnames returns the lower-case hostnames whose rules or DNS
// records the plan changes, sorted and without repeats.
func TouchedHostnames(p *Plan) []string {
	seen := map[string]bool{}
	for _, set := range [][]RouteChange{p.Creates, p.Updates, p.Deletes, p.Drift} {
		for _, c := range set {
			seen[normalHost(c.Hostname)] = true
		}
	}
	for _, d := range p.DNS {
		seen[normalHost(d.Name)] = true
	}
	return sortedKeys(seen)
}

func normalHost(host string) string {
	return strings.ToLower(strings.TrimSuffix(host, "."))
}

// FingerprintHost digests the live ingress rules of host (revocation rules
// and the final catch-all excluded), in live order, and its DNS records.
func FingerprintHost(live tunnel.State, host string) HostFingerprint {
	host = normalHost(host)
	last := len(live.Rules) - 1

	var rules []string
	for i, r := range live.Rules {
		if r.IsRevocation() || (i == last && r.IsCatchAll()) || normalHost(r.Hostname) != host {
			continue
		}
		rules = append(rules, fmt.Sprintf("%q %q %q %s owner=%q", r.Hostname, r.Path, r.Service, r.OriginRequest.Canonical(), r.Owner))
	}

	var records []string
	for _, r := range live.Records {
		if normalHost(r.Name) != host {
			continue
		}
		records = append(records, fmt.Sprintf("%q %q %q %q proxied=%t %q", r.ID, r.Type, r.Name, r.Content, r.Proxied, r.Comment))
	}
	sort.Strings(records)

	return HostFingerprint{Hostname: host, Rules: digestLines(rules), DNS: digestLines(records)}
}

// FingerprintRevocations digests the live revocation rules in live order.
func FingerprintRevocations(live tunnel.State) string {
	var lines []string
	for _, r := range live.Rules {
		if r.IsRevocation() {
			lines = append(lines, fmt.Sprintf("%q %q %q", r.Hostname, r.Path, r.Service))
		}
	}
	return digestLines(lines)
}

func digestLines(lines []string) string {
	sum := sha256.Sum256([]byte(strings.Join(lines, "\n")))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// CheckSavedPlan compares a saved plan with the live state and settings of
// the run that applies it. It returns a *StalePlanError naming everything
// that changed, or nil. An empty field of current is not compared, because
// the run could not know it (the owner id, for example, defaults to the
// compose project name, and applying a saved plan loads no compose files).
func CheckSavedPlan(s *SavedPlan, live tunnel.State, current SavedSettings) error {
	var reasons []string
	changed := func(what, before, now string) {
		if now != "" && before != now {
			reasons = append(reasons, fmt.Sprintf("%s is %q, the plan was saved for %q", what, now, before))
		}
	}
	changed("the target", s.Target, current.Target)
	changed("the configuration file", s.FilePath, current.FilePath)
	changed("the account", s.AccountID, current.AccountID)
	changed("the tunnel", s.TunnelID, live.TunnelID)
	changed("the owner id", s.OwnerID, current.OwnerID)
	changed("the policy", string(s.Policy), string(current.Policy))
	if s.Exclusive != current.Exclusive {
		reasons = append(reasons, fmt.Sprintf("the exclusive setting is %q, the plan was saved with %q", current.Exclusive, s.Exclusive))
	}

	if FingerprintRevocations(live) != s.Revocations {
		reasons = append(reasons, "the revocation rules changed")
	}
	for _, saved := range s.Hostnames {
		now := FingerprintHost(live, saved.Hostname)
		if now.Rules != saved.Rules {
			reasons = append(reasons, fmt.Sprintf("the ingress rules of %s changed", saved.Hostname))
		}
		if now.DNS != saved.DNS {
			reasons = append(reasons, fmt.Sprintf("the DNS records of %s changed", saved.Hostname))
		}
	}
	if len(reasons) == 0 {
		return nil
	}
	return &StalePlanError{Reasons: reasons}
}

// RebaseSavedPlan returns a copy of saved whose Document is rebuilt on live,
// a fresh state that CheckSavedPlan accepted. Rules of the hostnames the
// plan changes come from the saved document. Every rule of every other
// hostname is kept as it is now, including rules added since the plan was
// saved. The document keeps the usual order: revocation rules, owned rules
// in ingress.SortRules order, unmanaged rules in live order, the catch-all.
// Ownership of the other hostnames is decided again from live, with the
// saved owner id, exclusive setting and adopt list. The DNS changes stay as
// saved: CheckSavedPlan has made sure their records are unchanged.
func RebaseSavedPlan(saved *Plan, live tunnel.State) (*Plan, error) {
	if saved.Saved == nil {
		return nil, errors.New("rebase saved plan: the plan has no saved section")
	}
	touched := map[string]bool{}
	for _, h := range TouchedHostnames(saved) {
		touched[h] = true
	}
	idx := indexLive(live)
	own := classifyHosts(Input{Live: live, OwnerID: saved.OwnerID, Exclusive: saved.Saved.Exclusive, Adopt: saved.Saved.Adopt}, idx)

	var owned, unmanaged []DocumentRule
	for _, i := range idx.ordinary {
		host := normalHost(live.Rules[i].Hostname)
		switch {
		case touched[host]:
			continue
		case own.get(host).owned:
			owned = append(owned, DocumentRule{Kind: KindOwned, Rule: live.Rules[i].Rule, LiveIndex: i})
		default:
			unmanaged = append(unmanaged, DocumentRule{Kind: KindUnmanaged, Rule: live.Rules[i].Rule, LiveIndex: i})
		}
	}
	touchedOwned, touchedUnmanaged := savedTouchedRules(saved.Document, touched, live, idx)
	owned = append(owned, touchedOwned...)
	unmanaged = append(unmanaged, touchedUnmanaged...)
	sortDocumentRules(owned)
	sort.SliceStable(unmanaged, func(i, j int) bool { return liveOrder(unmanaged[i]) < liveOrder(unmanaged[j]) })

	var doc []DocumentRule
	for _, i := range idx.revocations {
		doc = append(doc, DocumentRule{Kind: KindRevocation, Rule: live.Rules[i].Rule, LiveIndex: i})
	}
	doc = append(doc, owned...)
	doc = append(doc, unmanaged...)
	doc = append(doc, rebasedCatchAll(saved.Document, live, idx))
	if err := ingress.ValidateRules(documentRules(doc)); err != nil {
		return nil, fmt.Errorf("rebase saved plan: the merged tunnel configuration would be rejected by cloudflared: %w", err)
	}

	p := *saved
	p.Document = doc
	p.BaseVersion, p.BaseChecksum = live.Version, live.Checksum
	p.Reorder = false
	p.Reorder = !p.HasChanges() && documentMoved(live, doc)
	return &p, nil
}

// savedTouchedRules returns the saved document's rules of the touched
// hostnames, split by kind. A rule the saved plan keeps unchanged is
// matched to the equal live rule of the same hostname, so it is written
// back from its live text.
func savedTouchedRules(saved []DocumentRule, touched map[string]bool, live tunnel.State, idx *liveIndex) (owned, unmanaged []DocumentRule) {
	used := map[int]bool{}
	for _, d := range saved {
		if d.Kind == KindRevocation || d.Kind == KindCatchAll || !touched[normalHost(d.Rule.Hostname)] {
			continue
		}
		if d.LiveIndex >= 0 {
			d.LiveIndex = matchLiveRule(live, idx, d.Rule, used)
		}
		if d.Kind == KindOwned {
			owned = append(owned, d)
		} else {
			unmanaged = append(unmanaged, d)
		}
	}
	return owned, unmanaged
}

// matchLiveRule returns the index of the first unused live rule of the
// rule's hostname that equals it, or -1.
func matchLiveRule(live tunnel.State, idx *liveIndex, r ingress.Rule, used map[int]bool) int {
	for _, i := range idx.byHost[normalHost(r.Hostname)] {
		if !used[i] && live.Rules[i].Equal(r) {
			used[i] = true
			return i
		}
	}
	return -1
}

// liveOrder sorts rules without a live index after every live rule.
func liveOrder(d DocumentRule) int {
	if d.LiveIndex < 0 {
		return int(^uint(0) >> 1)
	}
	return d.LiveIndex
}

// rebasedCatchAll keeps the live catch-all, or else the saved document's.
func rebasedCatchAll(saved []DocumentRule, live tunnel.State, idx *liveIndex) DocumentRule {
	if idx.catchAll >= 0 {
		return DocumentRule{Kind: KindCatchAll, Rule: live.Rules[idx.catchAll].Rule, LiveIndex: idx.catchAll}
	}
	for _, d := range saved {
		if d.Kind == KindCatchAll {
			return DocumentRule{Kind: KindCatchAll, Rule: d.Rule, LiveIndex: -1}
		}
	}
	return DocumentRule{Kind: KindCatchAll, Rule: ingress.Rule{Service: ingress.DefaultCatchAll}, LiveIndex: -1}
}
