package ingress

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
)

// Values of ParseOptions.Target.
const (
	labelTargetAPI  = "api"
	labelTargetFile = "file"
)

// DefaultLabelPrefix is the label prefix used when ParseOptions.Prefix is empty.
const DefaultLabelPrefix = "portcullis"

// ParseOptions controls how service labels become routes.
type ParseOptions struct {
	// Prefix is the first part of every portcullis label key; "" means
	// DefaultLabelPrefix.
	Prefix string
	// Target is "api" or "file". Any other value, including "", is checked
	// with the API target's stricter rules.
	Target string
	// Exclusive is true when the settings' exclusive tunnel id equals this
	// tunnel, so a route may go without a CNAME (portcullis.dns=false).
	Exclusive bool
	// RawLabels holds each service's label values before interpolation
	// (service -> key -> raw text such as "${N8N_HOST}"), nil when unknown.
	RawLabels map[string]map[string]string
	// Sources locates a label: it returns the file and line of the trimmed
	// label key (line 0 means unknown). May be nil.
	Sources func(service, key string) (file string, line int)
	// File is the compose file named in errors when Sources is nil or returns "".
	File string
	// SecretValues maps secret values to the names of the secret-looking
	// variables that hold them (see SecretValues). A label whose value
	// contains one is rejected without printing it. ParseProject fills it
	// from the project's environment when nil.
	SecretValues map[string]string
}

// ParseResult holds the routes and warnings of a compose project.
type ParseResult struct {
	// Routes are the routes of active services, sorted by hostname, path,
	// service and route name.
	Routes []Route
	// Held are the routes of services in inactive profiles, sorted the same way.
	Held []Route
	// Warnings are sorted by file, line, service, key, hostname and message.
	Warnings []Warning
}

// routeKeys lists the keys that the default route and every named route
// accept, after the prefix (and "routes.<name>."). Origin fields come from
// originFields.
var routeKeys = []string{"hostname", "port", "scheme", "service", "path", "dns", "zone", "enable"}

const (
	routesKey = "routes"
	originKey = "origin"
)

var routeNamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// rawRoute contains the labels of one route before any value is checked, by the
// key after the route's own prefix ("hostname", "origin.noTLSVerify").
type rawRoute struct {
	Name   string
	Prefix string // full key prefix of the route, ending in "."
	Labels map[string]string
	// Blocked contains the keys already reported as invalid before their value
	// was read.
	Blocked map[string]bool
}

// serviceParser collects the routes, errors and warnings of one service.
type serviceParser struct {
	svc  types.ServiceConfig
	opts ParseOptions

	errs     []*LabelError
	warnings []Warning
	// blocked contains the keys already reported as invalid before their value
	// was read: secret-looking interpolation and conflicting values.
	blocked map[string]bool
}

// ParseService validates the portcullis labels of one service and returns its
// routes, sorted like ParseResult.Routes. The error is a *multierror.Error of
// *LabelError values, sorted, or nil. Duplicates are checked only within the
// service. A disabled service (portcullis.enable=false) returns no routes.
func ParseService(svc types.ServiceConfig, opts ParseOptions) ([]Route, []Warning, error) {
	opts = withDefaults(opts)
	routes, warnings, errs := parseService(svc, opts)
	errs = append(errs, duplicateRouteErrors(routes, opts)...)
	sortLabelRoutes(routes)
	return routes, sortWarnings(warnings), joinLabelErrors(errs)
}

func withDefaults(opts ParseOptions) ParseOptions {
	opts.Prefix = strings.TrimSpace(opts.Prefix)
	if opts.Prefix == "" {
		opts.Prefix = DefaultLabelPrefix
	}
	if opts.Target != labelTargetFile {
		opts.Target = labelTargetAPI
	}
	return opts
}

// parseService reads the labels of one service into raw routes, then
// validates each raw route into typed routes.
func parseService(svc types.ServiceConfig, opts ParseOptions) ([]Route, []Warning, []*LabelError) {
	p := &serviceParser{svc: svc, opts: opts, blocked: map[string]bool{}}

	labels := p.collectLabels()
	raw := p.groupRoutes(labels)

	serviceEnabled := true
	if def, ok := raw[""]; ok {
		if v, ok := def.Labels["enable"]; ok {
			serviceEnabled = !strings.EqualFold(v, "false")
		}
	}

	var routes []Route
	for _, name := range slices.Sorted(maps.Keys(raw)) {
		built := p.buildRoute(raw[name])
		if serviceEnabled {
			routes = append(routes, built...)
		}
	}
	return routes, p.warnings, p.errs
}

// locate returns the file and line of a label key.
func (p *serviceParser) locate(key string) (string, int) {
	if p.opts.Sources != nil {
		if file, line := p.opts.Sources(p.svc.Name, key); file != "" {
			return file, line
		}
	}
	return p.opts.File, 0
}

func (p *serviceParser) fail(key, value string, pr *labelProblem) {
	file, line := p.locate(key)
	p.errs = append(p.errs, &LabelError{
		File: file, Line: line, Service: p.svc.Name, Key: key, Value: value,
		Message: pr.Message, Hint: pr.Hint,
	})
}

func (p *serviceParser) warn(key, hostname, message string) {
	file, line := p.locate(key)
	p.warnings = append(p.warnings, Warning{
		File: file, Line: line, Service: p.svc.Name, Key: key, Hostname: hostname, Message: message,
	})
}

// collectLabels returns the trimmed labels under the prefix, from labels and
// deploy.labels. A key whose value came from a secret-looking variable, or
// whose two sources disagree, is reported and left out.
func (p *serviceParser) collectLabels() map[string]string {
	var deployLabels types.Labels
	if p.svc.Deploy != nil {
		deployLabels = p.svc.Deploy.Labels
	}
	raw := trimKeys(p.opts.RawLabels[p.svc.Name])

	merged := map[string]string{}
	from := map[string]string{}
	for _, source := range []struct {
		name   string
		labels types.Labels
	}{{"labels", p.svc.Labels}, {"deploy.labels", deployLabels}} {
		for _, key := range slices.Sorted(maps.Keys(source.labels)) {
			p.mergeLabel(merged, from, source.name, key, source.labels[key], raw)
		}
	}
	return merged
}

func (p *serviceParser) mergeLabel(merged, from map[string]string, source, key, value string, raw map[string]string) {
	key = strings.TrimSpace(key)
	value = strings.TrimSpace(value)
	prefix := p.opts.Prefix + "."
	if !strings.HasPrefix(key, prefix) {
		if len(key) > len(prefix) && strings.EqualFold(key[:len(prefix)], prefix) {
			p.warn(key, "", fmt.Sprintf("label is ignored because keys are case-sensitive; write it under %q", prefix))
		}
		return
	}
	if p.blocked[key] {
		return
	}

	variable := secretVariable(raw[key])
	if variable == "" {
		variable = secretValueIn(value, p.opts.SecretValues)
	}
	if variable != "" {
		p.blocked[key] = true
		file, line := p.locate(key)
		p.errs = append(p.errs, &LabelError{
			File: file, Line: line, Service: p.svc.Name, Key: key, SecretVar: variable,
			Message: "value interpolated from secret-looking variable " + variable,
			Hint:    "labels are readable by anyone who can inspect the container, so never put a secret in one; use a variable whose name does not look secret if this value is not a secret",
		})
		return
	}

	previous, seen := merged[key]
	switch {
	case !seen:
		merged[key] = value
		from[key] = source
	case previous != value:
		p.blocked[key] = true
		delete(merged, key)
		p.fail(key, "", newLabelProblem(fmt.Sprintf("%s sets %q but %s sets %q", from[key], previous, source, value),
			"give the label one value, or remove it from one of the two"))
	}
}

func trimKeys(labels map[string]string) map[string]string {
	trimmed := make(map[string]string, len(labels))
	for k, v := range labels {
		trimmed[strings.TrimSpace(k)] = v
	}
	return trimmed
}

// groupRoutes sorts the labels into raw routes by route name, reporting keys
// that are mistyped or unknown.
func (p *serviceParser) groupRoutes(labels map[string]string) map[string]*rawRoute {
	routes := map[string]*rawRoute{}
	prefix := p.opts.Prefix + "."

	for _, key := range slices.Sorted(maps.Keys(labels)) {
		value := labels[key]
		if name, _, found := strings.Cut(key, ":"); found {
			// A list item written "key: value" becomes one key holding the
			// value. Its text after the colon is not printed, since it may be
			// an interpolated secret.
			name = strings.TrimSpace(name)
			file, line := p.locate(key)
			p.errs = append(p.errs, &LabelError{
				File: file, Line: line, Service: p.svc.Name, Key: name,
				Message: "label list item is written \"key: value\"",
				Hint:    fmt.Sprintf("in a list of labels write %s=VALUE", name),
			})
			p.blocked[name] = true
			continue
		}

		name, sub, pr := splitLabelKey(p.opts.Prefix, strings.TrimPrefix(key, prefix))
		if pr != nil {
			p.fail(key, value, pr)
			continue
		}
		routeOf(routes, prefix, name).Labels[sub] = value
	}

	// A key reported before its value was read still belongs to its route,
	// so that the route yields nothing and no later check reports the key
	// as missing.
	for key := range p.blocked {
		if rest, ok := strings.CutPrefix(key, prefix); ok {
			if name, sub, pr := splitLabelKey(p.opts.Prefix, rest); pr == nil {
				routeOf(routes, prefix, name).Blocked[sub] = true
			}
		}
	}
	return routes
}

// routeOf returns the raw route called name, adding it when it is new.
func routeOf(routes map[string]*rawRoute, prefix, name string) *rawRoute {
	route := routes[name]
	if route == nil {
		route = &rawRoute{Name: name, Prefix: prefix, Labels: map[string]string{}, Blocked: map[string]bool{}}
		if name != "" {
			route.Prefix = prefix + routesKey + "." + name + "."
		}
		routes[name] = route
	}
	return route
}

// splitLabelKey splits the part of a key after the prefix into a route name
// ("" for the default route) and a known route key, suggesting the nearest
// known key when it is unknown.
func splitLabelKey(prefix, rest string) (string, string, *labelProblem) {
	name, sub := "", rest
	if after, ok := strings.CutPrefix(rest, routesKey+"."); ok {
		var found bool
		name, sub, found = strings.Cut(after, ".")
		if !found || sub == "" {
			return "", "", newLabelProblem("route label has no key after the route name",
				fmt.Sprintf("write %s.%s.NAME.hostname and the other route keys", prefix, routesKey))
		}
		if !routeNamePattern.MatchString(name) {
			return "", "", newLabelProblem(fmt.Sprintf("invalid route name %q", name),
				"a route name has lower-case letters, digits, '_' and '-', and starts with a letter or digit")
		}
	}
	if pr := checkRouteKey(prefix, name, sub); pr != nil {
		if suggestion := suggestKey(rest); suggestion != "" && pr.Hint == "" {
			pr.Hint = "did you mean " + prefix + "." + suggestion + "?"
		}
		return "", "", pr
	}
	return name, sub, nil
}

// checkRouteKey reports a key of one route that is not known.
func checkRouteKey(prefix, name, sub string) *labelProblem {
	if slices.Contains(routeKeys, sub) {
		return nil
	}
	field, ok := strings.CutPrefix(sub, originKey+".")
	if !ok {
		return newLabelProblem("unknown label key", "")
	}
	if _, ok := lookupOriginField(field); ok {
		return nil
	}
	switch {
	case field == "ipRules" || strings.HasPrefix(field, "ipRules."):
		return newLabelProblem("originRequest field ipRules cannot be set from a label",
			"use the file target and write ipRules in cloudflared's config.yml directly")
	case field == accessField:
		return newLabelProblem("access is an object", "set its fields one by one: origin.access.required, origin.access.teamName, origin.access.audTag, origin.access.environment")
	}
	if f, ok := lookupOriginFieldFold(field); ok {
		routePrefix := prefix + "."
		if name != "" {
			routePrefix += routesKey + "." + name + "."
		}
		return newLabelProblem("unknown originRequest field "+field,
			fmt.Sprintf("field names are case-sensitive; did you mean %s%s.%s?", routePrefix, originKey, f.Name))
	}
	return newLabelProblem("unknown originRequest field "+field, "")
}

// knownKeys lists every key one route accepts, after the route's prefix.
func knownKeys() []string {
	keys := slices.Clone(routeKeys)
	for _, f := range originFields {
		keys = append(keys, originKey+"."+f.Name)
	}
	return keys
}

// suggestKey returns the known key (without the prefix) nearest to rest by
// edit distance, or "" when none is near enough to be a likely typo.
func suggestKey(rest string) string {
	candidates := knownKeys()
	if segments := strings.SplitN(rest, ".", 3); len(segments) == 3 {
		for _, k := range knownKeys() {
			candidates = append(candidates, routesKey+"."+segments[1]+"."+k)
		}
	}
	if after, ok := strings.CutPrefix(rest, routesKey+"."); ok {
		if name, _, found := strings.Cut(after, "."); found {
			for _, k := range knownKeys() {
				candidates = append(candidates, routesKey+"."+name+"."+k)
			}
		}
	}

	best, bestDistance := "", len(rest)/3+1
	for _, c := range candidates {
		d := labelKeyDistance(strings.ToLower(rest), strings.ToLower(c))
		if d < bestDistance || (d == bestDistance && best != "" && c < best) {
			best, bestDistance = c, d
		}
	}
	if best == "" || bestDistance > 3 {
		return ""
	}
	return best
}

// labelKeyDistance is the optimal string alignment distance between a and
// b, in bytes: insertions, deletions, substitutions and swaps of two
// neighbouring characters ("hostnmae") each cost one.
func labelKeyDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

// minSecretLength is the shortest secret value searched for in labels, so
// that a secret-named variable holding "1" or "true" does not reject every
// label containing that text.
const minSecretLength = 6

// secretValueIn returns the name of a secret-looking variable whose value
// appears in value, or "". It catches a secret passed through another
// variable (MYHOST=${CLOUDFLARE_API_TOKEN} in .env, then ${MYHOST} in a
// label), which the check of the variable named in the label cannot see.
func secretValueIn(value string, secrets map[string]string) string {
	var found []string
	for secret, name := range secrets {
		if len(secret) >= minSecretLength && strings.Contains(value, secret) {
			found = append(found, name)
		}
	}
	if len(found) == 0 {
		return ""
	}
	sort.Strings(found)
	return found[0]
}

// SecretValues maps the value of every secret-looking variable of env to
// the variable's name, for ParseOptions.SecretValues.
func SecretValues(env map[string]string) map[string]string {
	out := map[string]string{}
	for name, value := range env {
		if looksSecret(name) && len(value) >= minSecretLength {
			if other, ok := out[value]; !ok || name < other {
				out[value] = name
			}
		}
	}
	return out
}

// secretVariable returns the first variable referenced in raw ($NAME,
// ${NAME}, ${NAME:-default}, ...) whose upper-cased name contains TOKEN,
// SECRET, PASSWORD or KEY, or "" when there is none. "$$" is an escaped
// dollar sign and references nothing.
func secretVariable(raw string) string {
	for i := 0; i < len(raw); i++ {
		if raw[i] != '$' || i+1 >= len(raw) {
			continue
		}
		next := raw[i+1]
		if next == '$' {
			i++
			continue
		}
		start := i + 1
		if next == '{' {
			start++
		}
		end := start
		for end < len(raw) && isVariableByte(raw[end], end == start) {
			end++
		}
		if name := raw[start:end]; name != "" && looksSecret(name) {
			return name
		}
		i = end - 1
	}
	return ""
}

func isVariableByte(c byte, first bool) bool {
	switch {
	case c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'):
		return true
	case c >= '0' && c <= '9':
		return !first
	}
	return false
}

func looksSecret(name string) bool {
	upper := strings.ToUpper(name)
	for _, word := range []string{"TOKEN", "SECRET", "PASSWORD", "KEY"} {
		if strings.Contains(upper, word) {
			return true
		}
	}
	return false
}
