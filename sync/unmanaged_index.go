package sync

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// unmanagedIndex narrows the unmanaged rules a route is checked against in
// coverConflict, so the check costs the matching rules per route instead of
// every unmanaged rule.
type unmanagedIndex struct {
	// broad lists, in live order, the unmanaged rules that may cover any
	// hostname: no hostname, a wildcard, or a hostname that is not ASCII
	// (for which lower-casing may not agree with strings.EqualFold).
	broad []int
	// byHost lists the other unmanaged rules by lower-case hostname, in
	// live order.
	byHost map[string][]int
}

func newUnmanagedIndex(hostnames func(i int) string, unmanaged []int) *unmanagedIndex {
	x := &unmanagedIndex{byHost: map[string][]int{}}
	for _, i := range unmanaged {
		h := hostnames(i)
		if h == "" || strings.HasPrefix(h, "*") || !isASCII(h) {
			x.broad = append(x.broad, i)
			continue
		}
		key := strings.ToLower(h)
		x.byHost[key] = append(x.byHost[key], i)
	}
	return x
}

// candidates returns, in live order, the unmanaged rules whose hostname
// could cover host: every rule for a wildcard or non-ASCII host, else the
// broad rules and the rules for host itself.
func (x *unmanagedIndex) candidates(host string, all []int) []int {
	if strings.HasPrefix(host, "*") || !isASCII(host) {
		return all
	}
	same := x.byHost[strings.ToLower(host)]
	switch {
	case len(x.broad) == 0:
		return same
	case len(same) == 0:
		return x.broad
	}
	merged := make([]int, 0, len(x.broad)+len(same))
	merged = append(merged, x.broad...)
	merged = append(merged, same...)
	slices.Sort(merged)
	return merged
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
