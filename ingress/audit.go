package ingress

import (
	"cmp"
	"errors"
	"fmt"
	"slices"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/hashicorp/go-multierror"
)

// AuditFormatVersion is the version of the JSON audit document. It changes
// when a field is renamed or removed, never when one is added.
const AuditFormatVersion = 1

// AuditSeverity is the seriousness of a finding.
type AuditSeverity string

// Severities, from most to least serious.
const (
	// SeverityError is a finding that exposes an internal-only service (see
	// AuditFinding.Exposure) or a route that cannot work.
	SeverityError AuditSeverity = "error"
	// SeverityWarning is a finding that does not break a route or expose an
	// internal-only service but deserves a look.
	SeverityWarning AuditSeverity = "warning"
	// SeverityNote is information about the audit itself, such as a live
	// state that could not be read.
	SeverityNote AuditSeverity = "note"
)

var severityRank = map[AuditSeverity]int{SeverityError: 0, SeverityWarning: 1, SeverityNote: 2}

// AuditKind names the check that produced a finding.
type AuditKind string

// Finding kinds.
const (
	KindInvalidLabel          AuditKind = "invalid-label"
	KindPublishedPort         AuditKind = "published-port"
	KindHostNetwork           AuditKind = "host-network"
	KindSharedNamespace       AuditKind = "shared-namespace"
	KindNoSharedNetwork       AuditKind = "no-shared-network"
	KindCloudflaredIsolated   AuditKind = "cloudflared-internal-network"
	KindCloudflaredMissing    AuditKind = "cloudflared-missing"
	KindGateViolation         AuditKind = "gate-violation"
	KindUnknownOrigin         AuditKind = "unknown-origin"
	KindInactiveOrigin        AuditKind = "inactive-origin"
	KindLiveInternal          AuditKind = "live-internal"
	KindLiveUndefinedService  AuditKind = "live-undefined-service"
	KindLiveNotChecked        AuditKind = "live-not-checked"
	KindCloudflaredAmbiguous  AuditKind = "cloudflared-ambiguous"
	KindHeldGateViolation     AuditKind = "held-gate-violation"
	KindLabelWarning          AuditKind = "label-warning"
	KindLiveRevokedViolations AuditKind = "live-internal-revoked"
)

// AuditFinding is one problem the audit found: what, where, and what to do.
type AuditFinding struct {
	Kind     AuditKind     `json:"kind"`
	Severity AuditSeverity `json:"severity"`
	// Exposure is true when the finding makes an internal-only service
	// reachable from outside: a route, a live rule or a published port.
	Exposure bool `json:"exposure"`
	// Service is the compose service the finding is about, if any.
	Service string `json:"service,omitempty"`
	// InternalService is the internal-only service concerned, if any.
	InternalService string `json:"internal_service,omitempty"`
	Hostname        string `json:"hostname,omitempty"`
	Path            string `json:"path,omitempty"`
	Origin          string `json:"origin,omitempty"`
	// File and Line locate the compose key or label; Line is 0 when unknown.
	// Live findings have neither.
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
	// Key is the compose key or label key at fault ("ports",
	// "network_mode", "portcullis.hostname").
	Key     string `json:"key,omitempty"`
	Message string `json:"message"`
	// Fix is the action that resolves the finding.
	Fix string `json:"fix,omitempty"`
}

// AuditReport is the result of an audit, in a stable order, as renderers
// print it and the JSON document carries it.
type AuditReport struct {
	FormatVersion int    `json:"format_version"`
	Project       string `json:"project"`
	// CloudflaredService is the compose service that runs cloudflared, or
	// "" when none was found.
	CloudflaredService string `json:"cloudflared_service,omitempty"`
	Services           int    `json:"services"`
	Routes             int    `json:"routes"`
	// Target is the live target that was read ("api" or "file"), or "" when
	// the live state was not checked.
	Target    string `json:"target,omitempty"`
	LiveRules int    `json:"live_rules"`
	Strict    bool   `json:"strict,omitempty"`
	// Findings are sorted by severity, file, line, service, kind, hostname,
	// path and message.
	Findings []AuditFinding `json:"findings"`
	Summary  AuditSummary   `json:"summary"`
}

// AuditSummary counts the findings of a report.
type AuditSummary struct {
	Errors    int `json:"errors"`
	Warnings  int `json:"warnings"`
	Notes     int `json:"notes"`
	Exposures int `json:"exposures"`
}

// Exposes reports whether any finding exposes an internal-only service.
func (r *AuditReport) Exposes() bool { return r.Summary.Exposures > 0 }

// HasErrors reports whether any finding has error severity.
func (r *AuditReport) HasErrors() bool { return r.Summary.Errors > 0 }

// AuditInput is what Audit checks. The live fields are only read when
// LiveChecked is set.
type AuditInput struct {
	Project *types.Project
	Gate    *Gate
	// Routes are the routes of active services, Held those of services in
	// inactive profiles.
	Routes []Route
	Held   []Route
	// LabelErrors is the error of ParseProject and NewGate, reported as
	// findings instead of stopping the audit.
	LabelErrors   error
	LabelWarnings []Warning
	// CloudflaredService is the audit.cloudflared_service setting; "" finds
	// the service by its image.
	CloudflaredService string
	// Strict turns an origin that matches no compose service into an error.
	Strict bool
	// Locate returns the file and line of services.SERVICE.PATH...; it may
	// be nil. ComposePositions.Find has this shape.
	Locate func(service string, path ...string) (file string, line int)
	// File is the compose file named when Locate finds nothing.
	File string

	// LiveChecked is set when Live is the live ingress list of Target.
	LiveChecked bool
	Target      string
	Live        []Rule
	// LiveNote explains why the live state was not checked; it becomes a
	// note finding.
	LiveNote string
}

// ErrCloudflaredServiceNotFound is returned by Audit and BuildExposureGraph
// when the audit.cloudflared_service setting names no compose service.
var ErrCloudflaredServiceNotFound = errors.New("cloudflared service not found")

// Audit checks a compose project, and the live ingress rules when given, for
// routes that cannot work and for ways around the security gate. It returns
// an error only when the audit cannot run.
func Audit(in AuditInput) (*AuditReport, error) {
	if in.Project == nil || in.Gate == nil {
		return nil, errors.New("audit: no compose project or security gate")
	}
	a := &auditor{in: in, services: servicesWithDisabled(in.Project)}
	cloudflared, err := a.findCloudflared()
	if err != nil {
		return nil, err
	}
	a.cloudflared = cloudflared

	a.checkLabels()
	a.checkPublishedPorts()
	a.checkNetworkModes()
	a.checkCloudflaredNetworks()
	a.checkRoutes()
	a.checkLive()

	report := &AuditReport{
		FormatVersion:      AuditFormatVersion,
		Project:            in.Project.Name,
		CloudflaredService: cloudflared,
		Services:           len(in.Project.Services),
		Routes:             len(in.Routes),
		Strict:             in.Strict,
		Findings:           sortFindings(a.findings),
	}
	if in.LiveChecked {
		report.Target = in.Target
		report.LiveRules = len(in.Live)
	}
	report.Summary = summariseFindings(report.Findings)
	return report, nil
}

// auditor collects the findings of one audit.
type auditor struct {
	in       AuditInput
	services map[string]types.ServiceConfig
	// cloudflared is the service that runs cloudflared, or "".
	cloudflared string
	findings    []AuditFinding
}

func (a *auditor) add(f AuditFinding) {
	a.findings = append(a.findings, f)
}

// locate fills the finding's file and line from the compose key path.
func (a *auditor) locate(f *AuditFinding, service string, path ...string) {
	file, line := "", 0
	if a.in.Locate != nil {
		file, line = a.in.Locate(service, path...)
	}
	if file == "" {
		file = a.in.File
	}
	f.File, f.Line = file, line
}

// checkLabels turns label errors and warnings into findings.
func (a *auditor) checkLabels() {
	for _, err := range flattenAuditErrors(a.in.LabelErrors) {
		f := AuditFinding{Kind: KindInvalidLabel, Severity: SeverityError, Message: err.Error()}
		var labelErr *LabelError
		var securityErr *SecurityLabelError
		switch {
		case errors.As(err, &labelErr):
			f.Service, f.Key, f.File, f.Line = labelErr.Service, labelErr.Key, labelErr.File, labelErr.Line
			f.Message = labelErr.Message
			f.Fix = labelErr.Hint
			if f.Fix == "" {
				f.Fix = "correct the label; no route of this service is checked until it is valid"
			}
		case errors.As(err, &securityErr):
			f.Service, f.Key, f.File, f.Line = securityErr.Service, securityErr.Key, securityErr.File, securityErr.Line
			f.Message = fmt.Sprintf("invalid security label value %q, so the service counts as internal-only", securityErr.Value)
			f.Fix = fmt.Sprintf("set it to %q to keep the service off every tunnel, or remove it", SecurityInternalOnly)
		}
		a.add(f)
	}
	for _, w := range a.in.LabelWarnings {
		a.add(AuditFinding{Kind: KindLabelWarning, Severity: SeverityWarning, Service: w.Service, Hostname: w.Hostname,
			File: w.File, Line: w.Line, Key: w.Key, Message: w.Message})
	}
}

// flattenAuditErrors returns the errors inside nested *multierror.Error
// values and errors.Join results.
func flattenAuditErrors(err error) []error {
	if err == nil {
		return nil
	}
	var inner []error
	var merr *multierror.Error
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		inner = joined.Unwrap()
	} else if errors.As(err, &merr) {
		inner = merr.Errors
	} else {
		return []error{err}
	}
	var flat []error
	for _, e := range inner {
		flat = append(flat, flattenAuditErrors(e)...)
	}
	return flat
}

func sortFindings(findings []AuditFinding) []AuditFinding {
	slices.SortFunc(findings, func(a, b AuditFinding) int {
		return cmp.Or(
			cmp.Compare(severityRank[a.Severity], severityRank[b.Severity]),
			cmp.Compare(a.File, b.File),
			cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Service, b.Service),
			cmp.Compare(a.Kind, b.Kind),
			cmp.Compare(a.Hostname, b.Hostname),
			cmp.Compare(a.Path, b.Path),
			cmp.Compare(a.Message, b.Message),
		)
	})
	if findings == nil {
		return []AuditFinding{}
	}
	return slices.CompactFunc(findings, func(a, b AuditFinding) bool { return a == b })
}

func summariseFindings(findings []AuditFinding) AuditSummary {
	var s AuditSummary
	for _, f := range findings {
		switch f.Severity {
		case SeverityError:
			s.Errors++
		case SeverityWarning:
			s.Warnings++
		case SeverityNote:
			s.Notes++
		}
		if f.Exposure {
			s.Exposures++
		}
	}
	return s
}

// servicesWithDisabled returns the active services and those of inactive profiles.
func servicesWithDisabled(p *types.Project) map[string]types.ServiceConfig {
	all := map[string]types.ServiceConfig{}
	for name, s := range p.DisabledServices {
		all[name] = s
	}
	for name, s := range p.Services {
		all[name] = s
	}
	return all
}
