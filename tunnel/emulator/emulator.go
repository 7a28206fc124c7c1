// Package emulator is an in-memory HTTP emulator of the Cloudflare API
// endpoints that portcullis calls: Cloudflare Tunnel (cfd_tunnel) listing,
// reading, renaming and remote configuration, zone listing, DNS records
// (list, create, read, edit, overwrite, delete, batch) and token
// verification.
//
// It speaks the wire format of the real API as the cloudflare-go v6 client
// reads it: the JSON envelope, page-numbered lists that end with an empty
// page, error codes, batch order with all-or-nothing semantics, and
// cloudflared's validation of pushed configurations. Tests seed it through
// methods (AddZone, AddTunnel, AddRecord, AddToken) or a JSON seed, inject
// faults, latency and concurrent writers, and assert the exact calls made.
//
// All state lives in memory behind one mutex, so an Emulator is safe for
// concurrent use. Identifiers and timestamps come from counters and a fake
// clock, so the same sequence of calls always produces the same output.
package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// pathPrefix starts every API path, as in https://api.cloudflare.com/client/v4.
const pathPrefix = "/client/v4"

// Permission is one permission of an API token, named after the Cloudflare
// token permission it stands for.
type Permission string

// Token permissions. Each Edit permission also grants the matching Read.
const (
	TunnelRead Permission = "tunnel:read" // Account › Cloudflare Tunnel › Read
	TunnelEdit Permission = "tunnel:edit" // Account › Cloudflare Tunnel › Edit
	ZoneRead   Permission = "zone:read"   // Zone › Zone › Read
	DNSRead    Permission = "dns:read"    // Zone › DNS › Read
	DNSEdit    Permission = "dns:edit"    // Zone › DNS › Edit
)

// AllPermissions returns every permission the emulator checks.
func AllPermissions() []Permission {
	return []Permission{TunnelRead, TunnelEdit, ZoneRead, DNSRead, DNSEdit}
}

// Zone is a DNS zone as seeded into the emulator.
type Zone struct {
	ID        string
	Name      string
	AccountID string
	Plan      string
}

// Tunnel is a Cloudflare Tunnel as seeded into the emulator.
type Tunnel struct {
	ID        string
	AccountID string
	Name      string
	// ConfigSrc is "cloudflare" (remotely managed) or "local".
	ConfigSrc string
	Deleted   bool
}

// Record is one DNS record of a zone.
type Record struct {
	ID      string
	Type    string
	Name    string
	Content string
	Comment string
	Proxied bool
	TTL     int
	Tags    []string
}

// Call is one request the emulator received.
type Call struct {
	Method string
	// Path is the request path without the /client/v4 prefix.
	Path  string
	Query string
	Body  []byte
	// Status is the HTTP status sent, or 0 when the client went away before
	// a response was written.
	Status int
}

// Fault makes matching requests fail with a fixed error response.
type Fault struct {
	// Method matches the request method; "" matches every method.
	Method string
	// PathSuffix is matched with strings.HasSuffix on the path without the
	// /client/v4 prefix; "" matches every path.
	PathSuffix string
	Status     int
	// Code and Message fill the error item; 0 and "" pick defaults for Status.
	Code    int
	Message string
	// RetryAfter is sent as the Retry-After header when not "".
	RetryAfter string
	// Times is how many matching requests fail; 0 means every one.
	Times int
	// After is how many matching requests pass before the first failure.
	After int
}

// faultState is a Fault with its counters.
type faultState struct {
	Fault
	matched int
	fired   int
}

// planLimits are the per-plan limits the emulator enforces.
type planLimits struct {
	batchOps      int
	commentMaxLen int
	tagsAllowed   bool
	minTTL        int
}

var plans = map[string]planLimits{
	"free":       {batchOps: 200, commentMaxLen: 100, tagsAllowed: false, minTTL: 60},
	"pro":        {batchOps: 3500, commentMaxLen: 500, tagsAllowed: true, minTTL: 60},
	"business":   {batchOps: 3500, commentMaxLen: 500, tagsAllowed: true, minTTL: 60},
	"enterprise": {batchOps: 3500, commentMaxLen: 500, tagsAllowed: true, minTTL: 30},
}

// zoneState is a zone with its records.
type zoneState struct {
	Zone
	createdAt time.Time
	records   []*recordState
}

// recordState is a stored DNS record with the fields the API adds.
type recordState struct {
	Record
	settings   json.RawMessage
	createdOn  time.Time
	modifiedOn time.Time
}

// tunnelState is a tunnel with its remote configuration.
type tunnelState struct {
	Tunnel
	createdAt       time.Time
	deletedAt       time.Time
	connectionID    string
	configVersion   int64
	config          json.RawMessage // nil before the first write
	configCreatedAt time.Time
}

// Emulator is an in-memory Cloudflare API. It implements http.Handler and
// can be mounted at any prefix, because it routes on the part of the path
// after /client/v4.
type Emulator struct {
	mu sync.Mutex

	now     time.Time
	nextID  int
	tokens  map[string]map[Permission]bool
	zones   []*zoneState
	tunnels []*tunnelState

	calls   []Call
	faults  []*faultState
	latency time.Duration
	hook    func(method, path string)
}

// startTime is the first reading of every emulator's fake clock.
var startTime = time.Date(2026, time.January, 2, 3, 4, 5, 678901000, time.UTC)

// New returns an empty emulator: no tokens, zones or tunnels.
func New() *Emulator {
	return &Emulator{
		now:    startTime,
		tokens: map[string]map[Permission]bool{},
	}
}

// Now returns the emulator's fake clock, which stamps every timestamp it
// writes.
func (e *Emulator) Now() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.now
}

// Advance moves the fake clock forward by d.
func (e *Emulator) Advance(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.now = e.now.Add(d)
}

// AddToken registers an API token with the given permissions, replacing
// the permissions of a token already registered.
func (e *Emulator) AddToken(token string, perms ...Permission) {
	set := map[Permission]bool{}
	for _, p := range perms {
		set[p] = true
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	e.tokens[token] = set
}

// AddZone adds an active zone on the free plan. The name is stored as a
// lower-case ASCII (Punycode) name without a trailing dot.
func (e *Emulator) AddZone(accountID, name string) Zone {
	e.mu.Lock()
	defer e.mu.Unlock()

	z := &zoneState{
		Zone: Zone{
			ID:        e.newHexID(),
			Name:      normalizeZoneName(name),
			AccountID: accountID,
			Plan:      "free",
		},
		createdAt: e.now,
	}
	e.zones = append(e.zones, z)
	return z.Zone
}

// SetZonePlan changes a zone's plan: "free", "pro", "business" or
// "enterprise". It panics on an unknown zone id or plan, which is a mistake
// in the test.
func (e *Emulator) SetZonePlan(zoneID, plan string) {
	if _, ok := plans[plan]; !ok {
		panic(fmt.Sprintf("emulator: unknown plan %q: use free, pro, business or enterprise", plan))
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	e.mustZone(zoneID).Plan = plan
}

// AddTunnel adds a healthy tunnel with one connection. configSrc is
// "cloudflare" for a remotely-managed tunnel or "local". The tunnel has no
// configuration yet (version 0, config null).
func (e *Emulator) AddTunnel(accountID, name, configSrc string) Tunnel {
	e.mu.Lock()
	defer e.mu.Unlock()

	t := &tunnelState{
		Tunnel: Tunnel{
			ID:        e.newUUID(),
			AccountID: accountID,
			Name:      name,
			ConfigSrc: configSrc,
		},
		createdAt:    e.now,
		connectionID: e.newUUID(),
	}
	t.configCreatedAt = e.now
	e.tunnels = append(e.tunnels, t)
	return t.Tunnel
}

// DeleteTunnel soft-deletes a tunnel: it stays listed with deleted_at set,
// and reading its configuration returns 404. It panics on an unknown id.
func (e *Emulator) DeleteTunnel(tunnelID string) {
	e.mu.Lock()
	defer e.mu.Unlock()

	t := e.mustTunnel(tunnelID)
	t.Deleted = true
	t.deletedAt = e.now
}

// SetConfig replaces a tunnel's configuration as another writer would,
// without validation, and returns the new version (the old one plus one).
// A missing warp-routing key is filled as the API does. It panics on an
// unknown id.
func (e *Emulator) SetConfig(tunnelID string, config json.RawMessage) int64 {
	e.mu.Lock()
	defer e.mu.Unlock()

	t := e.mustTunnel(tunnelID)
	stored, err := fillWarpRouting(config)
	if err != nil {
		panic(fmt.Sprintf("emulator: set config of tunnel %s: %v", tunnelID, err))
	}
	e.storeConfig(t, stored)
	return t.configVersion
}

// Config returns a tunnel's configuration version and document; the
// document is nil before the first write. It panics on an unknown id.
func (e *Emulator) Config(tunnelID string) (version int64, config json.RawMessage) {
	e.mu.Lock()
	defer e.mu.Unlock()

	t := e.mustTunnel(tunnelID)
	return t.configVersion, slices.Clone(t.config)
}

// AddRecord stores a DNS record as given, without the API's conflict and
// plan checks, so tests can build any state. The name is normalised to a
// lower-case FQDN in the zone, ID is filled when empty and a proxied or
// zero TTL becomes 1 (automatic). It panics on an unknown zone id.
func (e *Emulator) AddRecord(zoneID string, r Record) Record {
	e.mu.Lock()
	defer e.mu.Unlock()

	z := e.mustZone(zoneID)
	r.Name = normalizeRecordName(r.Name, z.Name)
	r.Type = strings.ToUpper(r.Type)
	if r.ID == "" {
		r.ID = e.newHexID()
	}
	if r.Proxied || r.TTL == 0 {
		r.TTL = 1
	}
	r.Tags = slices.Clone(r.Tags)

	z.records = append(z.records, &recordState{Record: r, createdOn: e.now, modifiedOn: e.now})
	return r
}

// Records returns a copy of a zone's records sorted by name, type and id.
// It panics on an unknown zone id.
func (e *Emulator) Records(zoneID string) []Record {
	e.mu.Lock()
	defer e.mu.Unlock()

	z := e.mustZone(zoneID)
	out := make([]Record, 0, len(z.records))
	for _, r := range sortedRecords(z.records) {
		c := r.Record
		c.Tags = slices.Clone(c.Tags)
		out = append(out, c)
	}
	return out
}

// Zones returns every zone in the order they were added.
func (e *Emulator) Zones() []Zone {
	e.mu.Lock()
	defer e.mu.Unlock()

	out := make([]Zone, 0, len(e.zones))
	for _, z := range e.zones {
		out = append(out, z.Zone)
	}
	return out
}

// Tunnels returns every tunnel, deleted ones included, in the order they
// were added.
func (e *Emulator) Tunnels() []Tunnel {
	e.mu.Lock()
	defer e.mu.Unlock()

	out := make([]Tunnel, 0, len(e.tunnels))
	for _, t := range e.tunnels {
		out = append(out, t.Tunnel)
	}
	return out
}

// Calls returns a copy of the requests received since the last ResetCalls,
// in the order their responses were written.
func (e *Emulator) Calls() []Call {
	e.mu.Lock()
	defer e.mu.Unlock()

	out := make([]Call, len(e.calls))
	for i, c := range e.calls {
		c.Body = slices.Clone(c.Body)
		out[i] = c
	}
	return out
}

// ResetCalls clears the log of received requests.
func (e *Emulator) ResetCalls() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.calls = nil
}

// CallCount returns the number of requests received since the last
// ResetCalls.
func (e *Emulator) CallCount() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.calls)
}

// Fail adds a fault. Faults are checked in the order they were added,
// before authentication, and the first one that fires sends its error response.
func (e *Emulator) Fail(f Fault) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults = append(e.faults, &faultState{Fault: f})
}

// SetLatency adds d to every request. The wait ends early when the
// request's context is cancelled.
func (e *Emulator) SetLatency(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.latency = d
}

// OnRequest sets a hook called with the method and the path without the
// /client/v4 prefix before each request is handled. It runs outside the
// emulator's lock, so it may call the emulator's methods, for example
// SetConfig just before a configuration PUT. nil removes the hook.
func (e *Emulator) OnRequest(hook func(method, path string)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.hook = hook
}

// newHexID returns the next 32-hex-digit identifier. Callers hold e.mu.
func (e *Emulator) newHexID() string {
	e.nextID++
	n := uint64(e.nextID)
	// Multiplying by two odd constants spreads the counter over all digits
	// while staying unique and deterministic.
	return fmt.Sprintf("%016x%016x", n*0x9e3779b97f4a7c15, n*0xc2b2ae3d27d4eb4f)
}

// newUUID returns the next identifier in UUID version 4 layout. Callers
// hold e.mu.
func (e *Emulator) newUUID() string {
	h := e.newHexID()
	return h[0:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:32]
}

// mustZone returns the zone with id or panics. Callers hold e.mu.
func (e *Emulator) mustZone(id string) *zoneState {
	if z := e.zoneByID(id); z != nil {
		return z
	}
	panic(fmt.Sprintf("emulator: no zone with id %q", id))
}

// mustTunnel returns the tunnel with id or panics. Callers hold e.mu.
func (e *Emulator) mustTunnel(id string) *tunnelState {
	if t := e.tunnelByID(id); t != nil {
		return t
	}
	panic(fmt.Sprintf("emulator: no tunnel with id %q", id))
}

func (e *Emulator) zoneByID(id string) *zoneState {
	for _, z := range e.zones {
		if z.ID == id {
			return z
		}
	}
	return nil
}

func (e *Emulator) tunnelByID(id string) *tunnelState {
	for _, t := range e.tunnels {
		if strings.EqualFold(t.ID, id) {
			return t
		}
	}
	return nil
}

// knownAccount reports whether any zone or tunnel belongs to accountID.
func (e *Emulator) knownAccount(accountID string) bool {
	for _, z := range e.zones {
		if z.AccountID == accountID {
			return true
		}
	}
	for _, t := range e.tunnels {
		if t.AccountID == accountID {
			return true
		}
	}
	return false
}

// storeConfig writes a new configuration version. Callers hold e.mu.
func (e *Emulator) storeConfig(t *tunnelState, config json.RawMessage) {
	t.configVersion++
	t.config = config
	t.configCreatedAt = e.now
}

// sortedRecords returns records ordered by name, type and id.
func sortedRecords(records []*recordState) []*recordState {
	out := slices.Clone(records)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		if a.Type != b.Type {
			return a.Type < b.Type
		}
		return a.ID < b.ID
	})
	return out
}

// formatTime writes a timestamp as the API does: RFC 3339, UTC,
// microseconds.
func formatTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000000Z")
}

var _ http.Handler = (*Emulator)(nil)
