package sync

import (
	"math/rand"
	"slices"
	"strings"
	"testing"

	"github.com/portcullis-dev/portcullis/ingress"
	"github.com/portcullis-dev/portcullis/tunnel"
)

const (
	testTunnel = "6ff42ae2-765d-4adf-8112-31c55c1551ef"
	testOwner  = "stack"
	testZoneID = "zone-example"
)

func route(service, host, path, origin string) ingress.Route {
	return ingress.Route{Service: service, Hostname: host, Path: path, Origin: origin, DNS: true,
		Source: ingress.Source{File: "compose.yaml", Service: service, Key: "portcullis.hostname"}}
}

func rule(host, path, service string) tunnel.LiveRule {
	return tunnel.LiveRule{Rule: ingress.Rule{Hostname: host, Path: path, Service: service}, Raw: "raw"}
}

func catchAll() tunnel.LiveRule { return rule("", "", "http_status:404") }

func cname(name, comment string) tunnel.DNSRecord {
	return tunnel.DNSRecord{ID: "rec-" + name, ZoneID: testZoneID, ZoneName: "example.com", Type: "CNAME", Name: name,
		Content: tunnel.TunnelTarget(testTunnel), Proxied: true, TTL: 1, Comment: comment}
}

func apiState(rules []tunnel.LiveRule, records ...tunnel.DNSRecord) tunnel.State {
	return tunnel.State{Target: "api", AccountID: "acc", TunnelID: testTunnel, Version: 7, Rules: rules,
		ManagesDNS: true, Zones: []tunnel.Zone{{ID: testZoneID, Name: "example.com"}}, Records: records}
}

func fileState(rules ...tunnel.LiveRule) tunnel.State {
	return tunnel.State{Target: "file", TunnelID: testTunnel, Checksum: "abc", Rules: rules}
}

func owned(r tunnel.LiveRule) tunnel.LiveRule {
	r.Owner = testOwner
	return r
}

func compute(t *testing.T, in Input) *Plan {
	t.Helper()
	if in.OwnerID == "" {
		in.OwnerID = testOwner
	}
	if in.MaxDeletes == 0 {
		in.MaxDeletes = 10
	}
	p, err := Compute(in)
	if err != nil {
		t.Fatalf("Compute: %v", err)
	}
	return p
}

func documentHosts(p *Plan) []string {
	var out []string
	for _, d := range p.Document {
		h := d.Rule.Hostname
		if d.Rule.Path != "" {
			h += " " + d.Rule.Path
		}
		out = append(out, string(d.Kind)+":"+h)
	}
	return out
}

func changeHosts(changes []RouteChange) []string {
	var out []string
	for _, c := range changes {
		out = append(out, c.Hostname+c.Path)
	}
	return out
}

func TestComputeFirstApplyOnAPI(t *testing.T) {
	p := compute(t, Input{
		Routes: []ingress.Route{
			route("web", "www.example.com", "", "http://web:80"),
			route("api", "www.example.com", "^(?:/api)", "http://api:8080"),
			route("wild", "*.example.com", "", "http://wild:80"),
		},
		Live: apiState(nil),
	})
	if got := changeHosts(p.Creates); !slices.Equal(got, []string{"*.example.com", "www.example.com", "www.example.com^(?:/api)"}) {
		t.Errorf("creates = %v", got)
	}
	if len(p.DNS) != 2 {
		t.Fatalf("DNS changes = %d, want 2 (one CNAME per hostname)", len(p.DNS))
	}
	for _, d := range p.DNS {
		if d.Action != DNSCreate || d.Comment != "portcullis:v1 owner=stack" || !d.Proxied || d.Content != testTunnel+".cfargotunnel.com" || d.ZoneID != testZoneID {
			t.Errorf("DNS change = %+v", d)
		}
	}
	want := []string{"owned:www.example.com ^(?:/api)", "owned:www.example.com", "owned:*.example.com", "catch-all:"}
	if got := documentHosts(p); !slices.Equal(got, want) {
		t.Errorf("document = %v, want %v", got, want)
	}
	if !p.HasChanges() {
		t.Error("HasChanges = false, want true")
	}
}

func TestComputeNoChangesAfterApply(t *testing.T) {
	live := apiState(
		[]tunnel.LiveRule{rule("www.example.com", "", "http://web:80"), catchAll()},
		cname("www.example.com", "portcullis:v1 owner=stack"),
	)
	p := compute(t, Input{Routes: []ingress.Route{route("web", "www.example.com", "", "http://web:80")}, Live: live})
	if p.HasChanges() {
		t.Errorf("HasChanges = true; plan: %+v", p)
	}
	for i, d := range p.Document {
		if d.LiveIndex != i {
			t.Errorf("document[%d].LiveIndex = %d, want %d (kept verbatim)", i, d.LiveIndex, i)
		}
	}
}

func TestComputeUnmanagedRuleIsConflict(t *testing.T) {
	live := apiState([]tunnel.LiveRule{rule("www.example.com", "", "http://legacy:80"), catchAll()})
	p := compute(t, Input{Routes: []ingress.Route{
		route("web", "www.example.com", "", "http://web:80"),
		route("blog", "blog.example.com", "", "http://blog:80"),
	}, Live: live})
	if len(p.Conflicts) != 1 || p.Conflicts[0].Hostname != "www.example.com" {
		t.Fatalf("conflicts = %+v, want one for www.example.com", p.Conflicts)
	}
	if got := changeHosts(p.Creates); !slices.Equal(got, []string{"blog.example.com"}) {
		t.Errorf("creates = %v, want the other route still planned", got)
	}
	if len(p.Unmanaged) != 1 || p.Unmanaged[0].Origin != "http://legacy:80" {
		t.Errorf("unmanaged = %+v", p.Unmanaged)
	}
	want := []string{"owned:blog.example.com", "unmanaged:www.example.com", "catch-all:"}
	if got := documentHosts(p); !slices.Equal(got, want) {
		t.Errorf("document = %v, want %v", got, want)
	}
}

func TestComputeDeletesOnlyOwnedHostnames(t *testing.T) {
	live := apiState(
		[]tunnel.LiveRule{rule("old.example.com", "", "http://old:80"), rule("hand.example.com", "", "http://hand:80"), catchAll()},
		cname("old.example.com", "portcullis:v1 owner=stack"),
		cname("hand.example.com", "made by hand"),
	)
	p := compute(t, Input{Live: live})
	if got := changeHosts(p.Deletes); !slices.Equal(got, []string{"old.example.com"}) {
		t.Errorf("deletes = %v", got)
	}
	if len(p.DNS) != 1 || p.DNS[0].Action != DNSDelete || p.DNS[0].Name != "old.example.com" {
		t.Errorf("DNS = %+v, want only the owned CNAME deleted", p.DNS)
	}
	want := []string{"unmanaged:hand.example.com", "catch-all:"}
	if got := documentHosts(p); !slices.Equal(got, want) {
		t.Errorf("document = %v, want %v", got, want)
	}
}

func TestComputeOtherOwnerIsConflict(t *testing.T) {
	live := apiState([]tunnel.LiveRule{rule("app.example.com", "", "http://theirs:80"), catchAll()},
		cname("app.example.com", "portcullis:v1 owner=other"))
	p := compute(t, Input{Routes: []ingress.Route{route("web", "app.example.com", "", "http://web:80")}, Live: live})
	if len(p.Conflicts) != 1 || !strings.Contains(p.Conflicts[0].Reason, `"other"`) {
		t.Errorf("conflicts = %+v, want one naming owner other", p.Conflicts)
	}
	if len(p.Unmanaged) != 1 || p.Unmanaged[0].Owner != "other" {
		t.Errorf("unmanaged = %+v, want the other owner's rule", p.Unmanaged)
	}
	if p.HasChanges() {
		t.Error("HasChanges = true, want false")
	}
}

func TestComputeMarkerParsedExactly(t *testing.T) {
	live := apiState([]tunnel.LiveRule{rule("app.example.com", "", "http://x:80"), catchAll()},
		cname("app.example.com", "portcullis:v1 owner=stack extra"))
	p := compute(t, Input{Live: live})
	if len(p.Deletes) != 0 {
		t.Errorf("deletes = %+v, want none: a marker with trailing text is not ours", p.Deletes)
	}
}

func TestComputeAddressRecordIsConflict(t *testing.T) {
	live := apiState(nil, tunnel.DNSRecord{ID: "a1", ZoneID: testZoneID, ZoneName: "example.com", Type: "A", Name: "app.example.com", Content: "192.0.2.1"})
	p := compute(t, Input{Routes: []ingress.Route{route("web", "app.example.com", "", "http://web:80")}, Live: live})
	if len(p.Conflicts) != 1 || !strings.Contains(p.Conflicts[0].Reason, "A 192.0.2.1") {
		t.Errorf("conflicts = %+v", p.Conflicts)
	}
	if len(p.DNS)+len(p.Creates) != 0 {
		t.Errorf("plan writes despite the conflict: %+v %+v", p.DNS, p.Creates)
	}
}

func TestComputeCNAMEToOtherTargetIsConflict(t *testing.T) {
	rec := cname("app.example.com", "")
	rec.Content = "other-tunnel.cfargotunnel.com"
	p := compute(t, Input{Routes: []ingress.Route{route("web", "app.example.com", "", "http://web:80")}, Live: apiState(nil, rec)})
	if len(p.Conflicts) != 1 {
		t.Errorf("conflicts = %+v, want one", p.Conflicts)
	}
}

func TestComputeOurMarkerOnOtherTargetNeverRepointed(t *testing.T) {
	rec := cname("app.example.com", "portcullis:v1 owner=stack")
	rec.Content = "other-tunnel.cfargotunnel.com"
	p := compute(t, Input{Live: apiState(nil, rec)})
	if len(p.DNS) != 0 {
		t.Errorf("DNS = %+v, want no change to a marked CNAME on another target", p.DNS)
	}
}

func TestComputeDriftOnOwnedHostname(t *testing.T) {
	live := fileState(
		owned(rule("app.example.com", "^(?:/old)", "http://app:80")),
		owned(rule("app.example.com", "", "http://app:80")),
		catchAll(),
	)
	p := compute(t, Input{Routes: []ingress.Route{route("app", "app.example.com", "", "http://app:80")}, Live: live})
	if got := changeHosts(p.Drift); !slices.Equal(got, []string{"app.example.com^(?:/old)"}) {
		t.Errorf("drift = %v", got)
	}
	if len(p.Creates)+len(p.Updates)+len(p.Deletes) != 0 {
		t.Errorf("unexpected changes: %+v", p)
	}
}

func TestComputeUpdateKeepsBeforeAndAfter(t *testing.T) {
	live := fileState(owned(rule("app.example.com", "", "http://app:80")), catchAll())
	p := compute(t, Input{Routes: []ingress.Route{route("app", "app.example.com", "", "http://app:8080")}, Live: live})
	if len(p.Updates) != 1 || p.Updates[0].Before.Service != "http://app:80" || p.Updates[0].After.Service != "http://app:8080" {
		t.Fatalf("updates = %+v", p.Updates)
	}
	if p.Document[0].LiveIndex != -1 || p.Document[0].Rule.Service != "http://app:8080" {
		t.Errorf("document[0] = %+v, want the new rule", p.Document[0])
	}
}

func TestComputeHeldHostnameKept(t *testing.T) {
	live := fileState(owned(rule("lab.example.com", "", "http://lab:80")), catchAll())
	p := compute(t, Input{Held: []ingress.Route{route("lab", "lab.example.com", "", "http://lab:80")}, Live: live})
	if len(p.Deletes) != 0 || len(p.Held) != 1 {
		t.Errorf("deletes = %+v, held = %+v: a held hostname is neither created nor deleted", p.Deletes, p.Held)
	}
	if p.HasChanges() {
		t.Error("HasChanges = true, want false: held items never count")
	}
}

func TestComputePolicies(t *testing.T) {
	live := fileState(
		owned(rule("gone.example.com", "", "http://gone:80")),
		owned(rule("app.example.com", "", "http://app:80")),
		catchAll(),
	)
	routes := []ingress.Route{route("app", "app.example.com", "", "http://app:8080"), route("new", "new.example.com", "", "http://new:80")}
	tests := []struct {
		policy                   Policy
		creates, updates, delete int
		skipped                  int
	}{
		{PolicySync, 1, 1, 1, 0},
		{PolicyUpsertOnly, 1, 1, 0, 1},
		{PolicyCreateOnly, 1, 0, 0, 2},
	}
	for _, tt := range tests {
		t.Run(string(tt.policy), func(t *testing.T) {
			p := compute(t, Input{Routes: routes, Live: live, Policy: tt.policy})
			if len(p.Creates) != tt.creates || len(p.Updates) != tt.updates || len(p.Deletes) != tt.delete || len(p.Skipped) != tt.skipped {
				t.Errorf("creates %d updates %d deletes %d skipped %d", len(p.Creates), len(p.Updates), len(p.Deletes), len(p.Skipped))
			}
			hosts := documentHosts(p)
			if tt.policy != PolicySync && !slices.Contains(hosts, "owned:gone.example.com") {
				t.Errorf("document = %v, want the skipped delete kept", hosts)
			}
			if tt.policy == PolicyCreateOnly && p.Document[0].Rule.Service != "http://app:80" {
				t.Errorf("document[0] = %+v, want the live rule kept by create-only", p.Document[0])
			}
		})
	}
}

func TestComputeMaxDeletes(t *testing.T) {
	var rules []tunnel.LiveRule
	for _, h := range []string{"a", "b", "c"} {
		rules = append(rules, owned(rule(h+".example.com", "", "http://x:80")))
	}
	p := compute(t, Input{Live: fileState(append(rules, catchAll())...), MaxDeletes: 2})
	if !p.DeleteLimitExceeded {
		t.Error("DeleteLimitExceeded = false, want true for 3 deletes over a limit of 2")
	}
}

func TestComputeRevocationsStayFirst(t *testing.T) {
	live := fileState(
		owned(rule("app.example.com", "", "http://app:80")),
		rule("legacy.example.com", "", "http://legacy:80"),
		tunnel.LiveRule{Rule: ingress.RevocationRule("app.example.com"), Raw: "raw"},
		catchAll(),
	)
	p := compute(t, Input{Live: live, Revocations: map[string]RevocationInfo{"app.example.com": {Reason: "leak", Actor: "ops"}}})
	want := []string{"revocation:app.example.com ^(?:/portcullis-revoked)?", "unmanaged:legacy.example.com", "catch-all:"}
	if got := documentHosts(p); !slices.Equal(got, want) {
		t.Errorf("document = %v, want %v", got, want)
	}
	if len(p.Revoked) != 1 || p.Revoked[0].Reason != "leak" {
		t.Errorf("revoked = %+v", p.Revoked)
	}
}

func TestComputeMaintenanceRuleIsNotRevocation(t *testing.T) {
	live := fileState(rule("app.example.com", "", "http_status:503"), catchAll())
	p := compute(t, Input{Live: live})
	if len(p.Revoked) != 0 || len(p.Unmanaged) != 1 {
		t.Errorf("revoked = %+v unmanaged = %+v: a 503 rule without the marker path is ordinary", p.Revoked, p.Unmanaged)
	}
}

type fakeGate map[string]string

func (g fakeGate) CheckOrigin(origin string) (ingress.GateMatch, bool) {
	svc, ok := g[origin]
	return ingress.GateMatch{InternalService: svc, MatchedName: svc}, ok
}

func TestComputeLiveViolationNeutralisedByRevocation(t *testing.T) {
	live := fileState(
		tunnel.LiveRule{Rule: ingress.RevocationRule("db.example.com"), Raw: "raw"},
		rule("db.example.com", "", "http://db:5432"),
		rule("db2.example.com", "", "http://db:5432"),
		catchAll(),
	)
	p := compute(t, Input{Live: live, Gate: fakeGate{"http://db:5432": "db"}})
	if len(p.Violations) != 2 {
		t.Fatalf("violations = %+v, want 2", p.Violations)
	}
	for _, v := range p.Violations {
		if v.Neutralised != (v.Hostname == "db.example.com") {
			t.Errorf("violation %s neutralised = %v", v.Hostname, v.Neutralised)
		}
	}
}

func TestComputeWildcardCoveringUnmanaged(t *testing.T) {
	live := fileState(rule("app.example.com", "", "http://legacy:80"), rule("*.other.com", "", "http://o:80"), catchAll())
	p := compute(t, Input{Live: live, Routes: []ingress.Route{
		route("wild", "*.example.com", "", "http://wild:80"),
		route("api", "x.other.com", "^(?:/api)", "http://api:80"),
	}})
	if len(p.Conflicts) != 1 || p.Conflicts[0].Hostname != "*.example.com" {
		t.Errorf("conflicts = %+v, want the wildcard taking all of app.example.com", p.Conflicts)
	}
	if len(p.Warnings) == 0 || !strings.Contains(p.Warnings[0].Message, "part of the traffic") {
		t.Errorf("warnings = %+v, want a partial-overlap warning", p.Warnings)
	}
}

func TestComputeAdopt(t *testing.T) {
	live := apiState([]tunnel.LiveRule{rule("app.example.com", "", "http://old:80"), catchAll()}, cname("app.example.com", "hand-made"))
	in := Input{Live: live, Routes: []ingress.Route{route("app", "app.example.com", "", "http://app:80")}}
	if p := compute(t, in); len(p.Conflicts) != 1 {
		t.Fatalf("without --adopt: conflicts = %+v, want 1", p.Conflicts)
	}
	in.Adopt = []string{"app.example.com"}
	p := compute(t, in)
	if len(p.Conflicts) != 0 || len(p.Updates) != 1 {
		t.Fatalf("with --adopt: conflicts %+v updates %+v", p.Conflicts, p.Updates)
	}
	if len(p.DNS) != 1 || p.DNS[0].Action != DNSUpdate || p.DNS[0].BeforeComment != "hand-made" {
		t.Errorf("DNS = %+v, want the comment rewritten to our marker", p.DNS)
	}
}

func TestComputeExclusive(t *testing.T) {
	live := apiState([]tunnel.LiveRule{rule("hand.example.com", "", "http://hand:80"), rule("theirs.example.com", "", "http://t:80"), catchAll()},
		cname("theirs.example.com", "portcullis:v1 owner=other"))
	p := compute(t, Input{Live: live, Exclusive: testTunnel})
	if got := changeHosts(p.Deletes); !slices.Equal(got, []string{"hand.example.com"}) {
		t.Errorf("deletes = %v, want the unmarked rule (exclusive) but not the other owner's", got)
	}
	if len(p.DNS) != 0 {
		t.Errorf("DNS = %+v, want no record without our marker touched", p.DNS)
	}
}

func TestComputeHostnameInNoZone(t *testing.T) {
	_, err := Compute(Input{OwnerID: testOwner, Live: apiState(nil), Routes: []ingress.Route{route("web", "app.other.org", "", "http://web:80")}})
	if err == nil || !strings.Contains(err.Error(), "app.other.org") {
		t.Errorf("err = %v, want an error naming the hostname", err)
	}
}

func TestComputeFileTargetListsDNSCommands(t *testing.T) {
	p := compute(t, Input{Live: fileState(), FileTunnel: "pa", Routes: []ingress.Route{route("web", "www.example.com", "", "http://web:80")}})
	if !slices.Equal(p.DNSCommands, []string{"cloudflared tunnel route dns pa www.example.com"}) {
		t.Errorf("DNSCommands = %v", p.DNSCommands)
	}
	if len(p.DNS) != 0 {
		t.Errorf("DNS = %+v, want none on the file target", p.DNS)
	}
}

func TestComputeDeterministic(t *testing.T) {
	var routes []ingress.Route
	for _, h := range []string{"a", "b", "c", "d", "e", "f"} {
		routes = append(routes, route(h, h+".example.com", "", "http://"+h+":80"), route(h, h+".example.com", "^(?:/x)", "http://"+h+":81"))
	}
	live := apiState([]tunnel.LiveRule{rule("z.example.com", "", "http://z:80"), catchAll()})
	first, err := MarshalPlan(compute(t, Input{Routes: routes, Live: live}))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 20; i++ {
		shuffled := slices.Clone(routes)
		rng.Shuffle(len(shuffled), func(a, b int) { shuffled[a], shuffled[b] = shuffled[b], shuffled[a] })
		got, err := MarshalPlan(compute(t, Input{Routes: shuffled, Live: live}))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(first) {
			t.Fatalf("plan differs for shuffled input %d", i)
		}
	}
}

func TestComputeReorderRestoresOrder(t *testing.T) {
	live := fileState(rule("legacy.example.com", "", "http://l:80"), owned(rule("app.example.com", "", "http://app:80")), catchAll())
	p := compute(t, Input{Live: live, Routes: []ingress.Route{route("app", "app.example.com", "", "http://app:80")}})
	if !p.Reorder || !p.HasChanges() {
		t.Errorf("Reorder = %v, want true: owned rules go above unmanaged ones", p.Reorder)
	}
}

func TestComputeTwoOwnersAgreeOnOrder(t *testing.T) {
	live := fileState(
		rule("b.example.com", "", "http://b:80"),
		owned(rule("a.example.com", "", "http://a:80")),
		catchAll(),
	)
	live.Rules[0].Owner = "other"
	p := compute(t, Input{Live: live, Routes: []ingress.Route{route("a", "a.example.com", "", "http://a:80")}})
	if !p.Reorder {
		t.Fatalf("Reorder = false, want the two owners' rules sorted together")
	}
	want := []string{"owned:a.example.com", "unmanaged:b.example.com", "catch-all:"}
	if got := documentHosts(p); !slices.Equal(got, want) {
		t.Errorf("document = %v, want %v", got, want)
	}

	// The other owner, planning against the sorted document, changes nothing.
	sorted := fileState(owned(rule("a.example.com", "", "http://a:80")), rule("b.example.com", "", "http://b:80"), catchAll())
	sorted.Rules[1].Owner = "other"
	other := compute(t, Input{OwnerID: "other", Live: sorted, Routes: []ingress.Route{route("b", "b.example.com", "", "http://b:80")}})
	if other.HasChanges() {
		t.Errorf("the other owner's plan has changes: reorder %v", other.Reorder)
	}
}

func TestComputeRefusedRouteIsNoChange(t *testing.T) {
	routes := []ingress.Route{route("adm", "adm.example.com", "", "http://pg-main:5432"), route("web", "web.example.com", "", "http://web:80")}
	violations := []ingress.Violation{{Service: "adm", Hostname: "adm.example.com", Origin: "http://pg-main:5432", InternalService: "db", MatchedName: "pg-main"}}
	p := compute(t, Input{Live: apiState(nil), Routes: routes, Violations: violations})
	if got := changeHosts(p.Creates); !slices.Equal(got, []string{"web.example.com"}) {
		t.Errorf("creates = %v, want the refused route left out", got)
	}
	for _, d := range p.DNS {
		if d.Name == "adm.example.com" {
			t.Errorf("DNS change planned for the refused route: %+v", d)
		}
	}
	if len(p.Violations) != 1 {
		t.Errorf("violations = %+v, want 1", p.Violations)
	}
}

func TestComputeAdoptWithoutEffectWarns(t *testing.T) {
	live := apiState(nil, cname("theirs.example.com", "portcullis:v1 owner=other"))
	p := compute(t, Input{Live: live, Adopt: []string{"theirs.example.com", "nothing.example.com"}})
	var got []string
	for _, w := range p.Warnings {
		if strings.Contains(w.Message, "--adopt had no effect") {
			got = append(got, w.Hostname)
		}
	}
	if !slices.Equal(got, []string{"nothing.example.com", "theirs.example.com"}) {
		t.Errorf("adopt warnings for %v, want both hostnames; warnings: %+v", got, p.Warnings)
	}
}
