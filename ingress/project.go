package ingress

import (
	"cmp"
	"fmt"
	"maps"
	"slices"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/hashicorp/go-multierror"
)

// ParseProject validates the portcullis labels of every service of a compose
// project. Routes of active services go to Routes, and routes of services in
// inactive profiles to Held. Both are validated. The errors of both come
// back together as a *multierror.Error of *LabelError values sorted by file,
// line, service and key, or nil when there are none. Two active routes
// with the same hostname and path are an error. Held routes are checked for
// that only within their own service, because services in different
// profiles may take turns serving one hostname.
func ParseProject(p *types.Project, opts ParseOptions) (ParseResult, error) {
	opts = withDefaults(opts)
	var result ParseResult
	if p == nil {
		return result, nil
	}

	if opts.SecretValues == nil {
		opts.SecretValues = SecretValues(p.Environment)
	}

	var errs []*LabelError
	for _, svc := range sortedServices(p.Services) {
		routes, warnings, serviceErrs := parseService(svc, opts)
		result.Routes = append(result.Routes, routes...)
		result.Warnings = append(result.Warnings, warnings...)
		errs = append(errs, serviceErrs...)
	}
	errs = append(errs, duplicateRouteErrors(result.Routes, opts)...)

	for _, svc := range sortedServices(p.DisabledServices) {
		routes, warnings, serviceErrs := parseService(svc, opts)
		result.Held = append(result.Held, routes...)
		result.Warnings = append(result.Warnings, warnings...)
		errs = append(errs, serviceErrs...)
		errs = append(errs, duplicateRouteErrors(routes, opts)...)
	}

	sortLabelRoutes(result.Routes)
	sortLabelRoutes(result.Held)
	result.Warnings = sortWarnings(result.Warnings)
	return result, joinLabelErrors(errs)
}

// sortedServices returns the services by name, with Name filled in from the
// map key when a caller built the map by hand.
func sortedServices(services types.Services) []types.ServiceConfig {
	out := make([]types.ServiceConfig, 0, len(services))
	for _, name := range slices.Sorted(maps.Keys(services)) {
		svc := services[name]
		if svc.Name == "" {
			svc.Name = name
		}
		out = append(out, svc)
	}
	return out
}

func compareLabelRoutes(a, b Route) int {
	return cmp.Or(
		cmp.Compare(a.Hostname, b.Hostname),
		cmp.Compare(a.Path, b.Path),
		cmp.Compare(a.Service, b.Service),
		cmp.Compare(a.Name, b.Name),
	)
}

func sortLabelRoutes(routes []Route) {
	slices.SortStableFunc(routes, compareLabelRoutes)
}

// duplicateRouteErrors reports every route whose hostname and path an earlier
// route (in sort order) already has, naming that route.
func duplicateRouteErrors(routes []Route, opts ParseOptions) []*LabelError {
	sorted := slices.Clone(routes)
	sortLabelRoutes(sorted)

	var errs []*LabelError
	for i := 1; i < len(sorted); i++ {
		first, r := sorted[i-1], sorted[i]
		if r.Hostname != first.Hostname || r.Path != first.Path {
			continue
		}
		// Walk back to the first route of the run so every duplicate names it.
		for j := i - 1; j >= 0 && sorted[j].Hostname == r.Hostname && sorted[j].Path == r.Path; j-- {
			first = sorted[j]
		}
		file := r.Source.File
		if file == "" {
			file = opts.File
		}
		errs = append(errs, &LabelError{
			File: file, Line: r.Source.Line, Service: r.Service, Key: r.Source.Key, Value: r.Hostname,
			Message: fmt.Sprintf("%s is already routed by %s", describeTraffic(r), describeRoute(first)),
			Hint:    "give one of them another hostname or path, or remove one",
		})
	}
	return errs
}

// describeTraffic names the hostname and path a route matches.
func describeTraffic(r Route) string {
	if r.Path == "" {
		return fmt.Sprintf("hostname %q", r.Hostname)
	}
	return fmt.Sprintf("hostname %q with path %q", r.Hostname, r.Path)
}

// describeRoute names a route by service and route name.
func describeRoute(r Route) string {
	if r.Name == "" {
		return fmt.Sprintf("service %q", r.Service)
	}
	return fmt.Sprintf("service %q route %q", r.Service, r.Name)
}

// joinLabelErrors sorts the errors and joins them into a *multierror.Error,
// or returns nil when there are none.
func joinLabelErrors(errs []*LabelError) error {
	if len(errs) == 0 {
		return nil
	}
	slices.SortFunc(errs, compareLabelErrors)
	var joined *multierror.Error
	for _, e := range errs {
		joined = multierror.Append(joined, e)
	}
	return joined
}
