package ingress

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// originFieldKind is the type a portcullis.origin.<field> label is parsed
// into.
type originFieldKind int

const (
	originBool originFieldKind = iota
	originInt
	originDuration
	originString
	originList
)

// originField describes one cloudflared originRequest field settable from a
// label. Name is the cloudflared name, with "access." before the fields of
// the nested access object.
type originField struct {
	Name     string
	Kind     originFieldKind
	Min, Max int64 // bounds of an originInt field
	API      bool  // the Cloudflare API's tunnel configuration schema has the field
	Choices  []string
}

// originFields lists the originRequest fields of cloudflared's configuration
// (config/configuration.go) that labels may set. The API flag follows the
// field list of the tunnel configuration schema in cloudflare-go v6.
var originFields = []originField{
	{Name: "noTLSVerify", Kind: originBool, API: true},
	{Name: "noHappyEyeballs", Kind: originBool, API: true},
	{Name: "disableChunkedEncoding", Kind: originBool, API: true},
	{Name: "http2Origin", Kind: originBool, API: true},
	{Name: "matchSNItoHost", Kind: originBool, API: true},
	{Name: "bastionMode", Kind: originBool},
	{Name: "keepAliveConnections", Kind: originInt, Min: 0, Max: 1<<31 - 1, API: true},
	{Name: "proxyPort", Kind: originInt, Min: 0, Max: 65535},
	{Name: "connectTimeout", Kind: originDuration, API: true},
	{Name: "tlsTimeout", Kind: originDuration, API: true},
	{Name: "tcpKeepAlive", Kind: originDuration, API: true},
	{Name: "keepAliveTimeout", Kind: originDuration, API: true},
	{Name: "httpHostHeader", Kind: originString, API: true},
	{Name: "originServerName", Kind: originString, API: true},
	{Name: "caPool", Kind: originString, API: true},
	{Name: "proxyAddress", Kind: originString},
	{Name: "proxyType", Kind: originString, API: true, Choices: []string{"socks"}},
	{Name: "access.required", Kind: originBool, API: true},
	{Name: "access.teamName", Kind: originString, API: true},
	{Name: "access.audTag", Kind: originList, API: true},
	{Name: "access.environment", Kind: originString, API: true},
}

const accessField = "access"

// lookupOriginField finds a field by its exact cloudflared name.
func lookupOriginField(name string) (originField, bool) {
	i := slices.IndexFunc(originFields, func(f originField) bool { return f.Name == name })
	if i < 0 {
		return originField{}, false
	}
	return originFields[i], true
}

// lookupOriginFieldFold finds a field whose name differs from name only in
// case, for the did-you-mean of a near miss such as "notlsverify".
func lookupOriginFieldFold(name string) (originField, bool) {
	i := slices.IndexFunc(originFields, func(f originField) bool { return strings.EqualFold(f.Name, name) })
	if i < 0 {
		return originField{}, false
	}
	return originFields[i], true
}

// labelProblem is a message and hint for a LabelError whose position is
// filled in by the caller.
type labelProblem struct {
	Message string
	Hint    string
}

func (p *labelProblem) Error() string { return p.Message }

func newLabelProblem(message, hint string) *labelProblem {
	return &labelProblem{Message: message, Hint: hint}
}

// parseOriginValue converts a label value into the canonical Go type of the
// field and checks it against the target.
func parseOriginValue(f originField, value, target string) (any, *labelProblem) {
	if target != labelTargetFile && !f.API {
		return nil, newLabelProblem(fmt.Sprintf("the API target does not accept originRequest field %s", f.Name),
			"remove the label, or use the file target, whose config.yml takes every cloudflared field")
	}

	switch f.Kind {
	case originBool:
		b, p := parseLabelBool(value)
		if p != nil {
			return nil, p
		}
		return b, nil
	case originInt:
		return parseOriginInt(f, value)
	case originDuration:
		return parseOriginDuration(value, target)
	case originList:
		return parseOriginList(value)
	default:
		return parseOriginString(f, value)
	}
}

func parseOriginInt(f originField, value string) (any, *labelProblem) {
	n, err := strconv.ParseInt(value, 10, 64)
	if err != nil || n < f.Min || n > f.Max {
		return nil, newLabelProblem(fmt.Sprintf("%s must be an integer from %d to %d", f.Name, f.Min, f.Max), "")
	}
	return n, nil
}

// parseOriginDuration accepts a Go duration ("30s", "1m30s") or a bare
// integer, which means seconds as in the API's JSON.
func parseOriginDuration(value, target string) (any, *labelProblem) {
	d, err := time.ParseDuration(value)
	if err != nil {
		secs, intErr := strconv.ParseInt(value, 10, 64)
		if intErr != nil || secs > int64(time.Duration(1<<63-1)/time.Second) {
			return nil, newLabelProblem("invalid duration", "write a Go duration such as 30s or 1m30s, or a whole number of seconds")
		}
		d = time.Duration(secs) * time.Second
	}
	if d <= 0 {
		return nil, newLabelProblem("duration must be more than zero", "remove the label to keep cloudflared's default")
	}
	if target != labelTargetFile && d%time.Second != 0 {
		return nil, newLabelProblem("the API target takes durations in whole seconds", "round it to whole seconds, such as 2s")
	}
	return d, nil
}

func parseOriginList(value string) (any, *labelProblem) {
	var items []string
	for item := range strings.SplitSeq(value, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			return nil, newLabelProblem("empty item in a comma-separated list", "remove the extra comma")
		}
		if strings.ContainsFunc(item, isSpaceOrControl) {
			return nil, newLabelProblem(fmt.Sprintf("item %q contains whitespace", item), "separate items with commas only")
		}
		items = append(items, item)
	}
	return items, nil
}

func parseOriginString(f originField, value string) (any, *labelProblem) {
	if strings.ContainsFunc(value, isSpaceOrControl) {
		return nil, newLabelProblem(fmt.Sprintf("%s cannot contain whitespace", f.Name), "")
	}
	if len(f.Choices) > 0 && !slices.Contains(f.Choices, value) {
		return nil, newLabelProblem(fmt.Sprintf("%s must be %s", f.Name, strings.Join(f.Choices, " or ")),
			"remove the label for cloudflared's default")
	}
	return value, nil
}

func isSpaceOrControl(r rune) bool {
	return r <= ' ' || r == 0x7f || r == 0x85 || r == 0xa0 || r == 0x2028 || r == 0x2029
}

// setOriginValue stores a parsed value under its cloudflared name, creating
// the nested access object for "access." fields.
func setOriginValue(req OriginRequest, name string, value any) {
	sub, ok := strings.CutPrefix(name, accessField+".")
	if !ok {
		req[name] = value
		return
	}
	access, _ := req[accessField].(OriginRequest)
	if access == nil {
		access = OriginRequest{}
		req[accessField] = access
	}
	access[sub] = value
}

// checkAccess applies cloudflared's rule that a required access check with
// audience tags needs the team name to fetch the signing keys.
func checkAccess(req OriginRequest) *labelProblem {
	access, _ := req[accessField].(OriginRequest)
	required, _ := access["required"].(bool)
	tags, _ := access["audTag"].([]string)
	if required && len(tags) > 0 && access["teamName"] == nil {
		return newLabelProblem("origin.access.required=true with origin.access.audTag needs origin.access.teamName",
			"add the Zero Trust team name, as in <team>.cloudflareaccess.com")
	}
	return nil
}

// parseLabelBool accepts true and false in any case, and nothing else.
func parseLabelBool(value string) (bool, *labelProblem) {
	switch strings.ToLower(value) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, newLabelProblem("not a boolean", "write true or false")
}
