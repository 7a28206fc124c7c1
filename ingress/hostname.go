package ingress

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"golang.org/x/net/idna"
)

// ErrInvalidHostname is the sentinel that every *HostnameError unwraps to.
var ErrInvalidHostname = errors.New("invalid hostname")

// HostnameError reports why a public hostname was rejected and how to write
// it instead.
type HostnameError struct {
	Hostname string
	Reason   string
	Hint     string
}

// Error formats the error as `invalid hostname "H": REASON; HINT`.
func (e *HostnameError) Error() string {
	msg := fmt.Sprintf("invalid hostname %q: %s", e.Hostname, e.Reason)
	if e.Hint != "" {
		msg += "; " + e.Hint
	}
	return msg
}

// Unwrap returns ErrInvalidHostname.
func (e *HostnameError) Unwrap() error { return ErrInvalidHostname }

// Limits from RFC 1035, checked on the punycode form.
const (
	maxLabelLength    = 63
	maxHostnameLength = 253
)

// hostnameProfile converts Unicode names to punycode with the UTS #46 lookup
// mapping (so upper-case letters are folded) and rejects what a DNS hostname
// cannot hold: underscores, spaces, labels that start or end with a hyphen,
// and invalid punycode labels.
var hostnameProfile = idna.New(
	idna.MapForLookup(),
	idna.BidiRule(),
	idna.ValidateLabels(true),
	idna.StrictDomainName(true),
	idna.CheckHyphens(true),
	idna.CheckJoiners(true),
	idna.Transitional(false),
)

// NormalizeHostname returns the canonical form of a public hostname as a
// cloudflared ingress rule and a DNS record name hold it: trimmed,
// lower-case, without a trailing dot and in punycode. A wildcard is allowed
// only as the whole first label ("*.example.com"). Errors are *HostnameError.
func NormalizeHostname(s string) (string, error) {
	host := strings.TrimSpace(s)
	fail := func(reason, hint string) (string, error) {
		return "", &HostnameError{Hostname: host, Reason: reason, Hint: hint}
	}

	if host == "" {
		return fail("empty hostname", "write a name such as app.example.com")
	}
	if i := strings.Index(host, "://"); i >= 0 {
		return fail("contains a scheme", fmt.Sprintf("write only the name %q; the origin scheme is set with the scheme or service label", stripURLParts(host[i+3:])))
	}
	if strings.Contains(host, "/") {
		return fail("contains a path", fmt.Sprintf("write only the name %q and put the path in the path label", stripURLParts(host)))
	}
	if name, _, err := net.SplitHostPort(host); err == nil {
		return fail("contains a port", fmt.Sprintf("write only the name %q; the public side is always port 443 or 80, and the origin port is set with the port label", name))
	}
	if strings.Contains(host, ":") {
		return fail("contains ':'", "a hostname holds only letters, digits, hyphens and dots")
	}

	host = strings.TrimSuffix(strings.ToLower(host), ".")
	wildcard, rest := splitWildcard(host)
	if rest == "*" || host == "*" {
		return fail("a lone wildcard matches every hostname", "name the hostnames, or a wildcard under a zone such as *.example.com")
	}
	if strings.Contains(rest, "*") {
		return fail("misplaced wildcard", "a wildcard may only be the whole first label, as in *.example.com")
	}
	if rest == "" || strings.HasPrefix(rest, ".") || strings.HasSuffix(rest, ".") || strings.Contains(rest, "..") {
		return fail("empty label", "remove the extra dot")
	}
	if _, err := netip.ParseAddr(rest); err == nil {
		return fail("is an IP address", "routes are matched on the Host header, so use a DNS name")
	}

	ascii, err := hostnameProfile.ToASCII(rest)
	if err != nil {
		return fail(fmt.Sprintf("not a valid DNS name (%v)", err), "use letters, digits and hyphens; Unicode names are converted to punycode")
	}
	if err := checkHostnameLengths(ascii, wildcard); err != nil {
		return fail(err.Error(), "shorten the name")
	}
	if !strings.Contains(ascii, ".") {
		return fail("has a single label", "use a full name in a zone, such as app.example.com")
	}

	if wildcard {
		return "*." + ascii, nil
	}
	return ascii, nil
}

// splitWildcard reports whether host starts with the wildcard label "*." and
// returns the name without it.
func splitWildcard(host string) (bool, string) {
	if rest, ok := strings.CutPrefix(host, "*."); ok {
		return true, rest
	}
	return false, host
}

func checkHostnameLengths(ascii string, wildcard bool) error {
	for label := range strings.SplitSeq(ascii, ".") {
		if len(label) > maxLabelLength {
			return fmt.Errorf("label %q is %d characters long, more than %d", label, len(label), maxLabelLength)
		}
	}
	total := len(ascii)
	if wildcard {
		total += len("*.")
	}
	if total > maxHostnameLength {
		return fmt.Errorf("name is %d characters long, more than %d", total, maxHostnameLength)
	}
	return nil
}

// stripURLParts cuts a path and port from a URL-like text, for hints.
func stripURLParts(s string) string {
	s, _, _ = strings.Cut(s, "/")
	if name, _, err := net.SplitHostPort(s); err == nil {
		return name
	}
	return s
}

// normalizeZone normalises a zone name like a hostname and rejects a
// wildcard.
func normalizeZone(s string) (string, error) {
	zone, err := NormalizeHostname(s)
	if err != nil {
		return "", err
	}
	if strings.HasPrefix(zone, "*.") {
		return "", &HostnameError{Hostname: strings.TrimSpace(s), Reason: "a zone cannot be a wildcard", Hint: "name the zone itself, such as example.com"}
	}
	return zone, nil
}

// hostInZone reports whether host (possibly a wildcard) is zone or a name under it.
func hostInZone(host, zone string) bool {
	return host == zone || strings.HasSuffix(host, "."+zone)
}
