package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"

	"github.com/hashicorp/go-multierror"
	"github.com/spf13/pflag"

	"github.com/portcullis-dev/portcullis/config"
	"github.com/portcullis-dev/portcullis/ingress"
	portsync "github.com/portcullis-dev/portcullis/sync"
	"github.com/portcullis-dev/portcullis/tunnel"
)

// session holds what a command loaded: settings, the compose project and
// the routes it declares, and the live target.
type session struct {
	g        *globalOptions
	settings *config.Settings
	project  *config.Project
	parsed   ingress.ParseResult
	gate     *ingress.Gate
	// violations are the gate's findings on the declared routes.
	violations []ingress.Violation

	target portsync.Target
	dns    portsync.DNSTarget
	api    *tunnel.API
	file   *tunnel.File

	// revocations caches the audit log's details of live revocations.
	revocations map[string]portsync.RevocationInfo
}

// loadSettings reads portcullis's settings from the file, the environment
// and the flags of cmd.
func loadSettings(g *globalOptions, flags *pflag.FlagSet) (*config.Settings, error) {
	s, err := config.Load(config.LoadOptions{
		ConfigFile:       g.configFile,
		ProjectDirectory: g.projectDirectory,
		Flags:            flags,
		Environ:          g.environ,
	})
	if s != nil {
		g.resolvedProjectDirectory = s.ProjectDirectory
	}
	return s, err
}

// loadDesired loads the settings, the compose project, its routes and the
// security gate. Label errors of every kind are reported together.
func loadDesired(ctx context.Context, g *globalOptions, flags *pflag.FlagSet) (*session, error) {
	settings, err := loadSettings(g, flags)
	if err != nil {
		return nil, err
	}
	s := &session{g: g, settings: settings}

	project, err := config.LoadProject(ctx, settings)
	if err != nil {
		return nil, err
	}
	s.project = project
	for _, w := range project.Warnings {
		fmt.Fprintf(g.streams.ErrOut, "warning: %s\n", w)
	}
	if err := settings.ResolveOwnerID(project.Name); err != nil {
		return nil, err
	}

	var errs *multierror.Error
	file := ""
	if len(project.Files) > 0 {
		file = relativeTo(settings.ProjectDirectory, project.Files[0])
	}
	sources := func(service, key string) (string, int) {
		f, line := project.Sources(service, key)
		if f == "" {
			return "", 0
		}
		return relativeTo(settings.ProjectDirectory, f), line
	}
	s.parsed, err = ingress.ParseProject(project.Project, ingress.ParseOptions{
		Prefix:    settings.Labels.Prefix,
		Target:    settings.Target,
		Exclusive: settings.Exclusive != "",
		RawLabels: project.RawLabels,
		Sources:   sources,
		File:      file,
	})
	if err != nil {
		errs = multierror.Append(errs, err)
	}
	s.gate, err = ingress.NewGate(project.Project, ingress.GateOptions{Sources: sources, File: file})
	if err != nil {
		errs = multierror.Append(errs, err)
	}
	if errs != nil {
		// The routes that did parse are still checked, so a label typo
		// never hides a route to an internal-only service.
		if s.gate != nil {
			for _, v := range s.gate.CheckRoutes(s.parsed.Routes) {
				errs = multierror.Append(errs, violationError{v})
			}
		}
		sortErrors(errs)
		return nil, errs
	}
	s.violations = s.gate.CheckRoutes(s.parsed.Routes)
	return s, nil
}

// violationError reports a security violation found while other input
// errors stop the run; it makes the exit code 3.
type violationError struct {
	v ingress.Violation
}

func (e violationError) Error() string { return e.v.Error() }

func (e violationError) Is(target error) bool { return target == errViolation }

// sortErrors orders a multi-error by its messages, which start with the
// file and line, so the output is the same on every run.
func sortErrors(m *multierror.Error) {
	var flat []error
	for _, e := range m.Errors {
		var inner *multierror.Error
		if errors.As(e, &inner) {
			flat = append(flat, inner.Errors...)
			continue
		}
		flat = append(flat, e)
	}
	sort.SliceStable(flat, func(i, j int) bool {
		fi, li := errorPosition(flat[i])
		fj, lj := errorPosition(flat[j])
		if fi != fj {
			return fi < fj
		}
		if li != lj {
			return li < lj
		}
		return flat[i].Error() < flat[j].Error()
	})
	m.Errors = flat
}

// errorPosition returns the compose file and line an input error points
// at, so errors sort by line number rather than as text.
func errorPosition(err error) (string, int) {
	var label *ingress.LabelError
	var security *ingress.SecurityLabelError
	var violation violationError
	switch {
	case errors.As(err, &label):
		return label.File, label.Line
	case errors.As(err, &security):
		return security.File, security.Line
	case errors.As(err, &violation):
		return violation.v.Source.File, violation.v.Source.Line
	}
	return "", 0
}

func relativeTo(dir, path string) string {
	if rel, err := filepath.Rel(dir, path); err == nil && !filepath.IsAbs(rel) && rel != "" && rel[0] != '.' {
		return rel
	}
	return path
}

// openTarget connects to the configured target.
func (s *session) openTarget(ctx context.Context) error {
	t, err := openTarget(s.g, s.settings)
	if err != nil {
		return err
	}
	s.target, s.dns, s.api, s.file = t.target, t.dns, t.api, t.file
	return nil
}

// readLive reads the live state of the target.
func (s *session) readLive(ctx context.Context) (tunnel.State, error) {
	if s.api != nil {
		return s.api.Read(ctx)
	}
	st, err := s.file.Read(ctx)
	if err != nil {
		return st, err
	}
	switch {
	case st.TunnelID == "":
		st.TunnelID = s.settings.File.Tunnel
	case s.settings.File.Tunnel != "" && st.TunnelID != s.settings.File.Tunnel:
		fmt.Fprintf(s.g.streams.ErrOut, "warning: %s names tunnel %q but file.tunnel is %q; portcullis keeps the file's value, so check which tunnel this config belongs to\n",
			s.settings.File.Path, st.TunnelID, s.settings.File.Tunnel)
	}
	return st, nil
}

// planOptions are the plan and apply flags that shape a plan.
type planOptions struct {
	adopt []string
}

// input builds the planner's input from the session and a live state.
func (s *session) input(live tunnel.State, opts planOptions) (portsync.Input, error) {
	policy, err := portsync.ParsePolicy(s.settings.Policy)
	if err != nil {
		return portsync.Input{}, err
	}
	var adopt []string
	for _, h := range opts.adopt {
		n, err := ingress.NormalizeHostname(h)
		if err != nil {
			return portsync.Input{}, fmt.Errorf("--adopt %q: %w", h, err)
		}
		adopt = append(adopt, n)
	}
	return portsync.Input{
		Routes:      s.parsed.Routes,
		Held:        s.parsed.Held,
		Violations:  s.violations,
		Warnings:    s.parsed.Warnings,
		Live:        live,
		OwnerID:     s.settings.OwnerID,
		Policy:      policy,
		Exclusive:   s.settings.Exclusive,
		Adopt:       adopt,
		MaxDeletes:  s.settings.MaxDeletes,
		Gate:        s.gate,
		Revocations: s.revocationDetails(),
		FileTunnel:  s.settings.File.Tunnel,
	}, nil
}

// revocationDetails returns the audit log's record of live
// revocations (reason, actor, time), read once per session. An unreadable
// log is reported and treated as empty, so plans show "reason unknown".
func (s *session) revocationDetails() map[string]portsync.RevocationInfo {
	if s.revocations != nil {
		return s.revocations
	}
	info, skipped, err := portsync.ReadRevocationInfo(s.settings.Audit.LogDir)
	if err != nil {
		fmt.Fprintf(s.g.streams.ErrOut, "warning: revocation details unavailable: %v\n", err)
	}
	if skipped > 0 {
		fmt.Fprintf(s.g.streams.ErrOut, "warning: the audit log has %d unreadable line(s), skipped\n", skipped)
	}
	s.revocations = info
	return info
}

// plan computes the plan against live.
func (s *session) plan(live tunnel.State, opts planOptions) (*portsync.Plan, error) {
	in, err := s.input(live, opts)
	if err != nil {
		return nil, err
	}
	return portsync.Compute(in)
}
