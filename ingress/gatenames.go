package ingress

import (
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// gateOriginKind classifies a cloudflared service string for the gate.
type gateOriginKind int

const (
	// gateOriginNone reaches no compose service: http_status:, hello_world,
	// unix:, unix+tls: and strings that are not URLs.
	gateOriginNone gateOriginKind = iota
	// gateOriginAnyHost lets the client pick the destination (bastion,
	// socks-proxy), so it may reach every service.
	gateOriginAnyHost
	// gateOriginHost is a URL with a host (possibly empty, which dials the
	// local system).
	gateOriginHost
)

// gateOrigin is the kind, host and port of a cloudflared service string.
type gateOrigin struct {
	kind gateOriginKind
	host string
	// port is the URL port or the scheme default. Zero means unknown, which
	// the gate treats as every port.
	port int
}

// schemeDefaultPorts holds the ports cloudflared dials when a service URL
// gives none. A scheme missing here (tcp) has no default.
var schemeDefaultPorts = map[string]int{
	"http":  80,
	"ws":    80,
	"https": 443,
	"wss":   443,
	"ssh":   22,
	"rdp":   3389,
	"smb":   445,
}

// parseGateOrigin reads the host and port of a cloudflared service string.
// It never fails: an origin whose URL does not parse still has its
// authority read by hand, because the gate must not pass what it cannot read.
func parseGateOrigin(origin string) gateOrigin {
	s := strings.TrimSpace(origin)
	lower := strings.ToLower(s)
	if lower == "bastion" || lower == "socks-proxy" {
		return gateOrigin{kind: gateOriginAnyHost}
	}

	scheme, rest, ok := strings.Cut(lower, "://")
	if !ok || scheme == "unix" || scheme == "unix+tls" {
		return gateOrigin{kind: gateOriginNone}
	}

	host, portText := splitOriginAuthority(s, rest)
	port := schemeDefaultPorts[scheme]
	if portText != "" {
		n, err := strconv.Atoi(portText)
		if err != nil || n < 1 || n > 65535 {
			n = 0
		}
		port = n
	}
	return gateOrigin{kind: gateOriginHost, host: host, port: port}
}

// splitOriginAuthority returns the host and port text of a URL origin,
// through net/url when it parses and by hand otherwise.
func splitOriginAuthority(origin, afterScheme string) (host, port string) {
	if u, err := url.Parse(origin); err == nil {
		return u.Hostname(), u.Port()
	}

	authority := afterScheme
	if i := strings.IndexAny(authority, "/?#"); i >= 0 {
		authority = authority[:i]
	}
	if i := strings.LastIndex(authority, "@"); i >= 0 {
		authority = authority[i+1:]
	}
	authority = strings.TrimSpace(authority)
	if strings.HasPrefix(authority, "[") {
		end := strings.Index(authority, "]")
		if end < 0 {
			return authority[1:], ""
		}
		return authority[1:end], strings.TrimPrefix(authority[end+1:], ":")
	}
	if strings.Count(authority, ":") == 1 {
		host, port, _ = strings.Cut(authority, ":")
		return host, strings.TrimSpace(port)
	}
	return authority, ""
}

// gateHost is a normalised origin host: the lower-case name without trailing
// dots, and every IP address the text may denote to some resolver.
type gateHost struct {
	name  string
	addrs []netip.Addr
}

// normaliseGateHost lower-cases host, removes trailing dots, IPv6 brackets
// and zones, and lists the addresses it denotes. Besides the spellings
// net/netip accepts, it reads the numeric IPv4 forms of inet_aton(3) that
// the C library resolver accepts ("2886991877", "0xac140005", "172.020.0.5"),
// because cloudflared built with cgo may resolve them.
func normaliseGateHost(host string) gateHost {
	name := strings.ToLower(strings.TrimSpace(host))
	name = strings.TrimPrefix(name, "[")
	name = strings.TrimSuffix(name, "]")
	name = strings.TrimRight(name, ".")

	if addr, err := netip.ParseAddr(name); err == nil {
		addr = addr.WithZone("")
		return gateHost{name: addr.Unmap().String(), addrs: expandGateAddr(addr)}
	}
	if before, _, found := strings.Cut(name, "%"); found {
		if addr, err := netip.ParseAddr(before); err == nil && addr.Is6() {
			return gateHost{name: addr.Unmap().String(), addrs: expandGateAddr(addr)}
		}
	}
	return gateHost{name: name, addrs: parseInetAtonCandidates(name)}
}

// nat64Prefix is the well-known NAT64 prefix of RFC 6052, whose last 32 bits
// carry an IPv4 address.
var nat64Prefix = netip.MustParsePrefix("64:ff9b::/96")

// expandGateAddr returns addr with IPv4-mapped addresses unmapped, plus the
// IPv4 address embedded in an IPv4-compatible (::a.b.c.d) or NAT64 address.
func expandGateAddr(addr netip.Addr) []netip.Addr {
	addr = addr.Unmap()
	addrs := []netip.Addr{addr}
	if !addr.Is6() {
		return addrs
	}

	raw := addr.As16()
	var high [12]byte
	compatible := [12]byte(raw[:12]) == high && !addr.IsLoopback() && !addr.IsUnspecified()
	if compatible || nat64Prefix.Contains(addr) {
		addrs = append(addrs, netip.AddrFrom4([4]byte(raw[12:])))
	}
	return addrs
}

// parseInetAtonCandidates reads name as inet_aton(3) does: one to four
// dot-separated parts, each decimal, octal (leading 0) or hexadecimal (0x),
// the last part filling the remaining bytes. A part with a leading zero is
// read both as octal and as decimal, so either resolver's reading is caught.
func parseInetAtonCandidates(name string) []netip.Addr {
	parts := strings.Split(name, ".")
	if len(parts) > 4 {
		return nil
	}

	var addrs []netip.Addr
	for _, octalZeros := range []bool{true, false} {
		addr, ok := parseInetAton(parts, octalZeros)
		if ok && (len(addrs) == 0 || addrs[0] != addr) {
			addrs = append(addrs, addr)
		}
	}
	return addrs
}

func parseInetAton(parts []string, octalZeros bool) (netip.Addr, bool) {
	values := make([]uint64, len(parts))
	for i, part := range parts {
		v, ok := parseInetAtonPart(part, octalZeros)
		if !ok {
			return netip.Addr{}, false
		}
		values[i] = v
	}

	// Every part but the last is one byte, and the last fills the rest.
	var n uint64
	for _, v := range values[:len(values)-1] {
		if v > 0xff {
			return netip.Addr{}, false
		}
		n = n<<8 | v
	}
	lastBits := uint(8 * (4 - (len(values) - 1)))
	last := values[len(values)-1]
	if last >= 1<<lastBits {
		return netip.Addr{}, false
	}
	n = n<<lastBits | last
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}), true
}

func parseInetAtonPart(part string, octalZeros bool) (uint64, bool) {
	if part == "" {
		return 0, false
	}

	base := 10
	digits := part
	switch {
	case strings.HasPrefix(part, "0x"):
		base, digits = 16, part[2:]
		if digits == "" {
			return 0, true
		}
	case octalZeros && len(part) > 1 && part[0] == '0':
		base, digits = 8, part[1:]
	}
	v, err := strconv.ParseUint(digits, base, 32)
	return v, err == nil
}

// gatewayNames are names that reach the docker host, where published ports
// listen. Docker writes ip6-localhost and ip6-loopback into every
// container's /etc/hosts; the docker.for.* names are the older Docker Desktop
// spellings of host.docker.internal.
var gatewayNames = map[string]bool{
	"localhost":                    true,
	"ip6-localhost":                true,
	"ip6-loopback":                 true,
	"host.docker.internal":         true,
	"gateway.docker.internal":      true,
	"docker.for.mac.host.internal": true,
	"docker.for.win.host.internal": true,
	"docker.for.mac.localhost":     true,
	"docker.for.win.localhost":     true,
}

// isGatewayName reports whether name reaches the docker host by its name
// alone. An empty host counts, because Go dials the local system for it.
func isGatewayName(name string) bool {
	return name == "" || gatewayNames[name] || strings.HasSuffix(name, ".localhost")
}

// isHostLocalAddr reports whether addr reaches the host it is dialled from:
// loopback (127.0.0.0/8, ::1) and the unspecified addresses, which Linux
// connects to the local system.
func isHostLocalAddr(addr netip.Addr) bool {
	return addr.IsLoopback() || addr.IsUnspecified()
}
