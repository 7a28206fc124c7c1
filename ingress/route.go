package ingress

// Route is one validated public route: a hostname (and optional path) that
// should reach an origin. A service label with several comma-separated
// hostnames produces one Route per hostname.
type Route struct {
	// Service is the compose service that declared the route.
	Service string `json:"service"`
	// Name is "" for the service's default route and NAME for a route
	// declared under <prefix>.routes.NAME.
	Name string `json:"route,omitempty"`
	// Hostname is lower-case and in punycode; "*.example.com" for a wildcard.
	Hostname string `json:"hostname"`
	// Path is the cloudflared path regular expression as it is written to the
	// tunnel configuration, already anchored ("^(?:/api)"); "" means every path.
	Path string `json:"path,omitempty"`
	// Origin is the cloudflared service string: "http://n8n:5678",
	// "http_status:410", "hello_world", "unix:/run/app.sock".
	Origin string `json:"origin"`
	// OriginRequest holds the originRequest fields set by labels.
	OriginRequest OriginRequest `json:"originRequest,omitempty"`
	// DNS is false when portcullis.dns=false: the CNAME is left to someone else.
	DNS bool `json:"dns"`
	// Zone is the zone named by portcullis.zone, or "" for longest-suffix match.
	Zone string `json:"zone,omitempty"`
	// Source locates the label that declared the hostname.
	Source Source `json:"source"`
	// OriginSource locates the label that set the origin (service, else
	// port), or the hostname label when neither is set; violations and
	// unknown origins point there.
	OriginSource Source `json:"origin_source"`
}

// Rule returns the cloudflared ingress rule for the route.
func (r Route) Rule() Rule {
	return Rule{Hostname: r.Hostname, Path: r.Path, Service: r.Origin, OriginRequest: r.OriginRequest}
}

// Source locates a label: the compose file, the service and the label key.
// Line is 0 when the position is unknown.
type Source struct {
	File    string `json:"file,omitempty"`
	Line    int    `json:"line,omitempty"`
	Service string `json:"service,omitempty"`
	Key     string `json:"key,omitempty"`
}

// OriginRequest holds cloudflared originRequest fields under their
// cloudflared names. Values are canonical Go types so that a value read from
// JSON, from YAML and from a label compare equal:
//
//   - bool for flags (noTLSVerify, http2Origin, ...)
//   - int64 for counts and ports (keepAliveConnections, proxyPort)
//   - time.Duration for durations (connectTimeout, tlsTimeout, tcpKeepAlive, keepAliveTimeout)
//   - string for strings (originServerName, httpHostHeader, caPool, ...)
//   - OriginRequest for the nested "access" object, whose audTag is []string
//   - any other JSON-compatible value for fields portcullis does not model
//     (such as ipRules), kept as decoded
type OriginRequest map[string]any

// DurationFields lists the originRequest keys whose values are durations:
// integer seconds in the API's JSON, Go duration strings ("30s") in YAML.
var DurationFields = map[string]bool{
	"connectTimeout":   true,
	"tlsTimeout":       true,
	"tcpKeepAlive":     true,
	"keepAliveTimeout": true,
}
