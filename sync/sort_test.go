package sync

import (
	"reflect"
	"slices"
	"testing"

	"github.com/portcullis-dev/portcullis/ingress"
)

// TestPlanSortOrder lists each bucket in its expected order, reverses it,
// sorts the plan and compares.
func TestPlanSortOrder(t *testing.T) {
	tests := []struct {
		name string
		want *Plan
	}{
		{name: "creates by hostname then path", want: &Plan{Creates: []RouteChange{
			{Hostname: "*.example.com"},
			{Hostname: "a.example.com"},
			{Hostname: "a.example.com", Path: "^(?:/api)"},
			{Hostname: "a.example.com", Path: "^(?:/api)", Service: "http://a:81"},
			{Hostname: "b.example.com"},
		}}},
		{name: "updates tie broken by rules", want: &Plan{Updates: []RouteChange{
			{Hostname: "a.example.com", Service: "http://a:80", Before: goldenRulePointer(ingress.Rule{Service: "http://a:79"})},
			// Canonical JSON `{"noTLSVerify":true}` sorts before `{}`.
			{Hostname: "a.example.com", Service: "http://a:80", Before: goldenRulePointer(ingress.Rule{Service: "http://a:81", OriginRequest: ingress.OriginRequest{"noTLSVerify": true}}), After: goldenRulePointer(ingress.Rule{})},
			{Hostname: "a.example.com", Service: "http://a:80", Before: goldenRulePointer(ingress.Rule{Service: "http://a:81"})},
		}}},
		{name: "deletes nil rule first", want: &Plan{Deletes: []RouteChange{
			{Hostname: "a.example.com"},
			{Hostname: "a.example.com", Before: goldenRulePointer(ingress.Rule{Service: "http://a:80"})},
		}}},
		{name: "drift", want: &Plan{Drift: []RouteChange{
			{Hostname: "a.example.com", Path: "^/x"},
			{Hostname: "a.example.com", Path: "^/y"},
		}}},
		{name: "dns by zone name type action", want: &Plan{DNS: []DNSChange{
			{Zone: "example.com", Name: "a.example.com", Type: "CNAME", Action: DNSCreate},
			{Zone: "example.com", Name: "a.example.com", Type: "CNAME", Action: DNSDelete},
			{Zone: "example.com", Name: "a.example.com", Type: "TXT", Action: DNSCreate},
			{Zone: "example.com", Name: "b.example.com", Type: "CNAME", Action: DNSCreate},
			{Zone: "example.org", Name: "a.example.org", Type: "CNAME", Action: DNSUpdate},
		}}},
		{name: "held by hostname service", want: &Plan{Held: []Held{
			{Hostname: "a.example.com", Service: "api"},
			{Hostname: "a.example.com", Service: "web"},
			{Hostname: "b.example.com", Service: "api"},
		}}},
		{name: "skipped by hostname path action", want: &Plan{Skipped: []Skipped{
			{Hostname: "a.example.com", Action: "delete"},
			{Hostname: "a.example.com", Action: "update"},
			{Hostname: "a.example.com", Path: "^/x", Action: "create"},
			{Hostname: "b.example.com", Action: "create"},
		}}},
		{name: "revoked all hostnames first", want: &Plan{Revoked: []Revoked{
			{Hostname: ""},
			{Hostname: "a.example.com"},
			{Hostname: "b.example.com"},
		}}},
		{name: "conflicts by hostname path service", want: &Plan{Conflicts: []Conflict{
			{Hostname: "a.example.com", Service: "api"},
			{Hostname: "a.example.com", Service: "web"},
			{Hostname: "a.example.com", Path: "^/x", Service: "api"},
			{Hostname: "b.example.com"},
		}}},
		{name: "violations desired before live", want: &Plan{Violations: []Violation{
			{File: "a.yaml", Line: 2, Service: "z"},
			{File: "a.yaml", Line: 10, Service: "a"},
			{File: "b.yaml", Line: 1, Service: "a", Hostname: "a.example.com"},
			{File: "b.yaml", Line: 1, Service: "a", Hostname: "b.example.com"},
			{File: "b.yaml", Line: 1, Service: "a", Hostname: "b.example.com", Path: "^/x"},
			{Live: true, Hostname: "a.example.com"},
			{Live: true, Hostname: "a.example.com", Neutralised: true},
		}}},
		{name: "warnings by service hostname message", want: &Plan{Warnings: []Warning{
			{Message: "file target"},
			{Service: "api", Hostname: "a.example.com", Message: "one"},
			{Service: "api", Hostname: "a.example.com", Message: "two"},
			{Service: "api", Hostname: "b.example.com", Message: "one"},
			{Service: "web", Hostname: "a.example.com", Message: "one"},
		}}},
		{name: "dns commands", want: &Plan{DNSCommands: []string{
			"cloudflared tunnel route dns t a.example.com",
			"cloudflared tunnel route dns t b.example.com",
		}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := reversedPlanBuckets(tc.want)
			got.Sort()
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Sort order:\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func reversedPlanBuckets(p *Plan) *Plan {
	r := *p
	r.Creates = reversedItems(p.Creates)
	r.Updates = reversedItems(p.Updates)
	r.Deletes = reversedItems(p.Deletes)
	r.Drift = reversedItems(p.Drift)
	r.DNS = reversedItems(p.DNS)
	r.Held = reversedItems(p.Held)
	r.Skipped = reversedItems(p.Skipped)
	r.Unmanaged = reversedItems(p.Unmanaged)
	r.Revoked = reversedItems(p.Revoked)
	r.Conflicts = reversedItems(p.Conflicts)
	r.Violations = reversedItems(p.Violations)
	r.Warnings = reversedItems(p.Warnings)
	r.DNSCommands = reversedItems(p.DNSCommands)
	r.Document = reversedItems(p.Document)
	return &r
}

func reversedItems[T any](items []T) []T {
	if items == nil {
		return nil
	}
	out := slices.Clone(items)
	slices.Reverse(out)
	return out
}

func TestPlanSortKeepsLiveOrder(t *testing.T) {
	unmanaged := []Unmanaged{
		{Hostname: "z.example.com", Origin: "http://z:80"},
		{Hostname: "a.example.com", Origin: "http://a:80"},
	}
	document := []DocumentRule{
		{Kind: KindUnmanaged, Rule: ingress.Rule{Hostname: "z.example.com", Service: "http://z:80"}},
		{Kind: KindOwned, Rule: ingress.Rule{Hostname: "a.example.com", Service: "http://a:80"}},
	}
	p := &Plan{Unmanaged: slices.Clone(unmanaged), Document: slices.Clone(document)}

	p.Sort()

	if !reflect.DeepEqual(p.Unmanaged, unmanaged) {
		t.Errorf("Sort reordered Unmanaged: %+v", p.Unmanaged)
	}
	if !reflect.DeepEqual(p.Document, document) {
		t.Errorf("Sort reordered Document: %+v", p.Document)
	}
}
