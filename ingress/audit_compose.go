package ingress

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
)

// cloudflaredImage matches the cloudflared image under any registry prefix,
// tag or digest: "cloudflare/cloudflared:2025.8.1",
// "docker.io/cloudflare/cloudflared", "mirror.local/cloudflare/cloudflared@sha256:...".
var cloudflaredImage = regexp.MustCompile(`(?i)(^|/)cloudflare/cloudflared([:@]|$)`)

// hostNetworkMode is the name serviceNetworks gives the host's network stack.
const hostNetworkMode = "host"

// FindCloudflaredService returns the compose service that runs cloudflared:
// the named one when name is not "", else the active services whose image is
// cloudflare/cloudflared, sorted. A name that matches no service, active or
// not, is an error that wraps ErrCloudflaredServiceNotFound.
func FindCloudflaredService(p *types.Project, name string) ([]string, error) {
	if name != "" {
		if _, ok := servicesWithDisabled(p)[name]; !ok {
			return nil, fmt.Errorf("audit.cloudflared_service %q: %w in the compose project: set it to the service that runs cloudflared, or leave it empty to find it by its image",
				name, ErrCloudflaredServiceNotFound)
		}
		return []string{name}, nil
	}
	var found []string
	for _, svc := range sortedServices(p.Services) {
		if cloudflaredImage.MatchString(strings.TrimSpace(svc.Image)) {
			found = append(found, svc.Name)
		}
	}
	return found, nil
}

// findCloudflared picks the cloudflared service and reports when there is
// none or more than one.
func (a *auditor) findCloudflared() (string, error) {
	found, err := FindCloudflaredService(a.in.Project, a.in.CloudflaredService)
	if err != nil {
		return "", err
	}
	switch len(found) {
	case 0:
		a.add(AuditFinding{Kind: KindCloudflaredMissing, Severity: SeverityWarning, File: a.in.File,
			Message: "no service runs the cloudflare/cloudflared image, so the network checks between cloudflared and the routed services are skipped",
			Fix:     "set audit.cloudflared_service to the service that runs cloudflared, or add cloudflared to the compose project"})
		return "", nil
	case 1:
		return found[0], nil
	}
	f := AuditFinding{Kind: KindCloudflaredAmbiguous, Severity: SeverityWarning, Service: found[0],
		Message: fmt.Sprintf("services %s all run cloudflared; the checks use %q", strings.Join(found, ", "), found[0]),
		Fix:     "set audit.cloudflared_service to the service whose tunnel portcullis manages"}
	a.locate(&f, found[0], "image")
	a.add(f)
	return found[0], nil
}

// checkPublishedPorts reports every port a service publishes on the docker
// host, because such a port is a way in that bypasses the tunnel and its
// Access policies.
func (a *auditor) checkPublishedPorts() {
	for _, svc := range sortedServices(a.in.Project.Services) {
		internal := a.in.Gate.IsInternal(svc.Name)
		for i, port := range svc.Ports {
			f := AuditFinding{Kind: KindPublishedPort, Service: svc.Name, Key: "ports"}
			a.locate(&f, svc.Name, "ports", strconv.Itoa(i))
			where := describeBinding(port)
			if internal {
				f.Severity, f.Exposure = SeverityError, true
				f.InternalService = a.internalRoot(svc.Name)
				f.Message = fmt.Sprintf("internal-only service publishes %s, reachable without the tunnel", where)
				f.Fix = "remove the ports entry and use expose; other services reach it by its service name on a compose network"
			} else {
				f.Severity = SeverityWarning
				f.Message = fmt.Sprintf("publishes %s, a way in that bypasses the tunnel and its Access policies", where)
				f.Fix = "use expose instead of ports if only cloudflared and other services need it, or bind it to 127.0.0.1"
			}
			a.add(f)
		}
	}
}

// describeBinding describes the host port and interfaces a ports entry binds.
func describeBinding(port types.ServicePortConfig) string {
	hostPort := "a host port docker picks"
	if p := strings.TrimSpace(port.Published); p != "" {
		hostPort = "host port " + p
	}
	protocol := stringOrDefault(port.Protocol, "tcp")
	target := fmt.Sprintf("(container port %d/%s)", port.Target, protocol)
	return fmt.Sprintf("%s %s on %s", hostPort, target, describeHostIP(port.HostIP))
}

// describeHostIP names the interfaces a host_ip binds.
func describeHostIP(hostIP string) string {
	ip := strings.Trim(strings.TrimSpace(hostIP), "[]")
	if ip == "" {
		return "every host interface"
	}
	addr, err := netip.ParseAddr(ip)
	switch {
	case err != nil:
		return "address " + ip
	case addr.IsUnspecified():
		return "every host interface (" + ip + ")"
	case addr.IsLoopback():
		return "the loopback address " + ip + " only"
	}
	return "the one address " + ip
}

func stringOrDefault(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}

// internalRoot names the labelled internal-only service that makes service
// internal-only: itself, or the first labelled service of its network
// namespace group.
func (a *auditor) internalRoot(service string) string {
	if a.in.Gate.labelled[service] {
		return service
	}
	if roots := a.in.Gate.roots[service]; len(roots) > 0 {
		return roots[0]
	}
	return service
}

// checkNetworkModes reports network_mode: host on routed or internal-only
// services and services that share an internal-only service's network
// namespace.
func (a *auditor) checkNetworkModes() {
	routed := map[string]bool{}
	for _, r := range a.in.Routes {
		routed[r.Service] = true
		if target, _, ok := a.in.Gate.reachedService(r.Origin); ok {
			routed[target] = true
		}
	}

	for _, svc := range sortedServices(a.in.Project.Services) {
		mode := strings.TrimSpace(svc.NetworkMode)
		internal := a.in.Gate.IsInternal(svc.Name)
		f := AuditFinding{Service: svc.Name, Key: "network_mode"}
		a.locate(&f, svc.Name, "network_mode")

		switch {
		case mode == hostNetworkMode && internal:
			f.Kind, f.Severity, f.Exposure = KindHostNetwork, SeverityError, true
			f.InternalService = a.internalRoot(svc.Name)
			f.Message = "internal-only service uses network_mode: host, so every port it listens on is open on the docker host's interfaces"
			f.Fix = "attach it to a compose network instead, and reach it by its service name"
		case mode == hostNetworkMode && routed[svc.Name]:
			f.Kind, f.Severity = KindHostNetwork, SeverityWarning
			f.Message = "routed service uses network_mode: host, so every port it listens on is open on the docker host's interfaces, beside the tunnel"
			f.Fix = "attach it to a network it shares with cloudflared, and remove network_mode"
		case internal && isNamespaceMode(mode) && svc.Name != a.internalRoot(svc.Name):
			f.Kind, f.Severity = KindSharedNamespace, SeverityWarning
			f.InternalService = a.internalRoot(svc.Name)
			f.Message = fmt.Sprintf("shares the network namespace of internal-only service %q (network_mode: %s), so it counts as internal-only and reaches every port %q listens on, even on localhost",
				f.InternalService, mode, f.InternalService)
			f.Fix = "give it its own network namespace unless it is a sidecar of that service; it may never carry tunnel routes"
		case internal && isNamespaceMode(mode):
			f.Kind, f.Severity = KindSharedNamespace, SeverityWarning
			f.InternalService = svc.Name
			f.Message = fmt.Sprintf("internal-only service joins another network namespace (network_mode: %s), so that container counts as internal-only too and reaches every port this service listens on",
				mode)
			f.Fix = "give the internal-only service its own network namespace, or label the other service security=internal-only as well"
		default:
			continue
		}
		a.add(f)
	}
}

func isNamespaceMode(mode string) bool {
	return strings.HasPrefix(mode, types.ServicePrefix) || strings.HasPrefix(mode, types.ContainerPrefix)
}

// serviceNetworks returns the networks a service is attached to, following
// network_mode service:NAME; hostNetworkMode for network_mode: host. known is
// false when compose does not say (network_mode container:NAME, or a
// service that is not in the project).
func composeServiceNetworks(services map[string]types.ServiceConfig, name string) (networks []string, known bool) {
	for range 16 { // bounds a network_mode service: chain; compose rejects cycles
		svc, ok := services[name]
		if !ok {
			return nil, false
		}
		mode := strings.TrimSpace(svc.NetworkMode)
		switch {
		case mode == hostNetworkMode:
			return []string{hostNetworkMode}, true
		case mode == "none":
			return nil, true
		case strings.HasPrefix(mode, types.ServicePrefix):
			name = strings.TrimPrefix(mode, types.ServicePrefix)
			continue
		case strings.HasPrefix(mode, types.ContainerPrefix):
			return nil, false
		}
		if len(svc.Networks) == 0 {
			return []string{stringOrDefault(mode, "default")}, true
		}
		networks = make([]string, 0, len(svc.Networks))
		for n := range svc.Networks {
			networks = append(networks, n)
		}
		slices.Sort(networks)
		return networks, true
	}
	return nil, false
}

// checkCloudflaredNetworks reports a cloudflared service attached only to
// internal networks, which have no route out, so the connector cannot
// reach Cloudflare's edge.
func (a *auditor) checkCloudflaredNetworks() {
	if a.cloudflared == "" {
		return
	}
	networks, known := composeServiceNetworks(a.services, a.cloudflared)
	if !known || slices.Contains(networks, hostNetworkMode) {
		return
	}
	for _, n := range networks {
		if cfg, ok := a.in.Project.Networks[n]; !ok || !cfg.Internal {
			return
		}
	}

	f := AuditFinding{Kind: KindCloudflaredIsolated, Severity: SeverityError, Service: a.cloudflared, Key: "networks"}
	a.locate(&f, a.cloudflared, "networks")
	if len(networks) == 0 {
		f.Key = "network_mode"
		a.locate(&f, a.cloudflared, "network_mode")
		f.Message = "cloudflared has no network (network_mode: none), so it cannot reach Cloudflare and no route works"
	} else {
		f.Message = fmt.Sprintf("cloudflared is attached only to internal networks (%s), which have no route out, so it cannot reach Cloudflare and no route works",
			strings.Join(networks, ", "))
	}
	f.Fix = "attach cloudflared to one more network without internal: true as well, and keep the internal network for the services it proxies"
	a.add(f)
}
