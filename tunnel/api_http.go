package tunnel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	cloudflare "github.com/cloudflare/cloudflare-go/v6"
	"github.com/cloudflare/cloudflare-go/v6/option"
)

// Log field keys of the API target.
const (
	apiLogKeyOp       = "op"
	apiLogKeyMethod   = "method"
	apiLogKeyURL      = "url"
	apiLogKeyStatus   = "status"
	apiLogKeyDuration = "duration"
	apiLogKeyHeaders  = "headers"
	apiLogKeyBodySize = "body_bytes"
	apiLogKeyAttempt  = "attempt"
	apiLogKeyWait     = "wait"
	apiLogKeyError    = "error"
)

// apiRedacted replaces secrets in logs and error messages.
const apiRedacted = "[REDACTED]"

// apiCredentialHeaders are the credential headers cloudflare-go sends when it
// is given an API key, an e-mail or a user service key. portcullis
// authenticates with the API token only, so these never leave the process.
var apiCredentialHeaders = []string{"X-Auth-Email", "X-Auth-Key", "X-Auth-User-Service-Key"}

// apiEnvelope is the part of the Cloudflare response envelope that a
// successful call needs. The library reports non-2xx responses as errors, so
// the "success" and "errors" keys are not read here.
type apiEnvelope struct {
	Result     json.RawMessage `json:"result"`
	ResultInfo *apiResultInfo  `json:"result_info"`
}

// apiResultInfo is the pagination block of a list response.
type apiResultInfo struct {
	Page       int `json:"page"`
	PerPage    int `json:"per_page"`
	Count      int `json:"count"`
	TotalCount int `json:"total_count"`
	TotalPages int `json:"total_pages"`
}

// apiErrorBody is the error part of the envelope of a failed call.
type apiErrorBody struct {
	Errors []apiErrorItem `json:"errors"`
}

type apiErrorItem struct {
	Code       int            `json:"code"`
	Message    string         `json:"message"`
	ErrorChain []apiErrorItem `json:"error_chain"`
}

// apiRequest is one HTTP call to the Cloudflare API.
type apiRequest struct {
	// op names the call in errors and logs, such as "list zones".
	op string
	// permission is the API token permission the call needs.
	permission string
	method     string
	// path is relative to the base URL and may carry a query string.
	path string
	// body is sent as is when not nil.
	body []byte
}

// send makes one attempt of r. The library itself never retries, because the
// client is built with option.WithMaxRetries(0).
func (a *API) send(ctx context.Context, r apiRequest) (apiEnvelope, error) {
	var body any
	if r.body != nil {
		body = r.body
	}

	var env apiEnvelope
	var res *http.Response
	err := a.client.Execute(ctx, r.method, r.path, body, &env, option.WithResponseInto(&res))
	if err != nil {
		return apiEnvelope{}, a.convertError(ctx, r, res, err)
	}
	return env, nil
}

// convertError turns a failed call into an *APIError when the server sent an
// error status, and into an error naming the operation otherwise.
func (a *API) convertError(ctx context.Context, r apiRequest, res *http.Response, err error) error {
	var cfErr *cloudflare.Error
	if errors.As(err, &cfErr) && cfErr.Response != nil {
		return a.newAPIError(r, cfErr.StatusCode, cfErr.Response.Header, []byte(cfErr.JSON.RawJSON()))
	}
	if res != nil && res.StatusCode >= http.StatusBadRequest {
		// The body was not the JSON error envelope (a proxy's HTML page, for
		// example), so only the status is known.
		return a.newAPIError(r, res.StatusCode, res.Header, nil)
	}
	if apiIsTimeout(ctx, err) {
		return fmt.Errorf("%s: timed out after %s: %w", r.op, a.timeout, err)
	}
	return fmt.Errorf("%s: %w", r.op, err)
}

func (a *API) newAPIError(r apiRequest, status int, header http.Header, body []byte) *APIError {
	apiErr := &APIError{Op: r.op, Status: status, Permission: r.permission}

	var parsed apiErrorBody
	if len(body) > 0 && json.Unmarshal(body, &parsed) == nil {
		var messages []string
		apiFlattenErrors(parsed.Errors, &apiErr.Codes, &messages)
		apiErr.Message = a.redact(strings.Join(messages, "; "))
	}

	if status == http.StatusTooManyRequests {
		apiErr.RetryAfter, apiErr.retryAfterSet = apiParseRetryAfter(header.Get("Retry-After"), a.now())
	}
	return apiErr
}

// apiFlattenErrors appends the codes and messages of items and their error
// chains, depth first.
func apiFlattenErrors(items []apiErrorItem, codes *[]int, messages *[]string) {
	for _, item := range items {
		*codes = append(*codes, item.Code)
		if msg := strings.TrimSpace(item.Message); msg != "" {
			*messages = append(*messages, msg)
		}
		apiFlattenErrors(item.ErrorChain, codes, messages)
	}
}

// apiIsTimeout reports whether err is one attempt running out of time while
// the caller's context is still live.
func apiIsTimeout(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var netErr net.Error
	return errors.As(err, &netErr) && netErr.Timeout()
}

// redact removes the API token from text that came from elsewhere, such as a
// server's error message, before it reaches an error or a log line.
func (a *API) redact(s string) string {
	if a.token == "" {
		return s
	}
	return strings.ReplaceAll(s, a.token, apiRedacted)
}

// pinCredentials is a middleware that makes the API token the only
// credential of every request, whatever options or environment variables the
// library picked up.
func (a *API) pinCredentials(req *http.Request, next option.MiddlewareNext) (*http.Response, error) {
	for _, h := range apiCredentialHeaders {
		req.Header.Del(h)
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	return next(req)
}

// logExchange is a middleware that logs every HTTP exchange at debug level,
// with credential headers redacted.
func (a *API) logExchange(req *http.Request, next option.MiddlewareNext) (*http.Response, error) {
	ctx := req.Context()
	if !a.logger.Enabled(ctx, slog.LevelDebug) {
		return next(req)
	}

	start := time.Now()
	res, err := next(req)

	attrs := []slog.Attr{
		slog.String(apiLogKeyMethod, req.Method),
		slog.String(apiLogKeyURL, req.URL.Redacted()),
		slog.Any(apiLogKeyHeaders, apiRedactedHeaders(req.Header)),
		slog.Int64(apiLogKeyBodySize, req.ContentLength),
		slog.Duration(apiLogKeyDuration, time.Since(start)),
	}
	if res != nil {
		attrs = append(attrs, slog.Int(apiLogKeyStatus, res.StatusCode))
	}
	if err != nil {
		attrs = append(attrs, slog.String(apiLogKeyError, a.redact(err.Error())))
	}
	a.logger.LogAttrs(ctx, slog.LevelDebug, "cloudflare api request", attrs...)
	return res, err
}

// apiRedactedHeaders returns the request headers as sorted "Name: value"
// lines, with the value of every credential header replaced.
func apiRedactedHeaders(h http.Header) []string {
	lines := make([]string, 0, len(h))
	for name, values := range h {
		value := strings.Join(values, ", ")
		if name == "Authorization" || slices.Contains(apiCredentialHeaders, name) {
			value = apiRedacted
		}
		lines = append(lines, name+": "+value)
	}
	slices.Sort(lines)
	return lines
}
