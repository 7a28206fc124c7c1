package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/portcullis-dev/portcullis/tunnel"
)

// checkRevokedDNS checks, after the cut, that each revoked hostname's DNS
// points at this tunnel, because a revocation has no effect on traffic that
// reaches the hostname another way. It costs one zone listing and one
// record listing per zone involved. It returns a problem for each hostname
// whose record points elsewhere. A check that cannot run is only a warning,
// because the cut itself is confirmed.
func checkRevokedDNS(ctx context.Context, g *globalOptions, api *tunnel.API, tunnelID string, keys []string) []string {
	zones, err := api.ListZones(ctx)
	if err != nil {
		fmt.Fprintf(g.streams.ErrOut, "warning: DNS check skipped, the zones could not be listed: %v\n", err)
		return nil
	}
	want := tunnel.TunnelTarget(tunnelID)
	records := map[string][]tunnel.DNSRecord{}
	var problems []string
	for _, host := range keys {
		zone, ok := zoneOfHost(zones, host)
		if !ok {
			problems = append(problems, fmt.Sprintf("no zone of the account holds %s, so whether its DNS points at this tunnel could not be checked; check where it points by hand", host))
			continue
		}
		recs, listed := records[zone.ID]
		if !listed {
			if recs, err = api.ListRecords(ctx, zone); err != nil {
				fmt.Fprintf(g.streams.ErrOut, "warning: DNS check of %s skipped: %v\n", host, err)
				continue
			}
			records[zone.ID] = recs
		}
		if p := describeHostDNS(g, host, recs, want); p != "" {
			problems = append(problems, p)
		}
	}
	return problems
}

// describeHostDNS prints where host's DNS points and returns a problem when
// it is not this tunnel.
func describeHostDNS(g *globalOptions, host string, recs []tunnel.DNSRecord, want string) string {
	found := recordsNamed(recs, host)
	via := host
	if len(found) == 0 && !strings.HasPrefix(host, "*.") {
		if _, parent, ok := strings.Cut(host, "."); ok {
			via = "*." + parent
			found = recordsNamed(recs, via)
		}
	}
	if len(found) == 0 {
		fmt.Fprintf(g.streams.Out, "DNS: %s has no record, so no traffic reaches it through the tunnel now; a record added later will be cut too.\n", host)
		return ""
	}
	for _, r := range found {
		if r.Type == "CNAME" && strings.EqualFold(strings.TrimSuffix(r.Content, "."), want) {
			continue
		}
		return fmt.Sprintf("%s: DNS record %s %s %s does not point at this tunnel (%s), so the revocation has no effect on its traffic; remove or change that record", host, via, r.Type, r.Content, want)
	}
	fmt.Fprintf(g.streams.Out, "DNS: %s points at this tunnel (CNAME %s to %s).\n", host, via, want)
	return ""
}

func recordsNamed(recs []tunnel.DNSRecord, name string) []tunnel.DNSRecord {
	var out []tunnel.DNSRecord
	for _, r := range recs {
		if !strings.EqualFold(strings.TrimSuffix(r.Name, "."), name) {
			continue
		}
		switch r.Type {
		case "A", "AAAA", "CNAME":
			out = append(out, r)
		}
	}
	return out
}

// zoneOfHost returns the zone with the longest name that holds host.
func zoneOfHost(zones []tunnel.Zone, host string) (tunnel.Zone, bool) {
	name := strings.TrimPrefix(host, "*.")
	var best tunnel.Zone
	found := false
	for _, z := range zones {
		zn := strings.ToLower(z.Name)
		if (name == zn || strings.HasSuffix(name, "."+zn)) && len(zn) > len(best.Name) {
			best, found = z, true
		}
	}
	return best, found
}
