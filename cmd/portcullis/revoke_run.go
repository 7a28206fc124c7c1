package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os/user"
	"strconv"
	"time"

	"github.com/portcullis-dev/portcullis/config"
	portsync "github.com/portcullis-dev/portcullis/sync"
	"github.com/portcullis-dev/portcullis/tunnel"
)

// dashboardURL is the Cloudflare dashboard, the fallback for cutting a
// route by hand when the API does not accept the write in time.
const dashboardURL = "https://dash.cloudflare.com/"

// maxRevocationWrites bounds the configuration writes of one revoke or
// restore, repairs during --watch included.
const maxRevocationWrites = 5

// maxRevocationRetries bounds the failed calls one revoke or restore
// retries before it gives up.
const maxRevocationRetries = 5

// revocationTarget is the live configuration as revoke and restore use it,
// on either target.
type revocationTarget interface {
	read(ctx context.Context) (tunnel.State, error)
	write(ctx context.Context, base tunnel.State, rules []tunnel.LiveRule) (tunnel.State, error)
	// activate puts a written document in force: the file target's reload
	// command. errNoReload means there is none.
	activate(ctx context.Context) error
	// name is the target ("api" or "file"); where is the tunnel id or the
	// file path, for messages and the audit log.
	name() string
	where() string
}

// errNoReload means a file target has no reload command, so a write does not
// reach cloudflared until it restarts.
var errNoReload = errors.New("file.reload_command is not set, and cloudflared reads config.yml only when it starts, so the written configuration is not in force until cloudflared restarts")

// openRevocationTarget connects to the configured target for revoke and
// restore. The API client makes no retries of its own, so that the
// revocation loop decides every wait against its deadline.
func openRevocationTarget(g *globalOptions, s *config.Settings, deadline time.Duration) (revocationTarget, *tunnel.API, error) {
	if s.Target != config.TargetAPI {
		opened, err := openTarget(g, s)
		if err != nil {
			return nil, nil, err
		}
		return &fileRevocationTarget{file: opened.file}, nil, nil
	}
	token, err := s.Token()
	if err != nil {
		return nil, nil, err
	}
	api, err := tunnel.NewAPI(tunnel.APIConfig{
		BaseURL:        s.Cloudflare.APIBaseURL,
		Token:          token,
		AccountID:      s.Cloudflare.AccountID,
		Tunnel:         s.Cloudflare.Tunnel,
		ReadRetries:    -1,
		RequestTimeout: deadline,
		Logger:         g.logger(),
	})
	if err != nil {
		return nil, nil, err
	}
	return &apiRevocationTarget{api: api, setting: s.Cloudflare.Tunnel}, api, nil
}

// apiRevocationTarget reads and writes the configuration of a tunnel given
// by id without resolving it first, so the cutting write is the second
// call. A tunnel given by name costs one lookup first.
type apiRevocationTarget struct {
	api *tunnel.API
	id  string
	// setting is the cloudflare.tunnel setting, shown until the id is known.
	setting string
	last    tunnel.Config
}

func (t *apiRevocationTarget) read(ctx context.Context) (tunnel.State, error) {
	if t.id == "" {
		id, ok := t.api.ConfiguredTunnelID()
		if !ok {
			info, err := t.api.ResolveTunnel(ctx)
			if err != nil {
				return tunnel.State{}, err
			}
			id = info.ID
		}
		t.id = id
	}
	cfg, err := t.api.ReadConfigByID(ctx, t.id)
	if err != nil {
		return tunnel.State{}, err
	}
	t.last = cfg
	return tunnel.State{Target: config.TargetAPI, TunnelID: t.id, Version: cfg.Version, Rules: cfg.Rules}, nil
}

func (t *apiRevocationTarget) write(ctx context.Context, _ tunnel.State, rules []tunnel.LiveRule) (tunnel.State, error) {
	v, err := t.api.WriteConfigByID(ctx, t.id, t.last, rules)
	if err != nil {
		return tunnel.State{}, err
	}
	return tunnel.State{Target: config.TargetAPI, TunnelID: t.id, Version: v}, nil
}

func (t *apiRevocationTarget) activate(context.Context) error { return nil }
func (t *apiRevocationTarget) name() string                   { return config.TargetAPI }
func (t *apiRevocationTarget) where() string {
	if t.id != "" {
		return t.id
	}
	if id, ok := t.api.ConfiguredTunnelID(); ok {
		return id
	}
	return t.setting
}

// fileRevocationTarget is a cloudflared config.yml.
type fileRevocationTarget struct {
	file *tunnel.File
}

func (t *fileRevocationTarget) read(ctx context.Context) (tunnel.State, error) {
	return t.file.Read(ctx)
}

func (t *fileRevocationTarget) write(ctx context.Context, base tunnel.State, rules []tunnel.LiveRule) (tunnel.State, error) {
	res, err := t.file.Write(ctx, base, rules)
	if err != nil {
		return tunnel.State{}, err
	}
	return tunnel.State{Target: config.TargetFile, Checksum: res.Checksum}, nil
}

func (t *fileRevocationTarget) activate(ctx context.Context) error {
	if t.file.ReloadCommand == "" {
		return errNoReload
	}
	return t.file.Reload(ctx)
}

func (t *fileRevocationTarget) name() string  { return config.TargetFile }
func (t *fileRevocationTarget) where() string { return t.file.Path }

// stateVersion is the configuration version as the audit log records it.
func stateVersion(st tunnel.State) string {
	if st.Target == config.TargetFile {
		return st.Checksum
	}
	return strconv.FormatInt(st.Version, 10)
}

// describeVersion is the configuration version as messages show it.
func describeVersion(st tunnel.State) string {
	if st.Target == config.TargetFile {
		if st.Checksum == "" {
			return "no file"
		}
		return "sha256 " + shortSum(st.Checksum)
	}
	return "version " + strconv.FormatInt(st.Version, 10)
}

// revocationRun drives the reads and writes of one revoke or restore
// within a deadline. The clock and the wait are fields so tests can replace
// them.
type revocationRun struct {
	g        *globalOptions
	target   revocationTarget
	deadline time.Time
	interval time.Duration
	now      func() time.Time
	sleep    func(ctx context.Context, d time.Duration) error

	// beforeWrite saves the configuration about to be replaced. Its
	// failure is reported and never stops the write.
	beforeWrite func(ctx context.Context, base tunnel.State) error

	writes  int
	retries int
	// before is the state of the first read; after the state of the last
	// confirming read.
	before, after tunnel.State
	haveBefore    bool
}

func newRevocationRun(g *globalOptions, target revocationTarget, deadline time.Duration, interval time.Duration) *revocationRun {
	r := &revocationRun{g: g, target: target, interval: interval, now: time.Now, sleep: sleepContext}
	r.deadline = r.now().Add(deadline)
	return r
}

// sleepContext waits for d or until ctx is done.
func sleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// notInForceError is a revocation step that failed for good: the report
// names the step that failed and the wait the API requested (its
// Retry-After on a 429), if any.
type notInForceError struct {
	step string
	wait time.Duration
	err  error
}

func (e *notInForceError) Error() string {
	return e.step + ": " + e.err.Error()
}

func (e *notInForceError) Unwrap() error { return e.err }

// readState reads the configuration, retrying failed reads while the
// deadline allows.
func (r *revocationRun) readState(ctx context.Context, step string) (tunnel.State, error) {
	for {
		st, err := r.target.read(ctx)
		if err == nil {
			if !r.haveBefore {
				r.before, r.haveBefore = st, true
			}
			return st, nil
		}
		if werr := r.waitToRetry(ctx, step, err); werr != nil {
			return tunnel.State{}, werr
		}
	}
}

// waitToRetry waits before the next attempt after err, or returns a
// *notInForceError when err is final, the retries are used up or the wait
// does not fit before the deadline.
func (r *revocationRun) waitToRetry(ctx context.Context, step string, err error) error {
	wait, retryable := r.retryWait(err)
	var apiWait time.Duration
	if apiErr := (*tunnel.APIError)(nil); errors.As(err, &apiErr) && apiErr.Status == http.StatusTooManyRequests {
		apiWait = apiErr.RetryAfter
	}
	switch {
	case !retryable || ctx.Err() != nil:
		return &notInForceError{step: step, wait: apiWait, err: err}
	case r.retries >= maxRevocationRetries:
		return &notInForceError{step: step, wait: apiWait, err: fmt.Errorf("%w; gave up after %d retries", err, r.retries)}
	case r.now().Add(wait).After(r.deadline):
		return &notInForceError{step: step, wait: apiWait, err: fmt.Errorf("%w; the next attempt, in %s, would pass the --deadline", err, wait)}
	}
	r.retries++
	fmt.Fprintf(r.g.streams.ErrOut, "%s failed (%v); retrying in %s\n", step, err, wait)
	if serr := r.sleep(ctx, wait); serr != nil {
		return &notInForceError{step: step, wait: apiWait, err: fmt.Errorf("%w; the --deadline passed while waiting to retry", err)}
	}
	return nil
}

// retryWait returns the wait before retrying after err, and whether a
// retry can help. Rate limits, server errors, network errors and a config
// file changed since it was read are retried. Permission and input errors
// are not.
func (r *revocationRun) retryWait(err error) (time.Duration, bool) {
	var apiErr *tunnel.APIError
	switch {
	case errors.Is(err, tunnel.ErrConcurrentChange):
		return 0, true
	case errors.As(err, &apiErr) && apiErr.Status == http.StatusTooManyRequests:
		if apiErr.RetryAfter > 0 {
			return apiErr.RetryAfter, true
		}
		return r.interval, true
	case errors.As(err, &apiErr):
		return r.interval, apiErr.Status >= http.StatusInternalServerError
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return 0, false
	}
	// A network error: the API may be briefly unreachable. Anything else (a
	// tunnel not found, a locally-managed tunnel, a broken config file)
	// cannot get better by waiting.
	var netErr net.Error
	if errors.As(err, &netErr) && r.target.name() == config.TargetAPI {
		return r.interval, true
	}
	return 0, false
}

// converge reads, applies change to the rules and writes until change has
// nothing left to do, and returns the confirming state. With start set, the
// first read is skipped. wrote reports whether this call wrote.
func (r *revocationRun) converge(ctx context.Context, start *tunnel.State, change func([]tunnel.LiveRule) portsync.RevocationChange) (st tunnel.State, wrote bool, err error) {
	if start != nil {
		st = *start
	} else if st, err = r.readState(ctx, "read the tunnel configuration"); err != nil {
		return st, false, err
	}

	for {
		c := change(st.Rules)
		if !c.Changed() {
			r.after = st
			return st, wrote, nil
		}
		if r.writes >= maxRevocationWrites {
			return st, wrote, &notInForceError{step: "write the tunnel configuration",
				err: fmt.Errorf("another writer changed it back after each of %d writes", r.writes)}
		}

		if r.beforeWrite != nil {
			if err := r.beforeWrite(ctx, st); err != nil {
				fmt.Fprintf(r.g.streams.ErrOut, "warning: the backup of the configuration before this write failed: %v\n", err)
			}
		}
		written, werr := r.target.write(ctx, st, c.Rules)
		r.writes++
		if werr != nil {
			if err := r.waitToRetry(ctx, "write the tunnel configuration", werr); err != nil {
				return st, wrote, err
			}
		} else {
			wrote = true
			fmt.Fprintf(r.g.streams.Out, "Written: %s → %s.\n", describeVersion(st), describeVersion(written))
		}

		if st, err = r.readState(ctx, "read back the tunnel configuration"); err != nil {
			return st, wrote, err
		}
	}
}

// currentUser returns the OS user name, or "" when it is unknown.
func currentUser() string {
	u, err := user.Current()
	if err != nil {
		return ""
	}
	return u.Username
}

// appendAudit appends one entry to the audit log and reports where, or the
// failure, which makes the run exit 4 but undoes nothing.
func appendAudit(g *globalOptions, dir string, e portsync.AuditEntry, o *outcome) {
	if e.Time == "" {
		e.Time = time.Now().UTC().Format(time.RFC3339)
	}
	path, err := portsync.AppendAuditEntry(dir, e)
	if err != nil {
		fmt.Fprintf(g.streams.ErrOut, "error: %v; the change itself stands\n", err)
		o.notInForce = true
		return
	}
	fmt.Fprintf(g.streams.ErrOut, "Audit log: appended to %s.\n", path)
}
