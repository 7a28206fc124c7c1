package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"golang.org/x/net/idna"
)

// This file checks a pushed tunnel configuration the way cloudflared checks
// its ingress rules before it uses them (cloudflared ingress/ingress.go,
// validateIngress and validateHostname). The API sends those error texts
// back after "Bad Configuration: Validation failed: ", so the texts quoted
// in real API responses are reproduced exactly:
//   - "The config file doesn't contain any ingress rules"
//   - "The last ingress rule must match all URLs (i.e. it should not have a
//     hostname or path filter)"
//   - url.Parse errors of the service, as Go prints them.
//
// NOTE: the other texts follow cloudflared's wording from memory of its
// source and may differ slightly from the real API.

var (
	errNoIngressRules      = configProblem("The config file doesn't contain any ingress rules")
	errLastRuleNotCatchAll = configProblem("The last ingress rule must match all URLs (i.e. it should not have a hostname or path filter)")
	errHostnameHasPort     = configProblem("Hostname cannot contain a port")
	errBadWildcard         = configProblem(`Hostname patterns can have at most one wildcard character ("*") and it can only be used for subdomains, e.g. "*.example.com"`)
)

// configError is a validation failure whose text is sent to the client
// as cloudflared words it, capitals and final punctuation included, so it
// is built with Sprintf rather than errors.New.
type configError struct{ text string }

func (e *configError) Error() string { return e.text }

func configProblem(text string) error { return &configError{text: text} }

func configProblemf(format string, args ...any) error {
	return &configError{text: fmt.Sprintf(format, args...)}
}

func errNotObject(what string) error {
	return configProblemf("%s must be a JSON object", what)
}

// originRequestKind is the JSON type cloudflared decodes an originRequest
// field into.
type originRequestKind int

const (
	kindSeconds originRequestKind = iota // integer seconds (cloudflared CustomDuration)
	kindInteger
	kindBool
	kindString
	kindAccess
)

// originRequestKinds lists the originRequest fields cloudflared decodes.
// Other keys are kept as sent and not checked.
var originRequestKinds = map[string]originRequestKind{
	"connectTimeout":         kindSeconds,
	"tlsTimeout":             kindSeconds,
	"tcpKeepAlive":           kindSeconds,
	"keepAliveTimeout":       kindSeconds,
	"keepAliveConnections":   kindInteger,
	"proxyPort":              kindInteger,
	"noHappyEyeballs":        kindBool,
	"noTLSVerify":            kindBool,
	"disableChunkedEncoding": kindBool,
	"bastionMode":            kindBool,
	"http2Origin":            kindBool,
	"matchSNItoHost":         kindBool,
	"httpHostHeader":         kindString,
	"originServerName":       kindString,
	"caPool":                 kindString,
	"proxyAddress":           kindString,
	"proxyType":              kindString,
	"access":                 kindAccess,
}

var integerPattern = regexp.MustCompile(`^-?[0-9]+$`)

// unvalidatedRule is an ingress rule as sent, before checking.
type unvalidatedRule struct {
	Hostname      string
	Path          string
	Service       string
	OriginRequest map[string]json.RawMessage
}

// validateConfig checks a configuration document with cloudflared's rules
// and returns the first error, worded as cloudflared words it.
func validateConfig(config json.RawMessage) error {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(config, &doc); err != nil || doc == nil {
		return errNotObject("config")
	}

	if raw, ok := doc["originRequest"]; ok && !isNull(raw) {
		var defaults map[string]json.RawMessage
		if err := json.Unmarshal(raw, &defaults); err != nil {
			return errNotObject("originRequest")
		}
		if err := checkOriginRequest("originRequest", defaults); err != nil {
			return err
		}
	}

	rules, err := decodeRules(doc["ingress"])
	if err != nil {
		return err
	}
	if len(rules) == 0 {
		return errNoIngressRules
	}
	for i, r := range rules {
		if err := validateRule(r, i, len(rules)); err != nil {
			return err
		}
	}
	return nil
}

func isNull(raw json.RawMessage) bool {
	return bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}

// decodeRules reads the ingress list into unvalidated rules.
func decodeRules(raw json.RawMessage) ([]unvalidatedRule, error) {
	if len(raw) == 0 || isNull(raw) {
		return nil, nil
	}
	var items []map[string]json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, configProblem("ingress must be a JSON array of rule objects")
	}

	rules := make([]unvalidatedRule, 0, len(items))
	for i, item := range items {
		var r unvalidatedRule
		for key, dst := range map[string]*string{"hostname": &r.Hostname, "path": &r.Path, "service": &r.Service} {
			v, ok := item[key]
			if !ok || isNull(v) {
				continue
			}
			if err := json.Unmarshal(v, dst); err != nil {
				return nil, configProblemf("Rule #%d: %s must be a string", i+1, key)
			}
		}
		if v, ok := item["originRequest"]; ok && !isNull(v) {
			if err := json.Unmarshal(v, &r.OriginRequest); err != nil {
				return nil, configProblemf("Rule #%d: %v", i+1, errNotObject("originRequest"))
			}
		}
		rules = append(rules, r)
	}
	return rules, nil
}

// validateRule checks one rule at index i of n rules, in cloudflared's
// order: origin settings, service, hostname and position, then path.
func validateRule(r unvalidatedRule, i, n int) error {
	if err := checkOriginRequest(fmt.Sprintf("Rule #%d originRequest", i+1), r.OriginRequest); err != nil {
		return err
	}
	if err := checkService(r); err != nil {
		return err
	}
	if err := checkHostname(r, i, n); err != nil {
		return err
	}
	if r.Path != "" {
		if _, err := regexp.Compile(r.Path); err != nil {
			return configProblemf("Rule #%d has an invalid regex: %v", i+1, err)
		}
	}
	return nil
}

// checkService checks the service string of a rule.
func checkService(r unvalidatedRule) error {
	s := r.Service
	switch {
	case strings.HasPrefix(s, "unix:"), strings.HasPrefix(s, "unix+tls:"):
		return nil
	case strings.HasPrefix(s, "http_status:"):
		code, err := strconv.Atoi(strings.TrimPrefix(s, "http_status:"))
		if err != nil {
			return configProblemf("invalid HTTP status code: %v", err)
		}
		if code < 100 || code > 999 {
			return configProblemf("invalid HTTP status code: %d", code)
		}
		return nil
	case s == "hello_world", s == "hello-world", s == "bastion", s == "socks-proxy":
		return nil
	case bastionMode(r.OriginRequest):
		return nil
	}

	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if u.Scheme == "" || u.Hostname() == "" {
		return configProblemf("%s is an invalid address, please make sure it has a scheme and a hostname", s)
	}
	if u.Path != "" {
		return configProblemf("%s is an invalid address, ingress rules don't support proxying to a different path on the origin service. The path will be the same as the eyeball request's path", s)
	}
	return nil
}

func bastionMode(originRequest map[string]json.RawMessage) bool {
	var on bool
	raw, ok := originRequest["bastionMode"]
	return ok && json.Unmarshal(raw, &on) == nil && on
}

// checkHostname checks the hostname of rule i of n and that only the last
// rule matches everything.
func checkHostname(r unvalidatedRule, i, n int) error {
	h := r.Hostname
	if _, _, err := net.SplitHostPort(h); err == nil {
		return errHostnameHasPort
	}
	if strings.LastIndex(h, "*") > 0 {
		return errBadWildcard
	}

	catchAll := (h == "" || h == "*") && r.Path == ""
	last := i == n-1
	if last && !catchAll {
		return errLastRuleNotCatchAll
	}
	if !last && catchAll {
		return configProblemf("Rule #%d is matching the hostname '%s', but this will match every hostname, meaning the rules which follow it will never be triggered.", i+1, h)
	}

	if !catchAll && !isASCII(h) {
		if _, err := idna.Lookup.ToASCII(h); err != nil {
			return configProblemf("Rule #%d hostname '%s' is not a valid internationalized domain name: %v", i+1, h, err)
		}
	}
	return nil
}

// checkOriginRequest checks the JSON types of the originRequest fields
// cloudflared decodes. where names the object in messages.
func checkOriginRequest(where string, fields map[string]json.RawMessage) error {
	for _, key := range sortedKeys(fields) {
		kind, known := originRequestKinds[key]
		if !known {
			continue
		}
		if err := checkOriginField(kind, fields[key]); err != nil {
			return configProblemf("%s.%s: %v", where, key, err)
		}
	}
	return checkAccess(where, fields["access"])
}

func checkOriginField(kind originRequestKind, raw json.RawMessage) error {
	text := string(bytes.TrimSpace(raw))
	switch kind {
	case kindSeconds:
		if !integerPattern.MatchString(text) {
			return configProblemf("invalid duration %s: must be a whole number of seconds", text)
		}
	case kindInteger:
		if !integerPattern.MatchString(text) {
			return configProblemf("invalid value %s: must be a whole number", text)
		}
	case kindBool:
		if text != "true" && text != "false" {
			return configProblemf("invalid value %s: must be true or false", text)
		}
	case kindString:
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return configProblemf("invalid value %s: must be a string", text)
		}
	case kindAccess:
		var access map[string]json.RawMessage
		if json.Unmarshal(raw, &access) != nil || access == nil {
			return errNotObject("access")
		}
	}
	return nil
}

// accessConfig is cloudflared's originRequest.access.
type accessConfig struct {
	Required    bool     `json:"required"`
	TeamName    string   `json:"teamName"`
	AudTag      []string `json:"audTag"`
	Environment string   `json:"environment"`
}

// checkAccess requires teamName when access is required and audTag is set.
func checkAccess(where string, raw json.RawMessage) error {
	if len(raw) == 0 || isNull(raw) {
		return nil
	}
	var access accessConfig
	if err := json.Unmarshal(raw, &access); err != nil {
		return configProblemf("%s.access: invalid value: %v", where, err)
	}
	if access.Required && len(access.AudTag) > 0 && access.TeamName == "" {
		return configProblem("access.TeamName cannot be blank when access.audTag is present")
	}
	return nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
