package sync

import "fmt"

// Policy says which kinds of change apply may make, as in external-dns.
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
