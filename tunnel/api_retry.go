package tunnel

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Retry policy of reads. Writes are never retried: the caller re-reads,
// plans again and writes.
const (
	apiDefaultReadRetries    = 4
	apiDefaultRequestTimeout = 30 * time.Second
	apiBackoffBase           = 500 * time.Millisecond
	apiBackoffCap            = 8 * time.Second
	// apiRetryAfterCap is the maximum Retry-After wait a read sits out. A
	// longer one is returned as an error that unwraps to ErrRateLimited.
	apiRetryAfterCap = 60 * time.Second
)

// read makes r and retries it on 429, on 5xx and on timeouts, at most
// a.readRetries times.
func (a *API) read(ctx context.Context, r apiRequest) (apiEnvelope, error) {
	for attempt := 0; ; attempt++ {
		env, err := a.send(ctx, r)
		if err == nil {
			return env, nil
		}
		if attempt >= a.readRetries {
			return apiEnvelope{}, err
		}

		wait, retry := a.retryWait(ctx, err, attempt)
		if !retry {
			return apiEnvelope{}, err
		}

		a.logger.LogAttrs(ctx, slog.LevelInfo, "retrying cloudflare api read",
			slog.String(apiLogKeyOp, r.op),
			slog.Int(apiLogKeyAttempt, attempt+1),
			slog.Duration(apiLogKeyWait, wait),
			slog.String(apiLogKeyError, err.Error()),
		)
		if sleepErr := a.sleep(ctx, wait); sleepErr != nil {
			return apiEnvelope{}, fmt.Errorf("%s: waiting %s to retry: %w", r.op, wait, sleepErr)
		}
	}
}

// retryWait returns how long to wait before the next attempt after err, and
// whether to make one at all.
func (a *API) retryWait(ctx context.Context, err error, attempt int) (time.Duration, bool) {
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		return a.backoff(attempt), apiIsTimeout(ctx, err)
	}

	switch {
	case apiErr.Status == http.StatusTooManyRequests && apiErr.retryAfterSet:
		if apiErr.RetryAfter > apiRetryAfterCap {
			return 0, false
		}
		return apiErr.RetryAfter, true
	case apiErr.Status == http.StatusTooManyRequests, apiErr.Status >= http.StatusInternalServerError:
		return a.backoff(attempt), true
	}
	return 0, false
}

// backoff returns the wait before retry number attempt+1: exponential from
// apiBackoffBase, capped at apiBackoffCap, with the upper half jittered.
func (a *API) backoff(attempt int) time.Duration {
	d := apiBackoffCap
	if attempt < 8 {
		d = min(apiBackoffBase<<attempt, apiBackoffCap)
	}
	half := d / 2
	return half + a.jitter(half+1)
}

// apiJitter returns a random duration in [0, n).
func apiJitter(n time.Duration) time.Duration {
	return rand.N(n)
}

// apiSleep waits for d or until ctx is done.
func apiSleep(ctx context.Context, d time.Duration) error {
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

// apiParseRetryAfter reads a Retry-After header: whole seconds or an HTTP
// date. A date in the past gives 0. ok is false when the header is missing
// or invalid.
func apiParseRetryAfter(value string, now time.Time) (wait time.Duration, ok bool) {
	value = strings.TrimSpace(value)
	if value == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(value, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		// Cap before multiplying so a huge value cannot overflow.
		if secs > int64(24*time.Hour/time.Second) {
			secs = int64(24 * time.Hour / time.Second)
		}
		return time.Duration(secs) * time.Second, true
	}
	if at, err := http.ParseTime(value); err == nil {
		return max(at.Sub(now), 0), true
	}
	return 0, false
}
