package main

import (
	"fmt"
	"io"
	"strings"

	portsync "github.com/portcullis-dev/portcullis/sync"
	"github.com/portcullis-dev/portcullis/tunnel"
)

// statusRevocations lists the live revocation rules in document order with
// the reason, actor and time of the audit log's last revoke entry for each.
func statusRevocations(live tunnel.State, info map[string]portsync.RevocationInfo) []portsync.Revoked {
	out := []portsync.Revoked{}
	for _, r := range live.Rules {
		if !r.IsRevocation() {
			continue
		}
		k := portsync.RevocationKey(r.Hostname)
		rev := portsync.Revoked{Hostname: k, Reason: "reason unknown"}
		if i, ok := info[k]; ok {
			rev.Actor, rev.Since = i.Actor, i.Since
			if i.Reason != "" {
				rev.Reason = i.Reason
			}
		}
		out = append(out, rev)
	}
	return out
}

// printStatusRevocations prints the revoked hostnames with the reason,
// actor and time of each revocation.
func printStatusRevocations(w io.Writer, revs []portsync.Revoked) {
	if len(revs) == 0 {
		fmt.Fprintln(w, "No revocations.")
		return
	}
	fmt.Fprintf(w, "\nRevoked (%d), traffic cut until portcullis restore:\n", len(revs))
	for _, r := range revs {
		notes := []string{fmt.Sprintf("reason %q", r.Reason)}
		if r.Actor != "" {
			notes = append(notes, "by "+r.Actor)
		}
		if r.Since != "" {
			notes = append(notes, "since "+r.Since)
		}
		fmt.Fprintf(w, "  ! %s (%s)\n", describeKey(r.Hostname), strings.Join(notes, ", "))
	}
}
