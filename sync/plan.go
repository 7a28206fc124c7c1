package sync

import (
	"github.com/portcullis-dev/portcullis/ingress"
)

// FormatVersion is the version of the JSON plan document. It changes when a
// field is renamed or removed, never when one is added.
const FormatVersion = 1

// Plan is the difference between the desired routes and the live state, in
// explicit buckets. Every slice is sorted by Sort, so the same inputs give
// byte-identical output.
type Plan struct {
	FormatVersion int    `json:"format_version"`
	Target        string `json:"target"`
	AccountID     string `json:"account_id,omitempty"`
	TunnelID      string `json:"tunnel_id,omitempty"`
	OwnerID       string `json:"owner_id"`
	Policy        Policy `json:"policy"`
	// BaseVersion and BaseChecksum identify the live configuration the plan
	// was computed against.
	BaseVersion  int64  `json:"base_version"`
	BaseChecksum string `json:"base_checksum,omitempty"`

	Creates []RouteChange `json:"creates"`
	Updates []RouteChange `json:"updates"`
	Deletes []RouteChange `json:"deletes"`
	// Drift holds live rules of owned hostnames that compose does not
	// declare; apply removes them.
	Drift      []RouteChange `json:"drift"`
	DNS        []DNSChange   `json:"dns"`
	Held       []Held        `json:"held"`
	Skipped    []Skipped     `json:"skipped"`
	Unmanaged  []Unmanaged   `json:"unmanaged"`
	Revoked    []Revoked     `json:"revoked"`
	Conflicts  []Conflict    `json:"conflicts"`
	Violations []Violation   `json:"violations"`
	Warnings   []Warning     `json:"warnings"`
	// DNSCommands lists the `cloudflared tunnel route dns` commands still
	// needed on the file target, which manages no DNS.
	DNSCommands []string `json:"dns_commands,omitempty"`
	// DeleteLimitExceeded is set when the plan deletes more owned hostnames
	// than the max-deletes setting allows; apply then writes nothing.
	DeleteLimitExceeded bool `json:"delete_limit_exceeded,omitempty"`
	// Reorder is set when the only difference from the live document is
	// the order of its rules, which apply restores.
	Reorder bool `json:"reorder,omitempty"`

	// Document is the whole ingress list apply writes, in cloudflared order.
	Document []DocumentRule `json:"document"`

	// Saved is set in a plan written by plan --save: what apply checks
	// before it applies the plan later.
	Saved *SavedPlan `json:"saved,omitempty"`
}

// HasChanges reports whether applying the plan would change anything.
// Held, skipped and revoked items never count.
func (p *Plan) HasChanges() bool {
	return p.Reorder || len(p.Creates)+len(p.Updates)+len(p.Deletes)+len(p.Drift)+len(p.DNS) > 0
}

// RouteChange is one ingress rule created, updated or deleted. Before is nil
// for a create and After is nil for a delete.
type RouteChange struct {
	Hostname string        `json:"hostname"`
	Path     string        `json:"path,omitempty"`
	Service  string        `json:"service,omitempty"`
	Before   *ingress.Rule `json:"before,omitempty"`
	After    *ingress.Rule `json:"after,omitempty"`
}

// DNSAction is the change made to one DNS record.
type DNSAction string

// DNS actions.
const (
	DNSCreate DNSAction = "create"
	DNSUpdate DNSAction = "update"
	DNSDelete DNSAction = "delete"
)

// DNSChange is one DNS record change on the API target.
type DNSChange struct {
	Action   DNSAction `json:"action"`
	ZoneID   string    `json:"zone_id"`
	Zone     string    `json:"zone"`
	RecordID string    `json:"record_id,omitempty"`
	Name     string    `json:"name"`
	Type     string    `json:"type"`
	Content  string    `json:"content"`
	Proxied  bool      `json:"proxied"`
	Comment  string    `json:"comment,omitempty"`
	// BeforeComment is the comment an adopted record carried.
	BeforeComment string `json:"before_comment,omitempty"`
}

// Held is a hostname whose live routes are left as they are, because the
// service declaring it is in an inactive profile.
type Held struct {
	Hostname string `json:"hostname"`
	Service  string `json:"service"`
	Reason   string `json:"reason"`
}

// Skipped is a change the policy did not allow.
type Skipped struct {
	Action   string `json:"action"`
	Hostname string `json:"hostname"`
	Path     string `json:"path,omitempty"`
	Reason   string `json:"reason"`
}

// Unmanaged is a live rule portcullis does not own and keeps verbatim.
type Unmanaged struct {
	Hostname string `json:"hostname,omitempty"`
	Path     string `json:"path,omitempty"`
	Origin   string `json:"origin"`
	// Owner is another owner's id when one is known.
	Owner string `json:"owner,omitempty"`
}

// Revoked is a live revocation rule; Hostname "" is the revocation of every
// hostname.
type Revoked struct {
	Hostname string `json:"hostname"`
	Reason   string `json:"reason,omitempty"`
	Actor    string `json:"actor,omitempty"`
	Since    string `json:"since,omitempty"`
}

// Conflict is a wanted route that portcullis may not write, because
// something it does not own holds the hostname.
type Conflict struct {
	Hostname string `json:"hostname"`
	Path     string `json:"path,omitempty"`
	Service  string `json:"service,omitempty"`
	Reason   string `json:"reason"`
}

// Violation is a route or live rule whose origin reaches an internal-only
// service.
type Violation struct {
	Hostname        string `json:"hostname,omitempty"`
	Path            string `json:"path,omitempty"`
	Origin          string `json:"origin"`
	Service         string `json:"service,omitempty"`
	InternalService string `json:"internal_service"`
	MatchedName     string `json:"matched_name"`
	// How is the kind of name that matched: "network alias", "static IP", ...
	How string `json:"how,omitempty"`
	// Live is true for a rule already in the tunnel configuration.
	Live bool `json:"live"`
	// Neutralised is true when a revocation above the rule cuts its traffic.
	Neutralised bool   `json:"neutralised,omitempty"`
	File        string `json:"file,omitempty"`
	Line        int    `json:"line,omitempty"`
}

// Warning is a note about a route that does not stop the plan.
type Warning struct {
	Hostname string `json:"hostname,omitempty"`
	Service  string `json:"service,omitempty"`
	Message  string `json:"message"`
	// File and Line locate the label the warning is about, when known.
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
}

// RuleKind is the origin of a rule of the written document.
type RuleKind string

// Rule kinds, in document order.
const (
	KindRevocation RuleKind = "revocation"
	KindOwned      RuleKind = "owned"
	KindUnmanaged  RuleKind = "unmanaged"
	KindCatchAll   RuleKind = "catch-all"
)

// DocumentRule is one rule of the document apply writes.
type DocumentRule struct {
	Kind RuleKind     `json:"kind"`
	Rule ingress.Rule `json:"rule"`
	// LiveIndex is the rule's index in the live document when it is kept
	// unchanged, so its original text is written back; -1 for a new or
	// changed rule.
	LiveIndex int `json:"live_index"`
}
