package ingress

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// routeDraft contains the checked values of one raw route while it is built.
type routeDraft struct {
	raw    *rawRoute
	failed bool

	hostnames []string
	path      string
	origin    string
	request   OriginRequest
	dns       bool
	zone      string
	enabled   bool
}

// buildRoute validates one raw route and returns one Route per hostname, or
// none when any of its labels is invalid or the route is disabled. Every
// label is checked even after the first error, so one run reports them all.
func (p *serviceParser) buildRoute(raw *rawRoute) []Route {
	d := &routeDraft{raw: raw, request: OriginRequest{}, dns: true, enabled: true}
	values := p.checkValues(d)

	p.parseHostnames(d, values)
	p.parsePathLabel(d, values)
	p.parseOrigin(d, values)
	p.parseOriginFields(d, values)
	p.parseFlags(d, values)
	p.parseZone(d, values)
	p.checkHostnamePresent(d, values)

	if d.failed || !d.enabled || len(d.hostnames) == 0 {
		return nil
	}
	return p.routesOf(d)
}

func (p *serviceParser) routesOf(d *routeDraft) []Route {
	key := d.raw.Prefix + "hostname"
	file, line := p.locate(key)
	originKey := key
	for _, sub := range []string{"service", "port"} {
		if _, set := d.raw.Labels[sub]; set {
			originKey = d.raw.Prefix + sub
			break
		}
	}
	originFile, originLine := p.locate(originKey)
	routes := make([]Route, 0, len(d.hostnames))
	for _, host := range d.hostnames {
		route := Route{
			Service: p.svc.Name, Name: d.raw.Name, Hostname: host, Path: d.path,
			Origin: d.origin, DNS: d.dns, Zone: d.zone,
			Source:       Source{File: file, Line: line, Service: p.svc.Name, Key: key},
			OriginSource: Source{File: originFile, Line: originLine, Service: p.svc.Name, Key: originKey},
		}
		if len(d.request) > 0 {
			route.OriginRequest = cloneOriginRequest(d.request)
		}
		routes = append(routes, route)
	}
	return routes
}

// cloneOriginRequest copies the request and its nested access object, so that
// routes of one label never share a map.
func cloneOriginRequest(req OriginRequest) OriginRequest {
	out := make(OriginRequest, len(req))
	for k, v := range req {
		if nested, ok := v.(OriginRequest); ok {
			v = cloneOriginRequest(nested)
		}
		out[k] = v
	}
	return out
}

func (p *serviceParser) failRoute(d *routeDraft, sub, value string, pr *labelProblem) {
	d.failed = true
	p.fail(d.raw.Prefix+sub, value, pr)
}

// checkValues returns the labels of the route whose values pass the checks
// that apply to every key: not empty and not wrapped in quote characters.
// Labels blocked earlier mark the route as failed.
func (p *serviceParser) checkValues(d *routeDraft) map[string]string {
	values := map[string]string{}
	if len(d.raw.Blocked) > 0 {
		d.failed = true
	}
	for _, sub := range slices.Sorted(maps.Keys(d.raw.Labels)) {
		value := d.raw.Labels[sub]
		switch {
		case value == "":
			p.failRoute(d, sub, "", newLabelProblem("missing value",
				fmt.Sprintf("write %s%s=VALUE; a list item without '=' sets an empty value", d.raw.Prefix, sub)))
		case isQuoted(value):
			p.failRoute(d, sub, value, newLabelProblem("value is wrapped in quote characters",
				"remove them: in a list item such as - key=\"value\" the quotes are part of the value"))
		default:
			values[sub] = value
		}
	}
	return values
}

func isQuoted(value string) bool {
	if len(value) < 2 {
		return false
	}
	first, last := value[0], value[len(value)-1]
	return first == last && (first == '"' || first == '\'')
}

// parseHostnames normalises the comma-separated hostname list.
func (p *serviceParser) parseHostnames(d *routeDraft, values map[string]string) {
	value, ok := values["hostname"]
	if !ok {
		return
	}
	var hostnames []string
	for item := range strings.SplitSeq(value, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			p.failRoute(d, "hostname", value, newLabelProblem("empty item in the hostname list", "remove the extra comma"))
			continue
		}
		host, err := NormalizeHostname(item)
		if err != nil {
			herr := err.(*HostnameError)
			p.failRoute(d, "hostname", value, newLabelProblem(fmt.Sprintf("invalid hostname %q: %s", item, herr.Reason), herr.Hint))
			continue
		}
		if slices.Contains(hostnames, host) {
			p.failRoute(d, "hostname", value, newLabelProblem(fmt.Sprintf("hostname %q is listed twice", host), "list each hostname once"))
			continue
		}
		if strings.HasPrefix(host, "*.") {
			p.warn(d.raw.Prefix+"hostname", host, fmt.Sprintf(
				"cloudflared matches a wildcard at any depth, but a Universal SSL certificate covers only one level, so a name such as a.b.%s gets no valid certificate", host[2:]))
		}
		hostnames = append(hostnames, host)
	}
	d.hostnames = hostnames
}

// globPath matches a path that ends in "/*", which a glob reader means as
// "everything below" but a regular expression reads as "any number of
// slashes".
var globPath = regexp.MustCompile(`/\*$`)

// parsePathLabel checks the path regular expression and anchors it at the
// start. It never adds "$", so "/api" also matches "/apiary".
func (p *serviceParser) parsePathLabel(d *routeDraft, values map[string]string) {
	value, ok := values["path"]
	if !ok {
		return
	}
	if strings.Contains(strings.ToLower(value), "portcullis-revoked") {
		p.failRoute(d, "path", value, newLabelProblem("path is reserved for revocation rules",
			"use another path; portcullis marks revocations with "+RevocationPath))
		return
	}
	// A path that compiles alone has balanced groups, so wrapping it in
	// ^(?:...) cannot turn one of its alternatives into an unanchored one.
	if _, err := regexp.Compile(value); err != nil {
		p.failRoute(d, "path", value, newLabelProblem(fmt.Sprintf("invalid regular expression: %v", err),
			"cloudflared paths are Go regular expressions, not globs; for everything under /api write ^/api(/|$)"))
		return
	}
	path := value
	if !strings.HasPrefix(path, "^") {
		path = "^(?:" + path + ")"
	}
	if path == RevocationPath {
		p.failRoute(d, "path", value, newLabelProblem("path is reserved for revocation rules", "use another path"))
		return
	}
	if globPath.MatchString(value) {
		below := strings.TrimPrefix(strings.TrimSuffix(value, "/*"), "^")
		p.warn(d.raw.Prefix+"path", "", fmt.Sprintf(
			"path is a regular expression, not a glob: %q ends in any number of slashes, not in anything below %s; for everything under it write ^%s(/|$)",
			value, below+"/", below))
	}
	d.path = path
}

// parseOrigin builds the cloudflared service string from the service label,
// or from scheme, the compose service name and port.
func (p *serviceParser) parseOrigin(d *routeDraft, values map[string]string) {
	service, hasService := values["service"]
	port, hasPort := values["port"]
	scheme, hasScheme := values["scheme"]

	if _, set := d.raw.Labels["service"]; set {
		var drop []string
		for _, k := range []string{"port", "scheme"} {
			if _, ok := d.raw.Labels[k]; ok {
				drop = append(drop, d.raw.Prefix+k)
			}
		}
		if len(drop) > 0 {
			p.failRoute(d, "service", service, newLabelProblem("service sets the whole origin, so it cannot be combined with "+strings.Join(drop, " or "),
				"drop "+strings.Join(drop, " and ")+", or drop "+d.raw.Prefix+"service"))
			return
		}
	}
	if hasService {
		origin, pr := parseOriginService(service)
		if pr != nil {
			p.failRoute(d, "service", service, pr)
			return
		}
		d.origin = origin
		return
	}

	failed := false
	if !hasScheme {
		scheme = defaultScheme
	} else if s, pr := parseScheme(scheme); pr != nil {
		p.failRoute(d, "scheme", scheme, pr)
		failed = true
	} else {
		scheme = s
	}

	number, portSet := 0, false
	if _, portSet = d.raw.Labels["port"]; hasPort {
		n, pr := parseLabelPort(port)
		if pr != nil {
			p.failRoute(d, "port", port, pr)
			failed = true
		}
		number = n
	}
	_, hasHostname := d.raw.Labels["hostname"]
	if failed || len(d.raw.Blocked) > 0 || (portSet && !hasPort) || (!portSet && !hasHostname) {
		// Either an error is already reported, or the route declares no
		// hostname, which checkHostnamePresent reports.
		return
	}

	if !portSet {
		n, pr := inferPort(p.svc, d.raw.Prefix+"port")
		if pr != nil {
			p.failRoute(d, "hostname", d.raw.Labels["hostname"], pr)
			return
		}
		number = n
	}
	d.origin = fmt.Sprintf("%s://%s:%d", scheme, p.svc.Name, number)
}

// parseOriginFields types the origin.<field> labels of the route.
func (p *serviceParser) parseOriginFields(d *routeDraft, values map[string]string) {
	for _, sub := range slices.Sorted(maps.Keys(values)) {
		name, ok := strings.CutPrefix(sub, originKey+".")
		if !ok {
			continue
		}
		field, _ := lookupOriginField(name)
		value, pr := parseOriginValue(field, values[sub], p.opts.Target)
		if pr != nil {
			p.failRoute(d, sub, values[sub], pr)
			continue
		}
		setOriginValue(d.request, field.Name, value)
	}
	if pr := checkAccess(d.request); pr != nil {
		p.failRoute(d, originKey+".access.required", values[originKey+".access.required"], pr)
	}
}

// parseFlags reads the dns and enable booleans.
func (p *serviceParser) parseFlags(d *routeDraft, values map[string]string) {
	if value, ok := values["enable"]; ok {
		enabled, pr := parseLabelBool(value)
		if pr != nil {
			p.failRoute(d, "enable", value, pr)
		}
		d.enabled = enabled || pr != nil
	}

	value, ok := values["dns"]
	if !ok {
		return
	}
	dns, pr := parseLabelBool(value)
	if pr != nil {
		p.failRoute(d, "dns", value, pr)
		return
	}
	if p.opts.Target == labelTargetFile {
		p.warnings = append(p.warnings, Warning{
			Key:     p.opts.Prefix + ".dns",
			Message: "the file target manages no DNS records, so this label is ignored; create each CNAME with cloudflared tunnel route dns",
		})
		return
	}
	if !dns && !p.opts.Exclusive {
		p.failRoute(d, "dns", value, newLabelProblem(
			"a route without a CNAME needs the tunnel to be exclusive, because portcullis records ownership in the CNAME's comment",
			"set exclusive: <tunnel-id> in the settings, or remove the label"))
		return
	}
	d.dns = dns
}

// parseZone checks the zone label and that every hostname lies in the zone.
func (p *serviceParser) parseZone(d *routeDraft, values map[string]string) {
	value, ok := values["zone"]
	if !ok {
		return
	}
	zone, err := normalizeZone(value)
	if err != nil {
		herr := err.(*HostnameError)
		p.failRoute(d, "zone", value, newLabelProblem("invalid zone: "+herr.Reason, herr.Hint))
		return
	}
	for _, host := range d.hostnames {
		if !hostInZone(host, zone) {
			p.failRoute(d, "zone", value, newLabelProblem(fmt.Sprintf("hostname %q is not in zone %q", host, zone),
				"use a hostname under the zone, or the zone that holds it"))
		}
	}
	d.zone = zone
}

// checkHostnamePresent reports a route whose labels set something but no
// hostname, because those labels would silently do nothing.
func (p *serviceParser) checkHostnamePresent(d *routeDraft, values map[string]string) {
	if _, ok := d.raw.Labels["hostname"]; ok || d.raw.Blocked["hostname"] {
		return
	}
	if _, ok := d.raw.Labels["path"]; ok {
		p.failRoute(d, "path", values["path"], newLabelProblem("path set without a hostname",
			"add "+d.raw.Prefix+"hostname; cloudflared would otherwise apply the path to every hostname"))
		return
	}
	for _, sub := range slices.Sorted(maps.Keys(d.raw.Labels)) {
		if sub != "enable" {
			p.failRoute(d, sub, values[sub], newLabelProblem("route has no hostname",
				"add "+d.raw.Prefix+"hostname, or remove the route's other labels"))
			return
		}
	}
}
