package ingress

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
)

// originSchemes lists the values of the scheme label. The unix schemes are
// listed so that their error can point to the service label.
var originSchemes = []string{"http", "https", "tcp", "ssh", "rdp", "smb", "unix", "unix+tls"}

const defaultScheme = "http"

// parseLabelPort accepts a TCP port from 1 to 65535.
func parseLabelPort(value string) (int, *labelProblem) {
	n, err := strconv.Atoi(value)
	if err != nil {
		return 0, newLabelProblem("port is not a number", "use a port from 1 to 65535")
	}
	if n < 1 || n > 65535 {
		return 0, newLabelProblem("port out of range", "use a port from 1 to 65535")
	}
	return n, nil
}

// parseScheme checks the scheme label.
func parseScheme(value string) (string, *labelProblem) {
	scheme := strings.ToLower(value)
	if !slices.Contains(originSchemes, scheme) {
		return "", newLabelProblem("unknown scheme", "use one of "+strings.Join(originSchemes, ", "))
	}
	if scheme == "unix" || scheme == "unix+tls" {
		return "", newLabelProblem(scheme+" needs a socket path, which the scheme label cannot hold",
			fmt.Sprintf("drop the scheme label and set the service label, as in %s:/run/app.sock", scheme))
	}
	return scheme, nil
}

// parseOriginService checks a full cloudflared origin given in the service
// label, with the checks cloudflared applies when it loads an ingress rule.
func parseOriginService(value string) (string, *labelProblem) {
	if strings.ContainsFunc(value, isSpaceOrControl) {
		return "", newLabelProblem("origin contains whitespace", "remove the spaces")
	}

	switch value {
	case "hello_world", "hello-world":
		return value, nil
	case "bastion", "socks-proxy":
		return "", newLabelProblem(value+" origins are not supported from labels",
			"they reach any address the connector can, so the security gate cannot check them; configure them in cloudflared directly")
	}
	if code, ok := strings.CutPrefix(value, "http_status:"); ok {
		n, err := strconv.Atoi(code)
		if err != nil || n < 100 || n > 999 {
			return "", newLabelProblem("http_status needs a status code from 100 to 999", "write it as http_status:404")
		}
		return value, nil
	}
	for _, prefix := range []string{"unix:", "unix+tls:"} {
		if path, ok := strings.CutPrefix(value, prefix); ok {
			if !strings.HasPrefix(path, "/") {
				return "", newLabelProblem("unix socket path must be absolute", "write it as "+prefix+"/run/app.sock")
			}
			return value, nil
		}
	}
	return parseOriginURL(value)
}

// parseOriginURL checks a scheme://host[:port] origin. cloudflared rejects a
// path, even "/", because it does not proxy to a different path.
func parseOriginURL(value string) (string, *labelProblem) {
	u, err := url.Parse(value)
	if err != nil || u.Scheme == "" || u.Opaque != "" {
		return "", newLabelProblem("origin is not a URL, http_status:NNN, hello_world or unix:/path",
			"write a URL with a scheme and a host, such as http://app:8080")
	}
	if u.Hostname() == "" {
		return "", newLabelProblem("origin URL has no host", "write a URL with a scheme and a host, such as http://app:8080")
	}
	if u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", newLabelProblem("origin URL has a path, query, fragment or user",
			fmt.Sprintf("cloudflared proxies to the origin's own paths only, so write %s://%s", u.Scheme, u.Host))
	}
	if _, port, err := net.SplitHostPort(u.Host); err == nil {
		if _, p := parseLabelPort(port); p != nil {
			return "", newLabelProblem("origin URL port out of range", "use a port from 1 to 65535")
		}
	}
	return value, nil
}

// composePorts lists the distinct TCP target ports a service declares in
// expose and ports, in the order found. A range stays one item ("8000-8010")
// because it never names a single port. UDP ports are left out, because
// cloudflared proxies only TCP to an origin.
func composePorts(svc types.ServiceConfig) []string {
	var found []string
	add := func(port string) {
		if port != "" && port != "0" && !slices.Contains(found, port) {
			found = append(found, port)
		}
	}
	for _, item := range svc.Expose {
		port, proto, _ := strings.Cut(strings.TrimSpace(item), "/")
		if !strings.EqualFold(proto, "udp") {
			add(port)
		}
	}
	for _, p := range svc.Ports {
		if !strings.EqualFold(p.Protocol, "udp") {
			add(strconv.FormatUint(uint64(p.Target), 10))
		}
	}
	return found
}

// inferPort returns the service's single target port, or a problem that lists
// the ports found.
func inferPort(svc types.ServiceConfig, portKey string) (int, *labelProblem) {
	found := composePorts(svc)
	if len(found) == 1 {
		if n, p := parseLabelPort(found[0]); p == nil {
			return n, nil
		}
	}
	if len(found) == 0 {
		return 0, newLabelProblem("no origin port: the service has no expose or ports entry",
			fmt.Sprintf("set %s to the port the service listens on", portKey))
	}
	return 0, newLabelProblem(fmt.Sprintf("no single origin port: the service declares %s", strings.Join(found, ", ")),
		fmt.Sprintf("set %s to the one the route should reach", portKey))
}
