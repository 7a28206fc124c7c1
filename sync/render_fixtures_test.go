package sync

import (
	"time"

	"github.com/portcullis-dev/portcullis/ingress"
)

// Plans rendered by the golden tests. The tunnel id, owner ids and hostnames
// are made up.

const (
	fixtureTunnelID = "6f0c2b1e-4d3a-4c5b-9e8f-0a1b2c3d4e5f"
	fixtureTarget   = "6f0c2b1e-4d3a-4c5b-9e8f-0a1b2c3d4e5f.cfargotunnel.com"
	fixtureMarker   = "portcullis:v1 owner=pa-ecosystem"
)

// renderCases lists the golden cases by name. Each has the golden files
// testdata/render/<name>.txt and <name>.json.
var renderCases = []struct {
	name string
	plan func() *Plan
}{
	{"empty", emptyPlan},
	{"changes", changesPlan},
	{"held", heldPlan},
	{"skipped", skippedPlan},
	{"unmanaged", unmanagedPlan},
	{"revoked", revokedPlan},
	{"conflicts", conflictsPlan},
	{"violations", violationsPlan},
	{"warnings", warningsPlan},
	{"dns_commands", dnsCommandsPlan},
	{"delete_limit", deleteLimitPlan},
	{"full", fullPlan},
}

func goldenBasePlan() *Plan {
	return &Plan{
		FormatVersion: FormatVersion,
		Target:        "api",
		AccountID:     "0123456789abcdef0123456789abcdef",
		TunnelID:      fixtureTunnelID,
		OwnerID:       "pa-ecosystem",
		Policy:        PolicySync,
		BaseVersion:   41,
	}
}

func emptyPlan() *Plan {
	p := goldenBasePlan()
	p.Document = []DocumentRule{
		{Kind: KindOwned, Rule: ingress.Rule{Hostname: "n8n.example.com", Service: "http://n8n:5678"}, LiveIndex: 0},
		{Kind: KindCatchAll, Rule: ingress.Rule{Service: ingress.DefaultCatchAll}, LiveIndex: 1},
	}
	return p
}

func goldenRulePointer(r ingress.Rule) *ingress.Rule {
	return &r
}

func goldenCreate(hostname, path, service string, origin ingress.OriginRequest) RouteChange {
	return RouteChange{
		Hostname: hostname,
		Path:     path,
		Service:  service,
		After:    goldenRulePointer(ingress.Rule{Hostname: hostname, Path: path, Service: service, OriginRequest: origin}),
	}
}

func goldenDelete(hostname, path, service string) RouteChange {
	return RouteChange{
		Hostname: hostname,
		Path:     path,
		Service:  service,
		Before:   goldenRulePointer(ingress.Rule{Hostname: hostname, Path: path, Service: service}),
	}
}

func changesPlan() *Plan {
	p := goldenBasePlan()
	p.Creates = []RouteChange{
		goldenCreate("n8n.example.com", "", "http://n8n:5678", nil),
		goldenCreate("api.example.com", "^(?:/v1)", "https://api:8443", ingress.OriginRequest{
			"connectTimeout":   30 * time.Second,
			"noTLSVerify":      true,
			"originServerName": "api.internal",
			"access": ingress.OriginRequest{
				"required": true,
				"teamName": "example-team",
				"audTag":   []string{"aud-one", "aud-two"},
			},
		}),
	}
	p.Updates = []RouteChange{{
		Hostname: "app.example.com",
		Service:  "http://app:8080",
		Before: goldenRulePointer(ingress.Rule{Hostname: "app.example.com", Service: "http://app:80", OriginRequest: ingress.OriginRequest{
			"connectTimeout": 10 * time.Second,
			"httpHostHeader": "old.example.com",
		}}),
		After: goldenRulePointer(ingress.Rule{Hostname: "app.example.com", Service: "http://app:8080", OriginRequest: ingress.OriginRequest{
			"connectTimeout": 90 * time.Second,
			"noTLSVerify":    true,
		}}),
	}}
	p.Deletes = []RouteChange{goldenDelete("old.example.com", "", "http://old:80")}
	p.Drift = []RouteChange{goldenDelete("n8n.example.com", "^(?:/debug)", "http://n8n:9999")}
	p.DNS = []DNSChange{
		{Action: DNSCreate, ZoneID: "zone-1", Zone: "example.com", Name: "n8n.example.com", Type: "CNAME", Content: fixtureTarget, Proxied: true, Comment: fixtureMarker},
		{Action: DNSDelete, ZoneID: "zone-1", Zone: "example.com", RecordID: "rec-old", Name: "old.example.com", Type: "CNAME", Content: fixtureTarget, Proxied: true, Comment: fixtureMarker},
		{Action: DNSUpdate, ZoneID: "zone-1", Zone: "example.com", RecordID: "rec-app", Name: "app.example.com", Type: "CNAME", Content: fixtureTarget, Proxied: true, Comment: fixtureMarker, BeforeComment: "set up by hand"},
		{Action: DNSUpdate, ZoneID: "zone-2", Zone: "example.org", RecordID: "rec-wiki", Name: "wiki.example.org", Type: "CNAME", Content: fixtureTarget, Proxied: true, Comment: fixtureMarker},
	}
	return p
}

func heldPlan() *Plan {
	p := goldenBasePlan()
	p.Held = []Held{
		{Hostname: "worker.example.com", Service: "worker", Reason: `service is in the inactive profile "batch"`},
		{Hostname: "reports.example.com", Service: "reports", Reason: `service is in the inactive profile "batch"`},
	}
	return p
}

func skippedPlan() *Plan {
	p := goldenBasePlan()
	p.Policy = PolicyUpsertOnly
	p.Skipped = []Skipped{
		{Action: "delete", Hostname: "old.example.com", Reason: "policy upsert-only never deletes"},
		{Action: "delete", Hostname: "legacy.example.com", Path: "^(?:/api)", Reason: "policy upsert-only never deletes"},
	}
	return p
}

func unmanagedPlan() *Plan {
	p := goldenBasePlan()
	p.Unmanaged = []Unmanaged{
		{Hostname: "zeta.example.com", Origin: "http://zeta:80"},
		{Hostname: "alpha.example.com", Path: "^/admin", Origin: "http://alpha:9000", Owner: "other-stack"},
		{Origin: "hello_world", Path: "^/hello"},
	}
	return p
}

func revokedPlan() *Plan {
	p := goldenBasePlan()
	p.Revoked = []Revoked{
		{Hostname: "n8n.example.com", Reason: "leaked webhook secret", Actor: "alice", Since: "2025-03-01T12:00:00Z"},
		{Hostname: "", Reason: "incident 7", Actor: "bob"},
		{Hostname: "grafana.example.com"},
	}
	return p
}

func conflictsPlan() *Plan {
	p := goldenBasePlan()
	p.Creates = []RouteChange{goldenCreate("n8n.example.com", "", "http://n8n:5678", nil)}
	p.DNS = []DNSChange{
		{Action: DNSCreate, ZoneID: "zone-1", Zone: "example.com", Name: "n8n.example.com", Type: "CNAME", Content: fixtureTarget, Proxied: true, Comment: fixtureMarker},
	}
	p.Conflicts = []Conflict{
		{Hostname: "shop.example.com", Service: "shop", Reason: "an A record holds the hostname: remove it, or drop the label"},
		{Hostname: "blog.example.com", Path: "^(?:/admin)", Service: "blog", Reason: "the CNAME carries the marker of owner other-stack"},
	}
	return p
}

func violationsPlan() *Plan {
	p := goldenBasePlan()
	p.Violations = []Violation{
		{Hostname: "db.example.com", Origin: "http://supabase-db:5432", InternalService: "supabase-db", MatchedName: "supabase-db", Live: true},
		{Hostname: "n8n.example.com", Path: "^(?:/db)", Origin: "tcp://pgdb:5432", Service: "n8n", InternalService: "supabase-db", MatchedName: "pgdb", File: "compose.yaml", Line: 12},
		{Hostname: "old-db.example.com", Origin: "tcp://172.20.0.5:5432", InternalService: "supabase-db", MatchedName: "172.20.0.5", Live: true, Neutralised: true},
		{Hostname: "kv.example.com", Origin: "http://cache:6379", Service: "gateway", InternalService: "redis", MatchedName: "cache", File: "compose.override.yaml"},
	}
	return p
}

func warningsPlan() *Plan {
	p := goldenBasePlan()
	p.Warnings = []Warning{
		{Hostname: "*.apps.example.com", Service: "apps", Message: "cloudflared matches a wildcard at any depth, but Universal SSL certificates cover one level"},
		{Hostname: "api.example.com", Service: "api", Message: `path "/v1/*" is a regular expression, not a glob: use "^/v1(/|$)"`},
		{Message: "the file target manages no DNS, so portcullis.dns labels are ignored"},
	}
	return p
}

func dnsCommandsPlan() *Plan {
	p := goldenBasePlan()
	p.Target = "file"
	p.AccountID = ""
	p.BaseVersion = 0
	p.BaseChecksum = "sha256:9f2c0d8e6b4a1357"
	p.Creates = []RouteChange{
		goldenCreate("n8n.example.com", "", "http://n8n:5678", nil),
		goldenCreate("grafana.example.com", "", "http://grafana:3000", ingress.OriginRequest{"keepAliveTimeout": 90 * time.Second}),
	}
	p.DNSCommands = []string{
		"cloudflared tunnel route dns " + fixtureTunnelID + " n8n.example.com",
		"cloudflared tunnel route dns " + fixtureTunnelID + " grafana.example.com",
	}
	return p
}

func deleteLimitPlan() *Plan {
	p := goldenBasePlan()
	p.DeleteLimitExceeded = true
	p.Deletes = []RouteChange{
		goldenDelete("a.example.com", "", "http://a:80"),
		goldenDelete("b.example.com", "", "http://b:80"),
		goldenDelete("c.example.com", "", "http://c:80"),
	}
	return p
}

// fullPlan fills every field of the plan, so the field-name test covers
// every JSON key, and puts items whose sort keys tie in each bucket, so the
// determinism test exercises the tie-breaks.
func fullPlan() *Plan {
	p := changesPlan()
	p.BaseChecksum = "sha256:0000"
	p.DNSCommands = []string{"cloudflared tunnel route dns " + fixtureTunnelID + " n8n.example.com"}
	p.DeleteLimitExceeded = true

	p.Creates = append(p.Creates,
		goldenCreate("n8n.example.com", "", "http://n8n:5679", nil),
		goldenCreate("*.example.com", "", "http://catch:80", nil),
	)
	p.Updates = append(p.Updates, RouteChange{
		Hostname: "app.example.com",
		Service:  "http://app:8080",
		Before:   goldenRulePointer(ingress.Rule{Hostname: "app.example.com", Service: "http://app:81"}),
		After:    goldenRulePointer(ingress.Rule{Hostname: "app.example.com", Service: "http://app:8080"}),
	})

	p.Held = heldPlan().Held
	p.Skipped = append(skippedPlan().Skipped, Skipped{Action: "update", Hostname: "old.example.com", Reason: "policy create-only never updates"})
	p.Unmanaged = unmanagedPlan().Unmanaged
	p.Revoked = revokedPlan().Revoked
	p.Conflicts = conflictsPlan().Conflicts
	p.Violations = append(violationsPlan().Violations, Violation{
		Hostname: "n8n.example.com", Path: "^(?:/db)", Origin: "tcp://pgdb:5432", Service: "n8n",
		InternalService: "supabase-db", MatchedName: "supabase-db", File: "compose.yaml", Line: 12,
	})
	p.Warnings = warningsPlan().Warnings

	p.Document = []DocumentRule{
		{Kind: KindRevocation, Rule: ingress.RevocationRule(""), LiveIndex: 0},
		{Kind: KindOwned, Rule: ingress.Rule{Hostname: "api.example.com", Path: "^(?:/v1)", Service: "https://api:8443", OriginRequest: ingress.OriginRequest{"noTLSVerify": true}}, LiveIndex: -1},
		{Kind: KindUnmanaged, Rule: ingress.Rule{Hostname: "zeta.example.com", Service: "http://zeta:80"}, LiveIndex: 1},
		{Kind: KindCatchAll, Rule: ingress.Rule{Service: ingress.DefaultCatchAll}, LiveIndex: 2},
	}
	return p
}
