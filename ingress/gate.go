package ingress

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/hashicorp/go-multierror"
)

// SecurityLabelKey is the label that keeps a service off every tunnel when
// its value is SecurityInternalOnly. Keys are compared trimmed and in lower
// case, values trimmed and in any case.
const (
	SecurityLabelKey     = "security"
	SecurityInternalOnly = "internal-only"
)

// How values of GateMatch and Violation: the kind of name through which an
// origin reaches an internal-only service.
const (
	HowServiceName          = "service name"
	HowContainerName        = "container_name"
	HowHostname             = "hostname"
	HowNetworkAlias         = "network alias"
	HowLinkAlias            = "link alias"
	HowDefaultContainerName = "default container name"
	HowStaticIP             = "static IP"
	HowSubnetAddress        = "subnet address"
	HowGatewayPort          = "gateway port"
	HowNetworkNamespace     = "network namespace"
	HowServiceItself        = "label on the service itself"
	// HowAnyHost is a bastion or SOCKS proxy origin, whose client picks the
	// destination, so it can reach every service.
	HowAnyHost = "bastion or SOCKS proxy"
)

// ErrSecurityLabel is wrapped by every SecurityLabelError.
var ErrSecurityLabel = errors.New("invalid security label")

// SecurityLabelError is a security label whose value is not internal-only.
type SecurityLabelError struct {
	File    string
	Line    int
	Service string
	Key     string
	Value   string
}

func (e *SecurityLabelError) Error() string {
	return fmt.Sprintf("%sservice %q, label %q: %v %q: set it to %q to keep the service off every tunnel, or remove it",
		gateLocationPrefix(e.File, e.Line), e.Service, e.Key, ErrSecurityLabel, e.Value, SecurityInternalOnly)
}

// Unwrap returns ErrSecurityLabel.
func (e *SecurityLabelError) Unwrap() error { return ErrSecurityLabel }

// GateOptions configures NewGate.
type GateOptions struct {
	// Sources returns the file and line of a label, with line 0 when the
	// line is unknown. It may be nil.
	Sources func(service, key string) (file string, line int)
	// File is the compose file named in errors when Sources is nil or
	// returns no file.
	File string
}

// GateMatch is the internal-only service an origin reaches and the name
// through which it reaches it.
type GateMatch struct {
	// InternalService is the internal-only service reached. For a subnet
	// address or a bastion origin it is every internal-only service
	// concerned, sorted and joined with ", ".
	InternalService string
	MatchedName     string
	How             string
}

// Violation is a route whose origin reaches an internal-only service, or a
// route declared on an internal-only service.
type Violation struct {
	Service         string `json:"service"`
	Route           string `json:"route,omitempty"`
	Hostname        string `json:"hostname"`
	Path            string `json:"path,omitempty"`
	Origin          string `json:"origin"`
	InternalService string `json:"internal_service"`
	MatchedName     string `json:"matched_name"`
	How             string `json:"how"`
	Source          Source `json:"source"`
}

func (v Violation) Error() string {
	route := fmt.Sprintf("hostname %q", v.Hostname)
	if v.Path != "" {
		route += fmt.Sprintf(" path %q", v.Path)
	}
	prefix := fmt.Sprintf("%sservice %q, %s", gateLocationPrefix(v.Source.File, v.Source.Line), v.Service, route)

	switch v.How {
	case HowServiceItself:
		if v.InternalService != v.Service {
			return fmt.Sprintf("%s: service %q shares the network namespace of internal-only service %q and may not declare tunnel routes: remove the route labels or its network_mode",
				prefix, v.Service, v.InternalService)
		}
		return fmt.Sprintf("%s: service %q is internal-only and may not declare tunnel routes: remove the route labels or the %s=%s label",
			prefix, v.Service, SecurityLabelKey, SecurityInternalOnly)
	case HowNetworkNamespace:
		return fmt.Sprintf("%s: origin %q reaches internal-only service %q through %q, which shares its network namespace: point the route at another service",
			prefix, v.Origin, v.InternalService, v.MatchedName)
	case HowAnyHost:
		return fmt.Sprintf("%s: origin %q lets the client choose the destination, which may be internal-only %s: use an origin URL with a fixed host, without bastion mode or a SOCKS proxy",
			prefix, v.Origin, quoteServiceList(v.InternalService))
	case HowSubnetAddress:
		return fmt.Sprintf("%s: origin %q is an address in the subnet of a network of internal-only %s: use the static address or the name of a service that is not internal-only",
			prefix, v.Origin, quoteServiceList(v.InternalService))
	case HowGatewayPort:
		return fmt.Sprintf("%s: origin %q reaches internal-only service %q through gateway port %q, published on the docker host: point the route at another service",
			prefix, v.Origin, v.InternalService, v.MatchedName)
	}
	return fmt.Sprintf("%s: origin %q reaches internal-only service %q through its %s %q: point the route at another service",
		prefix, v.Origin, v.InternalService, v.How, v.MatchedName)
}

// quoteServiceList turns "a, b" into `services "a", "b"` and "a" into
// `service "a"`.
func quoteServiceList(joined string) string {
	names := strings.Split(joined, ", ")
	quoted := make([]string, len(names))
	for i, name := range names {
		quoted[i] = strconv.Quote(name)
	}
	if len(names) == 1 {
		return "service " + quoted[0]
	}
	return "services " + strings.Join(quoted, ", ")
}

func gateLocationPrefix(file string, line int) string {
	switch {
	case file == "":
		return ""
	case line > 0:
		return fmt.Sprintf("%s:%d: ", file, line)
	}
	return file + ": "
}

// Gate decides whether an origin reaches a service labelled
// security=internal-only. It fails closed, so it rejects a name or address
// that may reach such a service by any name or address compose gives it.
type Gate struct {
	project string
	// services maps every service name, enabled or in an inactive profile,
	// to its configuration.
	services map[string]types.ServiceConfig
	// labelled contains the services with a security label: valid ones, and
	// invalid ones too, because an invalid label fails closed.
	labelled map[string]bool
	// roots maps a service to the sorted labelled services of its network
	// namespace group; a service is internal-only when it has any.
	roots map[string][]string

	index gateIndex
}

// NewGate reads the security labels of every service of p, including those
// in inactive profiles, and indexes every name and address compose gives
// them. On invalid labels it returns a *multierror.Error of sorted
// *SecurityLabelError values together with a usable gate in which those
// services count as internal-only, so callers can report violations too.
func NewGate(p *types.Project, opts GateOptions) (*Gate, error) {
	if p == nil {
		return nil, errors.New("security gate: no compose project")
	}

	g := &Gate{
		project:  strings.ToLower(p.Name),
		services: map[string]types.ServiceConfig{},
		labelled: map[string]bool{},
	}
	for name, s := range p.DisabledServices {
		g.services[name] = s
	}
	for name, s := range p.Services {
		g.services[name] = s
	}

	labelErrs := g.readSecurityLabels(opts)
	g.index = buildGateIndex(p, g.services, g.project)
	g.roots = g.index.namespaceRoots(g.services, g.labelled)

	if len(labelErrs) > 0 {
		return g, &multierror.Error{Errors: labelErrs}
	}
	return g, nil
}

// readSecurityLabels marks labelled services and returns one sorted error
// for every security label whose value is not internal-only.
func (g *Gate) readSecurityLabels(opts GateOptions) []error {
	var found []*SecurityLabelError
	for _, name := range gateSortedKeys(g.services) {
		s := g.services[name]
		sets := []types.Labels{s.Labels}
		if s.Deploy != nil {
			sets = append(sets, s.Deploy.Labels)
		}

		for _, labels := range sets {
			for _, key := range gateSortedKeys(labels) {
				if strings.ToLower(strings.TrimSpace(key)) != SecurityLabelKey {
					continue
				}
				g.labelled[name] = true
				value := labels[key]
				if strings.EqualFold(strings.TrimSpace(value), SecurityInternalOnly) {
					continue
				}
				file, line := opts.File, 0
				if opts.Sources != nil {
					if f, l := opts.Sources(name, key); f != "" {
						file, line = f, l
					}
				}
				found = append(found, &SecurityLabelError{File: file, Line: line, Service: name, Key: key, Value: value})
			}
		}
	}

	slices.SortFunc(found, func(a, b *SecurityLabelError) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Service, b.Service), cmp.Compare(a.Key, b.Key), cmp.Compare(a.Value, b.Value))
	})
	errs := make([]error, len(found))
	for i, e := range found {
		errs[i] = e
	}
	return errs
}

// IsInternal reports whether service is internal-only: labelled
// security=internal-only, or sharing a network namespace with such a service.
// An unknown name is matched without case as a fallback.
func (g *Gate) IsInternal(service string) bool {
	if _, ok := g.services[service]; !ok {
		service = g.index.serviceByLower[strings.ToLower(service)]
	}
	return len(g.roots[service]) > 0
}

// Internal returns the sorted names of the internal-only services.
func (g *Gate) Internal() []string {
	var names []string
	for _, name := range gateSortedKeys(g.services) {
		if len(g.roots[name]) > 0 {
			names = append(names, name)
		}
	}
	return names
}

// CheckOrigin reports whether the cloudflared service string origin reaches
// an internal-only service, and through which name.
func (g *Gate) CheckOrigin(origin string) (GateMatch, bool) {
	target := parseGateOrigin(origin)
	switch target.kind {
	case gateOriginNone:
		return GateMatch{}, false
	case gateOriginAnyHost:
		return g.anyHostMatch(origin)
	}

	var subnetRoots []string
	var subnetName string
	for _, hit := range g.index.resolve(target) {
		roots := g.roots[hit.service]
		if len(roots) == 0 {
			continue
		}
		if hit.how == HowSubnetAddress {
			subnetRoots = append(subnetRoots, roots...)
			subnetName = hit.name
			continue
		}
		return g.matchFor(hit, roots), true
	}

	if len(subnetRoots) > 0 {
		slices.Sort(subnetRoots)
		return GateMatch{InternalService: strings.Join(slices.Compact(subnetRoots), ", "), MatchedName: subnetName, How: HowSubnetAddress}, true
	}
	return GateMatch{}, false
}

// matchFor names the labelled service itself when it was reached directly,
// and the first labelled service of its namespace group otherwise.
func (g *Gate) matchFor(hit gateHit, roots []string) GateMatch {
	if g.labelled[hit.service] {
		return GateMatch{InternalService: hit.service, MatchedName: hit.name, How: hit.how}
	}
	how := HowNetworkNamespace
	if hit.how == HowGatewayPort {
		how = HowGatewayPort
	}
	return GateMatch{InternalService: roots[0], MatchedName: hit.name, How: how}
}

func (g *Gate) anyHostMatch(origin string) (GateMatch, bool) {
	internal := gateSortedKeys(g.labelled)
	if len(internal) == 0 {
		return GateMatch{}, false
	}
	return GateMatch{InternalService: strings.Join(internal, ", "), MatchedName: strings.TrimSpace(origin), How: HowAnyHost}, true
}

// ServiceFor returns the compose service, internal-only or not, that origin
// reaches by the gate's name resolution. An address inside a subnet that is
// no service's static address reaches no known service. When several
// services share a name, the most specific kind of name wins, then the
// first service in sorted order.
func (g *Gate) ServiceFor(origin string) (service string, ok bool) {
	target := parseGateOrigin(origin)
	if target.kind != gateOriginHost {
		return "", false
	}
	for _, hit := range g.index.resolve(target) {
		if hit.how != HowSubnetAddress {
			return hit.service, true
		}
	}
	return "", false
}

// CheckRoutes returns a violation for every route declared on an
// internal-only service and every route whose origin reaches one, sorted by
// file, line, service, hostname and path.
func (g *Gate) CheckRoutes(routes []Route) []Violation {
	var violations []Violation
	for _, r := range routes {
		if m, ok := g.checkRoute(r); ok {
			// A route declared on the internal-only service is wrong where
			// it is declared; any other points at the label of its origin.
			source := r.Source
			if m.How != HowServiceItself && r.OriginSource.File != "" {
				source = r.OriginSource
			}
			violations = append(violations, Violation{
				Service: r.Service, Route: r.Name, Hostname: r.Hostname, Path: r.Path, Origin: r.Origin,
				InternalService: m.InternalService, MatchedName: m.MatchedName, How: m.How, Source: source,
			})
		}
	}

	slices.SortFunc(violations, func(a, b Violation) int {
		return cmp.Or(cmp.Compare(a.Source.File, b.Source.File), cmp.Compare(a.Source.Line, b.Source.Line),
			cmp.Compare(a.Service, b.Service), cmp.Compare(a.Hostname, b.Hostname), cmp.Compare(a.Path, b.Path),
			cmp.Compare(a.Origin, b.Origin), cmp.Compare(a.Route, b.Route))
	})
	return violations
}

func (g *Gate) checkRoute(r Route) (GateMatch, bool) {
	if g.IsInternal(r.Service) {
		service := r.Service
		if _, ok := g.services[service]; !ok {
			service = g.index.serviceByLower[strings.ToLower(service)]
		}
		if g.labelled[service] {
			return GateMatch{InternalService: service, MatchedName: r.Service, How: HowServiceItself}, true
		}
		return GateMatch{InternalService: g.roots[service][0], MatchedName: r.Service, How: HowServiceItself}, true
	}

	// cloudflared ignores the service URL in bastion mode, and a SOCKS proxy
	// type lets the client choose the destination.
	bastion, _ := r.OriginRequest["bastionMode"].(bool)
	proxyType, _ := r.OriginRequest["proxyType"].(string)
	if bastion || strings.EqualFold(proxyType, "socks") {
		return g.anyHostMatch(r.Origin)
	}
	return g.CheckOrigin(r.Origin)
}

func gateSortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
