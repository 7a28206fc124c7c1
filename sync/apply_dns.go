package sync

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/portcullis-dev/portcullis/tunnel"
)

// dnsPhase selects the DNS changes of one apply phase: creations and
// updates before the configuration write, deletions after it.
type dnsPhase func(DNSChange) bool

func dnsCreateOrUpdate(c DNSChange) bool { return c.Action != DNSDelete }
func dnsDelete(c DNSChange) bool         { return c.Action == DNSDelete }

// maxBatchRetries bounds the retries of a failed batch chunk.
const maxBatchRetries = 2

// applyDNS sends the plan's DNS changes of one phase in batches of at most
// BatchSize operations per zone. It returns the hostnames whose change did
// not take effect.
//
// A permission error stops the run: it is returned, and no later batch is
// sent.
func (a *Applier) applyDNS(ctx context.Context, p *Plan, live tunnel.State, res *Result, phase dnsPhase) (map[string]bool, error) {
	failed := map[string]bool{}
	byZone := map[string][]DNSChange{}
	for _, c := range p.DNS {
		if phase(c) {
			byZone[c.ZoneID] = append(byZone[c.ZoneID], c)
		}
	}
	size := a.BatchSize
	if size <= 0 {
		size = 200
	}
	for _, zoneID := range sortedKeys(byZone) {
		changes := byZone[zoneID]
		for start := 0; start < len(changes); start += size {
			end := min(start+size, len(changes))
			if err := a.applyChunk(ctx, p, live, zoneID, changes[start:end], res, failed); err != nil {
				return failed, err
			}
		}
	}
	return failed, nil
}

// applyChunk sends one batch. After a failure it lists the zone again,
// counts the changes that are in force anyway, drops those that now
// conflict, and retries the rest, a bounded number of times.
func (a *Applier) applyChunk(ctx context.Context, p *Plan, live tunnel.State, zoneID string, chunk []DNSChange, res *Result, failed map[string]bool) error {
	pending := chunk
	var failures []string
	for attempt := 0; len(pending) > 0; attempt++ {
		_, err := a.DNS.Batch(ctx, zoneID, batchFor(pending))
		if errors.Is(err, tunnel.ErrPermission) {
			return fmt.Errorf("DNS batch in zone %s: %w", pending[0].Zone, err)
		}
		if err == nil {
			countDone(res, pending)
			res.Notes = append(res.Notes, failures...)
			if len(failures) > 0 {
				res.Notes = append(res.Notes, fmt.Sprintf("DNS batch of %d operations in zone %s succeeded on retry %d", len(pending), pending[0].Zone, attempt))
			}
			a.log("DNS batch applied", "zone", pending[0].Zone, "operations", len(pending), "tunnel", live.TunnelID)
			return nil
		}
		failures = append(failures, fmt.Sprintf("DNS batch of %d operations in zone %s failed: %v", len(pending), pending[0].Zone, err))
		if attempt >= maxBatchRetries {
			break
		}
		records, lerr := a.DNS.ListRecords(ctx, tunnel.Zone{ID: zoneID, Name: pending[0].Zone})
		if lerr != nil {
			failures = append(failures, fmt.Sprintf("listing zone %s after the failed batch: %v", pending[0].Zone, lerr))
			break
		}
		var retry []DNSChange
		for _, c := range pending {
			switch state := reclassify(p, live, c, records); state {
			case "done":
				countDone(res, []DNSChange{c})
			case "retry":
				retry = append(retry, c)
			default:
				failed[c.Name] = true
				res.Problems = append(res.Problems, fmt.Sprintf("%s: %s", c.Name, state))
			}
		}
		pending = retry
	}
	res.Problems = append(res.Problems, failures...)
	for _, c := range pending {
		failed[c.Name] = true
		if c.Action == DNSDelete {
			res.Problems = append(res.Problems, fmt.Sprintf("%s: CNAME not deleted; the next apply retries it", c.Name))
			continue
		}
		res.Problems = append(res.Problems, fmt.Sprintf("%s: CNAME %s not made, so its route was not written", c.Name, c.Action))
	}
	return nil
}

// reclassify decides a failed change's fate from a fresh listing: "done"
// when it is in force, "retry" when it may be sent again, or the conflict
// that now blocks it.
func reclassify(p *Plan, live tunnel.State, c DNSChange, records []tunnel.DNSRecord) string {
	var same []tunnel.DNSRecord
	for _, r := range records {
		if strings.EqualFold(strings.TrimSuffix(r.Name, "."), c.Name) {
			same = append(same, r)
		}
	}
	target := tunnel.TunnelTarget(live.TunnelID)
	switch c.Action {
	case DNSDelete:
		for _, r := range same {
			if r.ID == c.RecordID {
				return "retry"
			}
		}
		return "done"
	case DNSCreate:
		for _, r := range same {
			owner, marked := tunnel.ParseMarker(r.Comment)
			if r.Type == "CNAME" && marked && owner == p.OwnerID && strings.EqualFold(strings.TrimSuffix(r.Content, "."), target) {
				return "done"
			}
		}
		if len(same) > 0 {
			return fmt.Sprintf("conflict: a %s record appeared for this name during the run and is not ours; its route was not written", same[0].Type)
		}
		return "retry"
	default:
		for _, r := range same {
			if r.ID == c.RecordID && r.Comment == c.Comment && r.Proxied == c.Proxied {
				return "done"
			}
			if r.ID == c.RecordID {
				return "retry"
			}
		}
		return "conflict: the record to update disappeared during the run"
	}
}

func batchFor(changes []DNSChange) tunnel.DNSBatch {
	var b tunnel.DNSBatch
	for _, c := range changes {
		switch c.Action {
		case DNSDelete:
			b.Deletes = append(b.Deletes, c.RecordID)
		case DNSCreate:
			b.Posts = append(b.Posts, tunnel.DNSRecord{Type: c.Type, Name: c.Name, Content: c.Content, Proxied: c.Proxied, TTL: 1, Comment: c.Comment})
		case DNSUpdate:
			comment, proxied := c.Comment, c.Proxied
			b.Patches = append(b.Patches, tunnel.DNSPatch{ID: c.RecordID, Comment: &comment, Proxied: &proxied})
		}
	}
	return b
}

func countDone(res *Result, changes []DNSChange) {
	for _, c := range changes {
		switch c.Action {
		case DNSCreate:
			res.DNSCreated++
		case DNSUpdate:
			res.DNSUpdated++
		case DNSDelete:
			res.DNSDeleted++
		}
	}
}
