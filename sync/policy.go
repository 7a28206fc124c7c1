package sync

import "fmt"

// Policy is the set of change kinds apply may make, as in external-dns.
type Policy string

// Policies.
const (
	// PolicySync creates, updates and deletes owned routes.
	PolicySync Policy = "sync"
	// PolicyUpsertOnly creates and updates but never deletes.
	PolicyUpsertOnly Policy = "upsert-only"
	// PolicyCreateOnly only creates.
	PolicyCreateOnly Policy = "create-only"
)

// ParsePolicy returns the policy named s.
func ParsePolicy(s string) (Policy, error) {
	switch p := Policy(s); p {
	case PolicySync, PolicyUpsertOnly, PolicyCreateOnly:
		return p, nil
	case "":
		return PolicySync, nil
	}
	return "", fmt.Errorf("invalid policy %q: use sync, upsert-only or create-only", s)
}

// applyPolicy moves the changes the policy does not allow to Skipped and
// keeps the live rules they would have changed.
func applyPolicy(p *Plan, policy Policy, ch *changeSet) {
	if policy != PolicyUpsertOnly && policy != PolicyCreateOnly {
		return
	}
	reason := "policy " + string(policy) + " never deletes"
	for _, c := range p.Deletes {
		p.Skipped = append(p.Skipped, Skipped{Action: "delete", Hostname: c.Hostname, Path: c.Path, Reason: reason})
	}
	for _, c := range p.Drift {
		p.Skipped = append(p.Skipped, Skipped{Action: "revert drift", Hostname: c.Hostname, Path: c.Path, Reason: reason})
	}
	p.Deletes, p.Drift = nil, nil
	for _, r := range ch.removed {
		ch.keep[r.index] = true
	}
	ch.removed = nil

	var dns []DNSChange
	for _, d := range p.DNS {
		switch {
		case d.Action == DNSDelete:
			p.Skipped = append(p.Skipped, Skipped{Action: "delete CNAME", Hostname: d.Name, Reason: reason})
		case d.Action == DNSUpdate && policy == PolicyCreateOnly && d.BeforeComment == d.Comment:
			p.Skipped = append(p.Skipped, Skipped{Action: "update CNAME", Hostname: d.Name, Reason: "policy create-only never updates"})
		default:
			dns = append(dns, d)
		}
	}
	p.DNS = dns

	if policy != PolicyCreateOnly {
		return
	}
	for _, c := range p.Updates {
		p.Skipped = append(p.Skipped, Skipped{Action: "update", Hostname: c.Hostname, Path: c.Path, Reason: "policy create-only never updates"})
	}
	p.Updates = nil
	var added []addedRule
	for _, a := range ch.added {
		if a.replaces >= 0 {
			ch.keep[a.replaces] = true
			continue
		}
		added = append(added, a)
	}
	ch.added = added
}
