package sync

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/portcullis-dev/portcullis/ingress"
	"github.com/portcullis-dev/portcullis/tunnel"
)

const testMarker = "portcullis:v1 owner=stack"

// savedFixture is a plan that creates new.example.com, updates
// app.example.com and deletes old.example.com, against a live state that
// also holds an untouched owned hostname, an unmanaged rule and a
// revocation.
func savedFixture(t *testing.T) (*Plan, tunnel.State) {
	t.Helper()
	live := apiState(
		[]tunnel.LiveRule{
			rule("cut.example.com", ingress.RevocationPath, ingress.RevocationService),
			rule("app.example.com", "", "http://app:80"),
			rule("keep.example.com", "", "http://keep:80"),
			rule("old.example.com", "", "http://old:80"),
			rule("legacy.example.com", "", "http://legacy:80"),
			catchAll(),
		},
		cname("app.example.com", testMarker),
		cname("keep.example.com", testMarker),
		cname("old.example.com", testMarker),
	)
	p := compute(t, Input{
		Routes: []ingress.Route{
			route("app", "app.example.com", "", "http://app:8080"),
			route("keep", "keep.example.com", "", "http://keep:80"),
			route("new", "new.example.com", "", "http://new:80"),
		},
		Live: live,
	})
	p.Saved = NewSavedPlan(p, live, SavedSettings{Target: "api", AccountID: "acc", OwnerID: testOwner, Policy: PolicySync})
	return p, live
}

func TestTouchedHostnames(t *testing.T) {
	p, _ := savedFixture(t)
	want := []string{"app.example.com", "new.example.com", "old.example.com"}
	if got := TouchedHostnames(p); !slices.Equal(got, want) {
		t.Errorf("TouchedHostnames = %v, want %v", got, want)
	}
}

func TestNewSavedPlanRecordsSettings(t *testing.T) {
	p, live := savedFixture(t)
	s := NewSavedPlan(p, live, SavedSettings{Target: "api", AccountID: "acc", OwnerID: testOwner, Policy: PolicyUpsertOnly, Adopt: []string{"b.example.com", "a.example.com"}})

	if s.TunnelID != testTunnel || s.AccountID != "acc" || s.OwnerID != testOwner || s.Policy != PolicyUpsertOnly || s.Target != "api" {
		t.Errorf("saved identity = %+v", s)
	}
	if !slices.Equal(s.Adopt, []string{"a.example.com", "b.example.com"}) {
		t.Errorf("Adopt = %v, want sorted", s.Adopt)
	}
	var hosts []string
	for _, h := range s.Hostnames {
		hosts = append(hosts, h.Hostname)
		if !strings.HasPrefix(h.Rules, "sha256:") || !strings.HasPrefix(h.DNS, "sha256:") {
			t.Errorf("fingerprint of %s = %+v, want sha256 digests", h.Hostname, h)
		}
	}
	if !slices.Equal(hosts, TouchedHostnames(p)) {
		t.Errorf("fingerprinted hostnames = %v, want the touched ones", hosts)
	}
}

func TestFingerprintHostIgnoresOtherHosts(t *testing.T) {
	_, live := savedFixture(t)
	before := FingerprintHost(live, "app.example.com")

	live.Rules = slices.Insert(slices.Clone(live.Rules), 2, rule("other.example.com", "", "http://other:80"))
	live.Records = append(slices.Clone(live.Records), cname("other.example.com", ""))
	if after := FingerprintHost(live, "APP.example.com."); after != before {
		t.Errorf("fingerprint of app.example.com changed when another hostname was added:\n%+v\n%+v", before, after)
	}
}

func TestCheckSavedPlan(t *testing.T) {
	current := SavedSettings{Target: "api", AccountID: "acc", OwnerID: testOwner, Policy: PolicySync}
	tests := []struct {
		name      string
		change    func(live *tunnel.State, current *SavedSettings)
		wantStale []string
	}{
		{name: "nothing changed", change: func(*tunnel.State, *SavedSettings) {}},
		{name: "unrelated rule added", change: func(live *tunnel.State, _ *SavedSettings) {
			live.Rules = slices.Insert(live.Rules, 1, rule("other.example.com", "", "http://other:80"))
		}},
		{name: "unrelated record changed", change: func(live *tunnel.State, _ *SavedSettings) {
			live.Records[1].Comment = "set by hand"
		}},
		{name: "configuration version moved", change: func(live *tunnel.State, _ *SavedSettings) {
			live.Version += 3
		}},
		{name: "owner unknown to the run", change: func(_ *tunnel.State, current *SavedSettings) {
			current.OwnerID = ""
		}},
		{name: "touched rule changed", change: func(live *tunnel.State, _ *SavedSettings) {
			live.Rules[1].Service = "http://app:81"
		}, wantStale: []string{"ingress rules of app.example.com"}},
		{name: "touched record changed", change: func(live *tunnel.State, _ *SavedSettings) {
			live.Records[2].Comment = ""
		}, wantStale: []string{"DNS records of old.example.com"}},
		{name: "record appeared for a created hostname", change: func(live *tunnel.State, _ *SavedSettings) {
			live.Records = append(live.Records, tunnel.DNSRecord{ID: "a1", Type: "A", Name: "new.example.com", Content: "192.0.2.1"})
		}, wantStale: []string{"DNS records of new.example.com"}},
		{name: "rule appeared for a created hostname", change: func(live *tunnel.State, _ *SavedSettings) {
			live.Rules = slices.Insert(live.Rules, 1, rule("new.example.com", "", "http://elsewhere:80"))
		}, wantStale: []string{"ingress rules of new.example.com"}},
		{name: "revocation removed", change: func(live *tunnel.State, _ *SavedSettings) {
			live.Rules = live.Rules[1:]
		}, wantStale: []string{"revocation rules"}},
		{name: "other tunnel", change: func(live *tunnel.State, _ *SavedSettings) {
			live.TunnelID = "0f0f0f0f-0000-4000-8000-000000000000"
		}, wantStale: []string{"the tunnel"}},
		{name: "other account", change: func(_ *tunnel.State, current *SavedSettings) {
			current.AccountID = "other"
		}, wantStale: []string{"the account"}},
		{name: "other owner", change: func(_ *tunnel.State, current *SavedSettings) {
			current.OwnerID = "someone-else"
		}, wantStale: []string{"the owner id"}},
		{name: "other policy", change: func(_ *tunnel.State, current *SavedSettings) {
			current.Policy = PolicyCreateOnly
		}, wantStale: []string{"the policy"}},
		{name: "exclusive set since", change: func(_ *tunnel.State, current *SavedSettings) {
			current.Exclusive = testTunnel
		}, wantStale: []string{"the exclusive setting"}},
		{name: "two changes", change: func(live *tunnel.State, current *SavedSettings) {
			live.Rules[3].Service = "http://old:81"
			current.OwnerID = "someone-else"
		}, wantStale: []string{"the owner id", "ingress rules of old.example.com"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, live := savedFixture(t)
			live.Rules = slices.Clone(live.Rules)
			live.Records = slices.Clone(live.Records)
			settings := current
			tc.change(&live, &settings)

			err := CheckSavedPlan(p.Saved, live, settings)
			if len(tc.wantStale) == 0 {
				if err != nil {
					t.Fatalf("CheckSavedPlan = %v, want nil", err)
				}
				return
			}
			var stale *StalePlanError
			if !errors.As(err, &stale) || !errors.Is(err, ErrStalePlan) {
				t.Fatalf("CheckSavedPlan = %v, want a *StalePlanError", err)
			}
			if len(stale.Reasons) != len(tc.wantStale) {
				t.Errorf("reasons = %q, want %d", stale.Reasons, len(tc.wantStale))
			}
			for _, want := range tc.wantStale {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not name %q", err, want)
				}
			}
		})
	}
}

func TestRebaseSavedPlanUnchangedState(t *testing.T) {
	p, live := savedFixture(t)
	rebased, err := RebaseSavedPlan(p, live)
	if err != nil {
		t.Fatalf("RebaseSavedPlan: %v", err)
	}
	if got, want := documentHosts(rebased), documentHosts(p); !slices.Equal(got, want) {
		t.Errorf("document = %v, want the saved one %v", got, want)
	}
	for i, d := range rebased.Document {
		if d.LiveIndex != p.Document[i].LiveIndex {
			t.Errorf("document[%d] live index = %d, want %d", i, d.LiveIndex, p.Document[i].LiveIndex)
		}
	}
}

func TestRebaseSavedPlanKeepsUnrelatedChanges(t *testing.T) {
	p, live := savedFixture(t)

	// Since the plan was saved, someone added an unmanaged rule above the
	// others, another run of ours added owned aaa.example.com at the end,
	// and the unrelated keep.example.com changed its origin.
	fresh := live
	fresh.Version = live.Version + 2
	fresh.Rules = []tunnel.LiveRule{
		rule("cut.example.com", ingress.RevocationPath, ingress.RevocationService),
		rule("app.example.com", "", "http://app:80"),
		rule("first.example.com", "", "http://first:80"),
		rule("keep.example.com", "", "http://keep:81"),
		rule("old.example.com", "", "http://old:80"),
		rule("legacy.example.com", "", "http://legacy:80"),
		rule("aaa.example.com", "", "http://aaa:80"),
		catchAll(),
	}
	fresh.Records = append(slices.Clone(live.Records), cname("aaa.example.com", testMarker))
	if err := CheckSavedPlan(p.Saved, fresh, SavedSettings{Target: "api", AccountID: "acc", OwnerID: testOwner, Policy: PolicySync}); err != nil {
		t.Fatalf("CheckSavedPlan: %v", err)
	}

	rebased, err := RebaseSavedPlan(p, fresh)
	if err != nil {
		t.Fatalf("RebaseSavedPlan: %v", err)
	}
	want := []string{
		"revocation:cut.example.com " + ingress.RevocationPath,
		"owned:aaa.example.com",
		"owned:app.example.com",
		"owned:keep.example.com",
		"owned:new.example.com",
		"unmanaged:first.example.com",
		"unmanaged:legacy.example.com",
		"catch-all:",
	}
	if got := documentHosts(rebased); !slices.Equal(got, want) {
		t.Errorf("document = %v, want %v", got, want)
	}

	byHost := map[string]DocumentRule{}
	for _, d := range rebased.Document {
		byHost[d.Rule.Hostname] = d
	}
	checks := []struct {
		host      string
		service   string
		liveIndex int
	}{
		{"aaa.example.com", "http://aaa:80", 6},
		{"app.example.com", "http://app:8080", -1},
		{"keep.example.com", "http://keep:81", 3},
		{"new.example.com", "http://new:80", -1},
		{"first.example.com", "http://first:80", 2},
		{"legacy.example.com", "http://legacy:80", 5},
		{"", "http_status:404", 7},
	}
	for _, c := range checks {
		d := byHost[c.host]
		if d.Rule.Service != c.service {
			t.Errorf("%q service = %q, want %q", c.host, d.Rule.Service, c.service)
		}
		if d.LiveIndex != c.liveIndex {
			t.Errorf("%q live index = %d, want %d", c.host, d.LiveIndex, c.liveIndex)
		}
	}
	if _, ok := byHost["old.example.com"]; ok {
		t.Error("old.example.com is still in the document; the saved plan deletes it")
	}
	if rebased.BaseVersion != fresh.Version {
		t.Errorf("BaseVersion = %d, want the fresh %d", rebased.BaseVersion, fresh.Version)
	}
	if !slices.Equal(changeHosts(rebased.Creates), changeHosts(p.Creates)) || len(rebased.DNS) != len(p.DNS) {
		t.Errorf("rebase changed the plan's changes: creates %v, DNS %d", changeHosts(rebased.Creates), len(rebased.DNS))
	}
	if p.BaseVersion != live.Version || len(p.Document) != 6 {
		t.Errorf("rebase modified the saved plan: base version %d, document %v", p.BaseVersion, documentHosts(p))
	}
}

func TestRebaseSavedPlanKeptTouchedRule(t *testing.T) {
	// The plan adds a path rule to owned app.example.com and keeps its
	// plain rule, which must be written back from its live text.
	live := apiState(
		[]tunnel.LiveRule{rule("app.example.com", "", "http://app:80"), catchAll()},
		cname("app.example.com", testMarker),
	)
	p := compute(t, Input{
		Routes: []ingress.Route{
			route("app", "app.example.com", "", "http://app:80"),
			route("app", "app.example.com", "^(?:/api)", "http://api:80"),
		},
		Live: live,
	})
	p.Saved = NewSavedPlan(p, live, SavedSettings{Target: "api", OwnerID: testOwner, Policy: PolicySync})

	fresh := live
	fresh.Rules = []tunnel.LiveRule{rule("zzz.example.com", "", "http://z:80"), live.Rules[0], live.Rules[1]}
	rebased, err := RebaseSavedPlan(p, fresh)
	if err != nil {
		t.Fatalf("RebaseSavedPlan: %v", err)
	}
	want := []string{"owned:app.example.com ^(?:/api)", "owned:app.example.com", "unmanaged:zzz.example.com", "catch-all:"}
	if got := documentHosts(rebased); !slices.Equal(got, want) {
		t.Fatalf("document = %v, want %v", got, want)
	}
	if got := rebased.Document[1].LiveIndex; got != 1 {
		t.Errorf("kept app.example.com rule has live index %d, want 1 (its index in the fresh state)", got)
	}
	if got := rebased.Document[0].LiveIndex; got != -1 {
		t.Errorf("new path rule has live index %d, want -1", got)
	}
}

func TestRebaseSavedPlanFileTarget(t *testing.T) {
	live := fileState(owned(rule("web.example.com", "", "http://web:80")), catchAll())
	p := compute(t, Input{Routes: []ingress.Route{route("web", "web.example.com", "", "http://web:8080")}, Live: live})
	p.Saved = NewSavedPlan(p, live, SavedSettings{Target: "file", FilePath: "cloudflared/config.yml", OwnerID: testOwner, Policy: PolicySync})

	fresh := fileState(rule("hand.example.com", "", "http://hand:80"), owned(rule("web.example.com", "", "http://web:80")), catchAll())
	fresh.Checksum = "def"
	if err := CheckSavedPlan(p.Saved, fresh, SavedSettings{Target: "file", FilePath: "cloudflared/config.yml", Policy: PolicySync}); err != nil {
		t.Fatalf("CheckSavedPlan: %v", err)
	}
	rebased, err := RebaseSavedPlan(p, fresh)
	if err != nil {
		t.Fatalf("RebaseSavedPlan: %v", err)
	}
	want := []string{"owned:web.example.com", "unmanaged:hand.example.com", "catch-all:"}
	if got := documentHosts(rebased); !slices.Equal(got, want) {
		t.Errorf("document = %v, want %v", got, want)
	}
	if rebased.Document[0].Rule.Service != "http://web:8080" || rebased.BaseChecksum != "def" {
		t.Errorf("rebased plan = service %q, checksum %q", rebased.Document[0].Rule.Service, rebased.BaseChecksum)
	}

	fresh.Rules[1] = rule("web.example.com", "", "http://web:80")
	if err := CheckSavedPlan(p.Saved, fresh, SavedSettings{Target: "file", Policy: PolicySync}); !errors.Is(err, ErrStalePlan) {
		t.Errorf("CheckSavedPlan after the rule lost its marker = %v, want ErrStalePlan", err)
	}
}

func TestRebaseSavedPlanWithoutSavedSection(t *testing.T) {
	p, live := savedFixture(t)
	p.Saved = nil
	if _, err := RebaseSavedPlan(p, live); err == nil {
		t.Error("RebaseSavedPlan without a saved section returned no error")
	}
}

func TestSavedPlanRoundTrip(t *testing.T) {
	p, _ := savedFixture(t)
	document, err := MarshalPlan(p)
	if err != nil {
		t.Fatalf("MarshalPlan: %v", err)
	}
	back, err := UnmarshalPlan(document)
	if err != nil {
		t.Fatalf("UnmarshalPlan: %v", err)
	}
	if back.Saved == nil || back.Saved.Revocations != p.Saved.Revocations || !slices.Equal(back.Saved.Hostnames, p.Saved.Hostnames) {
		t.Errorf("saved section after a round trip = %+v, want %+v", back.Saved, p.Saved)
	}
	if !strings.Contains(string(document), `"saved": {`) {
		t.Errorf("document has no saved section:\n%s", document)
	}
}
