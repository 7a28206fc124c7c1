package ingress

import (
	"cmp"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
)

// gateHit is one service that a host reaches, the name that matched and its
// kind (one of the How constants).
type gateHit struct {
	service string
	name    string
	how     string
}

// howRank orders the kinds of name from most to least specific, so that
// ServiceFor and CheckOrigin return the same service on every run.
var howRank = map[string]int{
	HowServiceName:          0,
	HowContainerName:        1,
	HowHostname:             2,
	HowNetworkAlias:         3,
	HowLinkAlias:            4,
	HowDefaultContainerName: 5,
}

// gateSubnet is one network address range and the services attached to it.
type gateSubnet struct {
	prefix  netip.Prefix
	members []string
}

// gatePublished is a host port range that a service publishes. Low 0 means
// every port, because docker picks the port or the service uses the host
// network.
type gatePublished struct {
	service   string
	low, high int
}

// hostGatewayValue is the extra_hosts value docker replaces with the host's
// gateway address.
const hostGatewayValue = "host-gateway"

// dockerDefaultPool is the range docker's default address pools start with
// (172.17.0.0/16 to 172.31.0.0/16, then 192.168.0.0/16 in /20 blocks). A
// network without a declared subnet gets its addresses from there.
var dockerDefaultPool = netip.MustParsePrefix("172.16.0.0/12")

// gateIndex contains every name and address compose gives the services of a
// project, for services in inactive profiles too.
type gateIndex struct {
	project        string
	serviceByLower map[string]string
	names          map[string][]gateHit
	// networkNames are the network keys and their docker names, because
	// docker's embedded DNS server also resolves NAME.NETWORK (libnetwork's
	// Sandbox.ResolveName).
	networkNames []string
	staticIPs    map[netip.Addr][]string
	subnets      []gateSubnet
	gatewayAddrs map[netip.Addr]bool
	published    []gatePublished
	extraHosts   map[string][]string
}

func buildGateIndex(p *types.Project, services map[string]types.ServiceConfig, project string) gateIndex {
	idx := gateIndex{
		project:        project,
		serviceByLower: map[string]string{},
		names:          map[string][]gateHit{},
		staticIPs:      map[netip.Addr][]string{},
		gatewayAddrs:   map[netip.Addr]bool{},
		extraHosts:     map[string][]string{},
	}

	names := gateSortedKeys(services)
	for _, name := range names {
		idx.serviceByLower[strings.ToLower(name)] = name
	}
	for _, name := range names {
		idx.addServiceNames(name, services[name])
		idx.addPublishedPorts(name, services[name])
		idx.addExtraHosts(services[name])
	}
	for _, name := range names {
		idx.addLinks(name, services[name])
	}
	for key, hits := range idx.names {
		slices.SortFunc(hits, func(a, b gateHit) int {
			return cmp.Or(cmp.Compare(howRank[a.how], howRank[b.how]), cmp.Compare(a.service, b.service))
		})
		idx.names[key] = slices.Compact(hits)
	}

	idx.addNetworks(p, services)
	return idx
}

func (idx *gateIndex) addName(name, service, how string) {
	name = strings.TrimRight(strings.ToLower(strings.TrimSpace(name)), ".")
	if name == "" {
		return
	}
	idx.names[name] = append(idx.names[name], gateHit{service: service, how: how})
}

func (idx *gateIndex) addServiceNames(name string, s types.ServiceConfig) {
	idx.addName(name, name, HowServiceName)
	idx.addName(s.ContainerName, name, HowContainerName)
	if s.Hostname != "" {
		idx.addName(s.Hostname, name, HowHostname)
		if s.DomainName != "" {
			idx.addName(s.Hostname+"."+s.DomainName, name, HowHostname)
		}
	}

	for _, network := range gateSortedKeys(s.Networks) {
		cfg := s.Networks[network]
		if cfg == nil {
			continue
		}
		for _, alias := range cfg.Aliases {
			idx.addName(alias, name, HowNetworkAlias)
		}
		for _, text := range append([]string{cfg.Ipv4Address, cfg.Ipv6Address}, cfg.LinkLocalIPs...) {
			for _, addr := range normaliseGateHost(text).addrs {
				if !slices.Contains(idx.staticIPs[addr], name) {
					idx.staticIPs[addr] = append(idx.staticIPs[addr], name)
				}
			}
		}
	}
}

// addLinks indexes links ("db", "db:alias"), which name a service, and
// external_links ("container:alias"), which name a container. An alias is
// only visible to the service that declares the link, but the gate does not
// know which service runs cloudflared, so every alias counts.
func (idx *gateIndex) addLinks(_ string, s types.ServiceConfig) {
	for _, link := range s.Links {
		target, alias, found := strings.Cut(link, ":")
		if !found {
			alias = target
		}
		if service, ok := idx.serviceByLower[strings.ToLower(strings.TrimSpace(target))]; ok {
			idx.addName(alias, service, HowLinkAlias)
		}
	}
	for _, link := range s.ExternalLinks {
		target, alias, found := strings.Cut(link, ":")
		if !found {
			continue
		}
		for _, hit := range idx.lookupName(normaliseGateHost(target).name, "") {
			idx.addName(alias, hit.service, HowLinkAlias)
		}
	}
}

func (idx *gateIndex) addPublishedPorts(name string, s types.ServiceConfig) {
	if s.NetworkMode == "host" {
		// A service on the host network listens on host ports that compose
		// does not list.
		idx.published = append(idx.published, gatePublished{service: name})
		return
	}
	for _, port := range s.Ports {
		low, high := parsePublishedRange(port.Published)
		idx.published = append(idx.published, gatePublished{service: name, low: low, high: high})
	}
}

// parsePublishedRange reads "8080" or "8000-8010". An empty value (docker
// picks the port) or one that does not parse gives 0, 0: every port.
func parsePublishedRange(published string) (low, high int) {
	first, last, isRange := strings.Cut(strings.TrimSpace(published), "-")
	if !isRange {
		last = first
	}
	low, errLow := strconv.Atoi(strings.TrimSpace(first))
	high, errHigh := strconv.Atoi(strings.TrimSpace(last))
	if errLow != nil || errHigh != nil || low < 1 || high < low {
		return 0, 0
	}
	return low, high
}

func (idx *gateIndex) addExtraHosts(s types.ServiceConfig) {
	for _, host := range gateSortedKeys(s.ExtraHosts) {
		name := normaliseGateHost(host).name
		for _, value := range s.ExtraHosts[host] {
			idx.extraHosts[name] = append(idx.extraHosts[name], strings.TrimSpace(value))
		}
	}
}

// addNetworks indexes each network's subnets, gateways and attached
// services. A network with no declared subnet takes docker's default pool.
func (idx *gateIndex) addNetworks(p *types.Project, services map[string]types.ServiceConfig) {
	members := map[string][]string{}
	for _, name := range gateSortedKeys(services) {
		s := services[name]
		switch {
		case len(s.Networks) > 0:
			for network := range s.Networks {
				members[network] = append(members[network], name)
			}
		case s.NetworkMode == "" || s.NetworkMode == "bridge" || s.NetworkMode == "default":
			network := cmp.Or(s.NetworkMode, "default")
			members[network] = append(members[network], name)
		}
	}

	networkNames := map[string]bool{}
	for _, key := range gateSortedKeys(members) {
		networkNames[strings.ToLower(key)] = true
		cfg, declared := p.Networks[key]
		if declared && cfg.Name != "" {
			networkNames[strings.ToLower(cfg.Name)] = true
		}
		hasSubnet := false
		if declared {
			hasSubnet = idx.addIPAM(cfg.Ipam, members[key])
		}
		if !hasSubnet {
			// NOTE: docker also assigns 192.168.0.0/16 from its default pools,
			// and daemon.json may set other pools; those addresses pass here.
			idx.subnets = append(idx.subnets, gateSubnet{prefix: dockerDefaultPool, members: members[key]})
		}
	}
	idx.networkNames = gateSortedKeys(networkNames)

	// The default bridge network's gateway and the first gateways of
	// docker's default pool, which a container may use to reach the host.
	for third := 17; third <= 31; third++ {
		idx.gatewayAddrs[netip.AddrFrom4([4]byte{172, byte(third), 0, 1})] = true
	}
}

// addIPAM indexes the subnets and gateways of one network and reports
// whether it declares any subnet.
func (idx *gateIndex) addIPAM(ipam types.IPAMConfig, members []string) bool {
	hasSubnet := false
	for _, pool := range ipam.Config {
		if pool == nil {
			continue
		}
		prefix, err := netip.ParsePrefix(strings.TrimSpace(pool.Subnet))
		if err == nil {
			hasSubnet = true
			prefix = netip.PrefixFrom(prefix.Addr().Unmap(), prefix.Bits()).Masked()
			idx.subnets = append(idx.subnets, gateSubnet{prefix: prefix, members: members})
		}

		gateway := normaliseGateHost(pool.Gateway).addrs
		if len(gateway) == 0 && err == nil {
			gateway = []netip.Addr{prefix.Addr().Next()}
		}
		for _, addr := range gateway {
			idx.gatewayAddrs[addr] = true
		}
	}
	return hasSubnet
}

// namespaceRoots groups services that share a network namespace
// (network_mode service:NAME or container:NAME) and maps every member of a
// group to the group's labelled services, sorted.
func (idx *gateIndex) namespaceRoots(services map[string]types.ServiceConfig, labelled map[string]bool) map[string][]string {
	parent := map[string]string{}
	find := func(name string) string {
		for parent[name] != "" && parent[name] != name {
			name = parent[name]
		}
		return name
	}
	union := func(a, b string) {
		ra, rb := find(a), find(b)
		if ra != rb {
			parent[max(ra, rb)] = min(ra, rb)
		}
	}

	for _, name := range gateSortedKeys(services) {
		mode := services[name].NetworkMode
		if target, ok := strings.CutPrefix(mode, types.ServicePrefix); ok {
			if service, ok := idx.serviceByLower[strings.ToLower(target)]; ok {
				union(name, service)
			}
		}
		if target, ok := strings.CutPrefix(mode, types.ContainerPrefix); ok {
			for _, hit := range idx.lookupName(normaliseGateHost(target).name, "") {
				union(name, hit.service)
			}
		}
	}

	groups := map[string][]string{}
	for _, name := range gateSortedKeys(services) {
		if labelled[name] {
			groups[find(name)] = append(groups[find(name)], name)
		}
	}
	roots := map[string][]string{}
	for name := range services {
		if group := groups[find(name)]; len(group) > 0 {
			roots[name] = group
		}
	}
	return roots
}

// resolve returns every service that the host of target reaches, names
// first, then static addresses, subnet addresses and gateway ports.
func (idx *gateIndex) resolve(target gateOrigin) []gateHit {
	host := normaliseGateHost(target.host)
	hits := idx.resolveName(host.name)

	addrs := slices.Clone(host.addrs)
	gateway := isGatewayName(host.name)
	for _, value := range idx.extraHosts[host.name] {
		if strings.EqualFold(value, hostGatewayValue) {
			gateway = true
			continue
		}
		addrs = append(addrs, normaliseGateHost(value).addrs...)
	}
	for _, addr := range addrs {
		gateway = gateway || isHostLocalAddr(addr) || idx.gatewayAddrs[addr]
	}

	hits = append(hits, idx.resolveAddrs(addrs)...)
	if gateway {
		hits = append(hits, idx.resolvePort(host.name, target.port)...)
	}
	return hits
}

// resolveName looks name up as given and with a network name suffix
// removed, since docker's DNS answers NAME.NETWORK too.
func (idx *gateIndex) resolveName(name string) []gateHit {
	hits := idx.lookupName(name, name)
	for _, network := range idx.networkNames {
		if inner, ok := strings.CutSuffix(name, "."+network); ok && inner != "" {
			hits = append(hits, idx.lookupName(inner, name)...)
		}
	}
	return hits
}

// lookupName returns the services named key, with shown as the matched name.
func (idx *gateIndex) lookupName(key, shown string) []gateHit {
	var hits []gateHit
	for _, hit := range idx.names[key] {
		hit.name = shown
		hits = append(hits, hit)
	}
	if service, ok := idx.defaultContainerService(key); ok {
		hits = append(hits, gateHit{service: service, name: shown, how: HowDefaultContainerName})
	}
	return hits
}

// defaultContainerService reads the names docker compose gives containers
// without container_name: PROJECT-SERVICE-N (compose v2) and
// PROJECT_SERVICE_N (compose v1), N ≥ 1. Either separator is accepted in
// either place.
func (idx *gateIndex) defaultContainerService(name string) (string, bool) {
	if idx.project == "" || len(name) <= len(idx.project)+1 || !strings.HasPrefix(name, idx.project) {
		return "", false
	}
	rest := name[len(idx.project):]
	if rest[0] != '-' && rest[0] != '_' {
		return "", false
	}
	rest = rest[1:]

	cut := strings.LastIndexAny(rest, "-_")
	if cut <= 0 {
		return "", false
	}
	n, err := strconv.ParseUint(rest[cut+1:], 10, 32)
	if err != nil || n < 1 {
		return "", false
	}
	service, ok := idx.serviceByLower[rest[:cut]]
	return service, ok
}

// resolveAddrs returns the services whose static address is one of addrs,
// or, for an address that is no static address, every service attached to
// a network whose subnet contains it.
func (idx *gateIndex) resolveAddrs(addrs []netip.Addr) []gateHit {
	var hits []gateHit
	for _, addr := range addrs {
		if services := idx.staticIPs[addr]; len(services) > 0 {
			for _, service := range services {
				hits = append(hits, gateHit{service: service, name: addr.String(), how: HowStaticIP})
			}
			continue
		}
		for _, subnet := range idx.subnets {
			if !subnet.prefix.Contains(addr) {
				continue
			}
			for _, service := range subnet.members {
				hits = append(hits, gateHit{service: service, name: addr.String(), how: HowSubnetAddress})
			}
		}
	}
	return hits
}

// resolvePort returns the services that publish port on the docker host.
// Port 0 (unknown) matches every published port.
func (idx *gateIndex) resolvePort(host string, port int) []gateHit {
	shown := host
	if port > 0 {
		shown = net.JoinHostPort(host, strconv.Itoa(port))
	}

	// Ports a service publishes by number come before the catch-all
	// entries, so ServiceFor prefers them.
	var hits, anyPortHits []gateHit
	for _, pub := range idx.published {
		hit := gateHit{service: pub.service, name: shown, how: HowGatewayPort}
		switch {
		case pub.low == 0:
			anyPortHits = append(anyPortHits, hit)
		case port == 0 || (pub.low <= port && port <= pub.high):
			hits = append(hits, hit)
		}
	}
	return append(hits, anyPortHits...)
}
