package tunnel

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Sentinel errors that an *APIError unwraps to, by HTTP status: 401 and 403
// give ErrPermission, 404 gives ErrNotFound and 429 gives ErrRateLimited.
var (
	ErrPermission  = errors.New("permission denied")
	ErrNotFound    = errors.New("not found")
	ErrRateLimited = errors.New("rate limited")
)

// ErrLocallyManaged is returned by ResolveTunnel for a tunnel whose
// configuration lives in cloudflared's config.yml instead of in Cloudflare.
var ErrLocallyManaged = errors.New("tunnel is locally managed")

// The API token permissions portcullis needs, as the Cloudflare dashboard
// names them.
const (
	PermissionTunnelEdit = "Account › Cloudflare Tunnel › Edit"
	PermissionDNSEdit    = "Zone › DNS › Edit"
	PermissionZoneRead   = "Zone › Zone › Read"
)

// apiPermissionsAll lists every permission, for the text of 401 and 403 errors.
var apiPermissionsAll = []string{PermissionTunnelEdit, PermissionDNSEdit, PermissionZoneRead}

// APIError is an error response of the Cloudflare API.
type APIError struct {
	// Op is the operation that failed, such as "list zones".
	Op string
	// Status is the HTTP status code of the response.
	Status int
	// Codes are the Cloudflare error codes of the response body, in order,
	// followed by the codes of their error chains.
	Codes []int
	// Message joins the error messages of the response body with "; ".
	Message string
	// Permission is the API token permission the operation needs.
	Permission string
	// RetryAfter is the wait the server asked for on a 429 response, or 0.
	RetryAfter time.Duration

	// retryAfterSet is true when the response carried a valid Retry-After
	// header, so that "Retry-After: 0" differs from no header.
	retryAfterSet bool
}

// Error returns the operation, the status, the Cloudflare codes and message,
// and for 401 and 403 the permissions the token needs.
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString(e.Op)
	fmt.Fprintf(&b, ": cloudflare api returned HTTP %d %s", e.Status, http.StatusText(e.Status))

	if detail := e.detail(); detail != "" {
		fmt.Fprintf(&b, " (%s)", detail)
	}

	switch {
	case e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden:
		// The API returns the same 403 for an unknown token and for a token
		// without the permission, so the message names both causes.
		if e.Permission != "" {
			fmt.Fprintf(&b, ": the API token is invalid or expired, or lacks %s", e.Permission)
		} else {
			b.WriteString(": the API token is invalid or expired, or lacks a permission")
		}
		fmt.Fprintf(&b, "; portcullis needs %s", strings.Join(apiPermissionsAll, ", "))
	case e.Status == http.StatusTooManyRequests && e.RetryAfter > 0:
		fmt.Fprintf(&b, ": retry after %s", e.RetryAfter)
	}
	return b.String()
}

func (e *APIError) detail() string {
	codes := make([]string, len(e.Codes))
	for i, c := range e.Codes {
		codes[i] = strconv.Itoa(c)
	}

	var parts []string
	switch len(codes) {
	case 0:
	case 1:
		parts = append(parts, "code "+codes[0])
	default:
		parts = append(parts, "codes "+strings.Join(codes, ", "))
	}
	if e.Message != "" {
		parts = append(parts, e.Message)
	}
	return strings.Join(parts, ": ")
}

// Unwrap returns the sentinel error for the status, or nil.
func (e *APIError) Unwrap() error {
	switch e.Status {
	case http.StatusUnauthorized, http.StatusForbidden:
		return ErrPermission
	case http.StatusNotFound:
		return ErrNotFound
	case http.StatusTooManyRequests:
		return ErrRateLimited
	}
	return nil
}
