package ingress

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"unicode"

	"github.com/compose-spec/compose-go/v2/types"
)

// ExposureGraph is the exposure map of a compose project: the public
// hostnames the tunnel serves, the services they reach, the networks those
// services share, and host ports published beside the tunnel. Every slice
// is sorted, so the renderers give the same bytes on every run.
type ExposureGraph struct {
	Project string
	// Tunnel is the compose service that runs cloudflared, or "".
	Tunnel    string
	Hostnames []GraphHostname
	Services  []GraphService
	Networks  []GraphNetwork
	Ports     []GraphPort
}

// GraphHostname is one route: a public hostname and path and the origin it
// sends traffic to.
type GraphHostname struct {
	ID       string
	Hostname string
	Path     string
	Origin   string
	// Service is the compose service the origin reaches, or "" when it
	// reaches none (http_status:, hello_world, a host outside the project).
	Service string
	// Refused is set when the security gate refuses the route.
	Refused bool
}

// GraphService is one compose service on the map.
type GraphService struct {
	ID       string
	Name     string
	Internal bool
	Networks []string
}

// GraphNetwork is one compose network that a service on the map uses.
type GraphNetwork struct {
	ID   string
	Name string
	// Internal is compose's internal: true, a network with no route out.
	Internal bool
}

// GraphPort is a way in beside the tunnel: a published host port, or the
// host network of a service with network_mode: host.
type GraphPort struct {
	ID      string
	Service string
	Label   string
	// LoopbackOnly is set for a port bound to a loopback address, which only
	// the docker host itself reaches.
	LoopbackOnly bool
}

// BuildExposureGraph draws the map of p from its active routes. A service
// is on the map when it runs cloudflared, is reached by a route, is
// internal-only, or publishes host ports. cloudflaredService is the
// audit.cloudflared_service setting; "" finds the service by its image.
func BuildExposureGraph(p *types.Project, g *Gate, routes []Route, cloudflaredService string) (*ExposureGraph, error) {
	found, err := FindCloudflaredService(p, cloudflaredService)
	if err != nil {
		return nil, err
	}
	x := &ExposureGraph{Project: p.Name}
	if len(found) > 0 {
		x.Tunnel = found[0]
	}

	onMap := map[string]bool{}
	if x.Tunnel != "" {
		onMap[x.Tunnel] = true
	}
	x.addHostnames(g, routes, onMap)
	x.addPorts(p, onMap)
	for _, name := range g.Internal() {
		if _, active := p.Services[name]; active {
			onMap[name] = true
		}
	}
	x.addServices(p, g, onMap)
	assignGraphIDs(x)
	return x, nil
}

func (x *ExposureGraph) addHostnames(g *Gate, routes []Route, onMap map[string]bool) {
	for _, r := range routes {
		h := GraphHostname{Hostname: r.Hostname, Path: r.Path, Origin: r.Origin}
		_, h.Refused = g.checkRoute(r)
		if service, _, ok := g.reachedService(r.Origin); ok {
			h.Service = service
			onMap[service] = true
		}
		x.Hostnames = append(x.Hostnames, h)
	}
	slices.SortFunc(x.Hostnames, func(a, b GraphHostname) int {
		return strings.Compare(a.Hostname+"\x00"+a.Path+"\x00"+a.Origin, b.Hostname+"\x00"+b.Path+"\x00"+b.Origin)
	})
}

func (x *ExposureGraph) addPorts(p *types.Project, onMap map[string]bool) {
	for _, svc := range sortedServices(p.Services) {
		if strings.TrimSpace(svc.NetworkMode) == hostNetworkMode {
			x.Ports = append(x.Ports, GraphPort{Service: svc.Name, Label: "host network: every port"})
			onMap[svc.Name] = true
		}
		for _, port := range svc.Ports {
			loopback := false
			if addr, err := netip.ParseAddr(strings.Trim(port.HostIP, "[]")); err == nil {
				loopback = addr.IsLoopback()
			}
			x.Ports = append(x.Ports, GraphPort{Service: svc.Name, Label: describePortShort(port), LoopbackOnly: loopback})
			onMap[svc.Name] = true
		}
	}
}

// describePortShort writes a ports entry as HOST_IP:PUBLISHED→TARGET/PROTO.
func describePortShort(port types.ServicePortConfig) string {
	ip := stringOrDefault(port.HostIP, "0.0.0.0")
	published := stringOrDefault(port.Published, "random")
	return fmt.Sprintf("host port %s:%s → %d/%s", ip, published, port.Target, stringOrDefault(port.Protocol, "tcp"))
}

func (x *ExposureGraph) addServices(p *types.Project, g *Gate, onMap map[string]bool) {
	services := servicesWithDisabled(p)
	networks := map[string]bool{}
	for _, name := range gateSortedKeys(onMap) {
		svc := GraphService{Name: name, Internal: g.IsInternal(name)}
		if nets, known := composeServiceNetworks(services, name); known {
			for _, n := range nets {
				if n != hostNetworkMode {
					svc.Networks = append(svc.Networks, n)
					networks[n] = true
				}
			}
		}
		x.Services = append(x.Services, svc)
	}
	for _, name := range gateSortedKeys(networks) {
		x.Networks = append(x.Networks, GraphNetwork{Name: name, Internal: p.Networks[name].Internal})
	}
}

// assignGraphIDs gives every node an identifier that Mermaid and DOT accept
// unquoted, unique on the map and stable for the same input.
func assignGraphIDs(x *ExposureGraph) {
	used := map[string]bool{}
	for i := range x.Hostnames {
		x.Hostnames[i].ID = uniqueGraphID(used, "h_"+graphIDText(x.Hostnames[i].Hostname))
	}
	for i := range x.Services {
		x.Services[i].ID = uniqueGraphID(used, "s_"+graphIDText(x.Services[i].Name))
	}
	for i := range x.Networks {
		x.Networks[i].ID = uniqueGraphID(used, "n_"+graphIDText(x.Networks[i].Name))
	}
	for i := range x.Ports {
		x.Ports[i].ID = uniqueGraphID(used, "p_"+graphIDText(x.Ports[i].Service))
	}
}

func graphIDText(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

func uniqueGraphID(used map[string]bool, base string) string {
	id := base
	for n := 2; used[id]; n++ {
		id = fmt.Sprintf("%s_%d", base, n)
	}
	used[id] = true
	return id
}

// serviceID returns the node identifier of a service on the map.
func (x *ExposureGraph) serviceID(name string) (string, bool) {
	for _, s := range x.Services {
		if s.Name == name {
			return s.ID, true
		}
	}
	return "", false
}

func (x *ExposureGraph) networkID(name string) string {
	for _, n := range x.Networks {
		if n.Name == name {
			return n.ID
		}
	}
	return ""
}

// lines returns the text of a hostname node: the hostname, and the path on
// a second line when there is one.
func (h GraphHostname) lines() []string {
	if h.Path == "" {
		return []string{h.Hostname}
	}
	return []string{h.Hostname, "path " + h.Path}
}
