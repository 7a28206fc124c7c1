package ingress

// RevocationPath is the path of every revocation rule. It matches every
// request path, and its text marks the rule as a revocation on both targets,
// so an ordinary http_status:503 maintenance rule is never taken for one.
const RevocationPath = "^(?:/portcullis-revoked)?"

// RevocationService is the origin of every revocation rule.
const RevocationService = "http_status:503"

// DefaultCatchAll is the origin of the catch-all rule portcullis writes when
// a document has none.
const DefaultCatchAll = "http_status:404"

// Rule is one cloudflared ingress rule in canonical form.
type Rule struct {
	Hostname      string        `json:"hostname,omitempty"`
	Path          string        `json:"path,omitempty"`
	Service       string        `json:"service"`
	OriginRequest OriginRequest `json:"originRequest,omitempty"`
}

// IsCatchAll reports whether the rule matches every request, as cloudflared
// decides it: no hostname (or "*") and no path.
func (r Rule) IsCatchAll() bool {
	return (r.Hostname == "" || r.Hostname == "*") && r.Path == ""
}

// IsRevocation reports whether the rule is a portcullis revocation rule.
// The path alone decides, so that a revocation written by another version
// with a different status is still recognised.
func (r Rule) IsRevocation() bool {
	return r.Path == RevocationPath
}

// RevocationRule returns the revocation rule for host; "" gives the rule
// that cuts every hostname.
func RevocationRule(host string) Rule {
	return Rule{Hostname: host, Path: RevocationPath, Service: RevocationService}
}
