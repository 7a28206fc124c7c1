package tunnel

import (
	"regexp"
	"strings"

	"github.com/portcullis-dev/portcullis/ingress"
)

// State is the live state of one target, as read before planning.
type State struct {
	// Target is "api" or "file".
	Target string `json:"target"`
	// AccountID, TunnelID and TunnelName identify the tunnel (API target;
	// the file target fills TunnelID from the file's "tunnel" key).
	AccountID  string `json:"account_id,omitempty"`
	TunnelID   string `json:"tunnel_id,omitempty"`
	TunnelName string `json:"tunnel_name,omitempty"`
	// Version is the configuration version on the API target. On the file
	// target it is 0 and Checksum carries the file's SHA-256.
	Version  int64  `json:"version"`
	Checksum string `json:"checksum,omitempty"`
	// Rules is the live ingress list in document order, catch-all included.
	Rules []LiveRule `json:"rules"`
	// ManagesDNS is true on the API target, where Zones and Records are filled.
	ManagesDNS bool        `json:"manages_dns"`
	Zones      []Zone      `json:"zones,omitempty"`
	Records    []DNSRecord `json:"records,omitempty"`
}

// LiveRule is one live ingress rule with what is needed to write it back
// unchanged.
type LiveRule struct {
	ingress.Rule
	// Owner is the owner id from the file target's marker comment, or "".
	// The API target keeps ownership on DNS records instead.
	Owner string `json:"owner,omitempty"`
	// Raw is the rule exactly as read (json.RawMessage on the API target,
	// *yaml.Node on the file target). A kept rule is written back from Raw,
	// so fields portcullis does not model survive. Nil for new rules.
	Raw any `json:"-"`
}

// Zone is one DNS zone of the account.
type Zone struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// DNSRecord is one DNS record of a listed zone.
type DNSRecord struct {
	ID       string `json:"id"`
	ZoneID   string `json:"zone_id"`
	ZoneName string `json:"zone_name"`
	Type     string `json:"type"`
	Name     string `json:"name"`
	Content  string `json:"content"`
	Proxied  bool   `json:"proxied"`
	TTL      int    `json:"ttl"`
	Comment  string `json:"comment,omitempty"`
}

// TunnelTarget returns the CNAME content that routes a hostname to the tunnel.
func TunnelTarget(tunnelID string) string {
	return strings.ToLower(tunnelID) + ".cfargotunnel.com"
}

// MarkerPrefix starts every ownership marker.
const MarkerPrefix = "portcullis:v1"

var markerPattern = regexp.MustCompile(`^portcullis:v1 owner=([a-z0-9][a-z0-9_-]{0,62})$`)

// OwnerIDPattern is the pattern every owner id must match.
var OwnerIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// Marker returns the ownership marker for ownerID, as written in a DNS
// record's comment and in the file target's rule comment.
func Marker(ownerID string) string {
	return MarkerPrefix + " owner=" + ownerID
}

// ParseMarker returns the owner id of an exact ownership marker. Anything
// else, including a marker with trailing text, is not a marker.
func ParseMarker(comment string) (owner string, ok bool) {
	m := markerPattern.FindStringSubmatch(comment)
	if m == nil {
		return "", false
	}
	return m[1], true
}
