package ingress

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/hashicorp/go-multierror"
	"golang.org/x/net/idna"
)

// ErrInvalidRule is the error every RuleError wraps.
var ErrInvalidRule = errors.New("invalid ingress rule")

// RuleError is one problem cloudflared would reject an ingress list for.
type RuleError struct {
	// Index is the 1-based position of the rule, as cloudflared counts it,
	// or 0 for a problem with the whole list.
	Index int
	// Hostname and Path are the rule's filters, "" when not set.
	Hostname, Path string
	// Message describes the problem and how to fix it.
	Message string

	// cloudflared is cloudflared's own wording of the problem.
	cloudflared string
}

// Error returns "rule #N (hostname): message", or "ingress: message" for a
// problem with the whole list.
func (e *RuleError) Error() string {
	if e.Index == 0 {
		return "ingress: " + e.Message
	}
	return fmt.Sprintf("rule #%d (%s): %s", e.Index, e.filterText(), e.Message)
}

// filterText describes the rule's hostname and path filters.
func (e *RuleError) filterText() string {
	host := e.Hostname
	if host == "" {
		host = "any hostname"
	}
	if e.Path == "" {
		return host
	}
	return host + ", path " + e.Path
}

// Unwrap returns ErrInvalidRule.
func (e *RuleError) Unwrap() error { return ErrInvalidRule }

// CloudflaredText returns cloudflared's own wording of the first problem in
// err, which is the text the API embeds in its code 1056 reply ("Bad
// Configuration: Validation failed: <text>"). It returns err.Error() for an
// error that holds no RuleError and "" for nil.
func CloudflaredText(err error) string {
	if err == nil {
		return ""
	}
	var ruleErr *RuleError
	if !errors.As(err, &ruleErr) {
		return err.Error()
	}
	if ruleErr.cloudflared == "" {
		return ruleErr.Message
	}
	return ruleErr.cloudflared
}

// cloudflared's error texts, from validateIngress, validateHostname and
// validateAccessConfiguration in cloudflared's ingress/ingress.go.
const (
	cloudflaredNoRules          = "The config file doesn't contain any ingress rules"
	cloudflaredLastNotCatchAll  = "The last ingress rule must match all URLs (i.e. it should not have a hostname or path filter)"
	cloudflaredBadWildcard      = `Hostname patterns can have at most one wildcard character ("*") and it can only be used for subdomains, e.g. "*.example.com"`
	cloudflaredHostnamePort     = "Hostname cannot contain a port"
	cloudflaredAccessNoTeamName = "access.TeamName cannot be blank when access.audTags are present"
)

// ValidateRules checks rules the way cloudflared checks an ingress list
// before it runs it. It returns nil or a *multierror.Error whose errors are
// *RuleError values in rule order. cloudflared stops at its first problem,
// which is the first error here; later ones are reported too.
func ValidateRules(rules []Rule) error {
	if len(rules) == 0 {
		return multierror.Append(nil, &RuleError{
			Message:     "the list has no rules; it needs at least a catch-all rule such as service http_status:404",
			cloudflared: cloudflaredNoRules,
		})
	}

	var result *multierror.Error
	for i, rule := range rules {
		for _, problem := range validateRuleProblems(rule, i, len(rules)) {
			problem.Index = i + 1
			problem.Hostname = rule.Hostname
			problem.Path = rule.Path
			result = multierror.Append(result, problem)
		}
	}
	return result.ErrorOrNil()
}

// validateRuleProblems returns the problems of the rule at 0-based index i, in the
// order cloudflared checks them: service, access, hostname, position, path.
func validateRuleProblems(rule Rule, i, total int) []*RuleError {
	var problems []*RuleError
	if p := ruleServiceProblem(rule); p != nil {
		problems = append(problems, p)
	}
	if p := ruleAccessProblem(rule.OriginRequest); p != nil {
		problems = append(problems, p)
	}
	problems = append(problems, ruleHostnameProblems(rule.Hostname)...)
	if p := catchAllPositionProblem(rule, i, total); p != nil {
		problems = append(problems, p)
	}
	if p := rulePunycodeProblem(rule); p != nil {
		problems = append(problems, p)
	}
	if p := rulePathProblem(rule.Path, i); p != nil {
		problems = append(problems, p)
	}
	return problems
}

// ruleServiceProblem checks the service string against the forms cloudflared
// accepts.
func ruleServiceProblem(rule Rule) *RuleError {
	service := rule.Service
	switch {
	case strings.HasPrefix(service, "unix:"), strings.HasPrefix(service, "unix+tls:"):
		// cloudflared does not check the socket path.
		return nil
	case strings.HasPrefix(service, "http_status:"):
		return statusServiceProblem(service)
	case service == "hello_world", service == "hello-world",
		service == "socks-proxy", service == "bastion":
		return nil
	case rule.OriginRequest["bastionMode"] == true:
		// cloudflared ignores the service of a rule in bastion mode.
		return nil
	default:
		return urlServiceProblem(service)
	}
}

// statusServiceProblem checks an http_status:NNN service.
func statusServiceProblem(service string) *RuleError {
	code, err := strconv.Atoi(strings.TrimPrefix(service, "http_status:"))
	if err != nil {
		return &RuleError{
			Message:     fmt.Sprintf("service %q has a status code that is not a number; use http_status:NNN with NNN from 100 to 999", service),
			cloudflared: "invalid HTTP status code: " + err.Error(),
		}
	}
	if code < 100 || code > 999 {
		return &RuleError{
			Message:     fmt.Sprintf("service %q has status code %d, outside 100 to 999", service, code),
			cloudflared: fmt.Sprintf("invalid HTTP status code: %d", code),
		}
	}
	return nil
}

// urlServiceProblem checks a scheme://host[:port] service, which must have
// no path because cloudflared forwards the request path unchanged.
func urlServiceProblem(service string) *RuleError {
	u, err := url.Parse(service)
	if err != nil {
		return &RuleError{
			Message:     fmt.Sprintf("service %q is not a valid URL: %v", service, err),
			cloudflared: err.Error(),
		}
	}
	if u.Scheme == "" || u.Hostname() == "" {
		return &RuleError{
			Message:     fmt.Sprintf("service %q needs a scheme and a hostname, as in http://web:8080", service),
			cloudflared: fmt.Sprintf("%s is an invalid address, please make sure it has a scheme and a hostname", service),
		}
	}
	if u.Path != "" {
		return &RuleError{
			Message: fmt.Sprintf("service %q has a path, which cloudflared does not support because it forwards the request path unchanged; remove %q", service, u.Path),
			cloudflared: fmt.Sprintf("%s is an invalid address, ingress rules don't support proxying to a different path on the origin service. "+
				"The path will be the same as the eyeball request's path", service),
		}
	}
	return nil
}

// ruleAccessProblem checks originRequest.access: a required check with audience
// tags needs the team name to verify the tokens against.
func ruleAccessProblem(o OriginRequest) *RuleError {
	access, ok := originAccessObject(o)
	if !ok || access["required"] != true {
		return nil
	}
	if accessListLength(access[originAudTagKey]) == 0 {
		return nil
	}
	if team, _ := access["teamName"].(string); team != "" {
		return nil
	}
	return &RuleError{
		Message:     "originRequest.access sets required and audTag but no teamName; set teamName to the Zero Trust team name",
		cloudflared: cloudflaredAccessNoTeamName,
	}
}

// originAccessObject returns the access object of o, whichever map type holds it.
func originAccessObject(o OriginRequest) (map[string]any, bool) {
	switch access := o[originAccessKey].(type) {
	case OriginRequest:
		return access, true
	case map[string]any:
		return access, true
	default:
		return nil, false
	}
}

// accessListLength returns the length of a []string or []any, and 0 otherwise.
func accessListLength(value any) int {
	switch list := value.(type) {
	case []string:
		return len(list)
	case []any:
		return len(list)
	default:
		return 0
	}
}

// ruleHostnameProblems checks that the hostname has no port and that a "*"
// appears only as its first character.
func ruleHostnameProblems(hostname string) []*RuleError {
	var problems []*RuleError
	if _, _, err := net.SplitHostPort(hostname); err == nil {
		problems = append(problems, &RuleError{
			Message:     fmt.Sprintf("hostname %q contains a port; remove it, because cloudflared matches the hostname without the port", hostname),
			cloudflared: cloudflaredHostnamePort,
		})
	}
	if strings.LastIndex(hostname, "*") > 0 {
		problems = append(problems, &RuleError{
			Message:     fmt.Sprintf("hostname %q has a \"*\" after its first character; a wildcard must be the whole first label, as in \"*.example.com\"", hostname),
			cloudflared: cloudflaredBadWildcard,
		})
	}
	return problems
}

// catchAllPositionProblem checks that the last rule, and only the last rule, is a
// catch-all.
func catchAllPositionProblem(rule Rule, i, total int) *RuleError {
	last := i == total-1
	if last && !rule.IsCatchAll() {
		return &RuleError{
			Message:     "the last rule must match every request, so it takes no hostname (or \"*\") and no path; end the list with a rule such as service http_status:404",
			cloudflared: cloudflaredLastNotCatchAll,
		}
	}
	if !last && rule.IsCatchAll() {
		return &RuleError{
			Message: "the rule matches every request, so the rules after it would never be used; give it a hostname or a path, or move it to the end",
			cloudflared: fmt.Sprintf("Rule #%d is matching the hostname '%s', but this will match every hostname, "+
				"meaning the rules which follow it will never be triggered.", i+1, rule.Hostname),
		}
	}
	return nil
}

// hostnameCheckProfile converts hostnames like idna.Lookup but allows the ASCII
// characters STD3 forbids, such as "_", which cloudflared accepts.
var hostnameCheckProfile = idna.New(idna.MapForLookup(), idna.BidiRule(), idna.StrictDomainName(false))

// rulePunycodeProblem checks that a hostname other than a catch-all converts to
// punycode. A leading "*." is left out of the conversion.
//
// NOTE: cloudflared's validateIngress ignores a failed conversion and
// then matches only the hostname as written, so this check is stricter than
// cloudflared and its cloudflared text is portcullis's own wording.
func rulePunycodeProblem(rule Rule) *RuleError {
	host := rule.Hostname
	if host == "" || host == "*" {
		return nil
	}
	_, err := hostnameCheckProfile.ToASCII(strings.TrimPrefix(host, "*."))
	if err == nil {
		return nil
	}
	return &RuleError{
		Message:     fmt.Sprintf("hostname %q is not a valid internationalised domain name: %v", host, err),
		cloudflared: fmt.Sprintf("Hostname %s is not a valid internationalized domain name: %v", host, err),
	}
}

// rulePathProblem checks that the path compiles as a Go (RE2) regular
// expression.
func rulePathProblem(path string, i int) *RuleError {
	if path == "" {
		return nil
	}
	if _, err := regexp.Compile(path); err != nil {
		return &RuleError{
			Message:     fmt.Sprintf("path is not a valid regular expression: %v", err),
			cloudflared: fmt.Sprintf("Rule #%d has an invalid regex: %v", i+1, err),
		}
	}
	return nil
}
