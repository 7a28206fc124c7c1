package emulator

import (
	"net/http"
	"regexp"
	"strings"
)

// Error codes sent by the emulator. The ones marked "observed" were seen in
// real API responses. The rest are the emulator's own choice, because the
// real code is unknown, so clients must branch on the HTTP status for those.
const (
	codeMissingAuth        = 9106  // observed: no credentials
	codeInvalidHeaders     = 6003  // observed: malformed auth header
	codeInvalidAuthFormat  = 6111  // observed: error_chain item of 6003
	codeAuthentication     = 10000 // observed: unknown token or missing permission
	codeNoRoute            = 7003  // observed: unknown route or object id
	codeMalformedJSON      = 6007  // emulator's choice: undecodable body
	codeInvalidRequest     = 1001  // emulator's choice: invalid query or body field
	codeRateLimited        = 971   // commonly reported with 429, not confirmed
	codeTunnelNotFound     = 1003  // emulator's choice, as a third-party fake does
	codeTunnelNameConflict = 1013  // observed: duplicate tunnel name
	codeConfigNotFound     = 1055  // from a third-party fake's recording
	codeBadConfiguration   = 1056  // observed: invalid configuration
	codeLocallyManaged     = 1057  // emulator's choice: PUT to a local tunnel
	codeDNSValidation      = 1004  // observed: "DNS Validation Error" with a chain
	codeTagQuota           = 9300  // observed: error_chain item of 1004
	codeCommentTooLong     = 9313  // observed
	codeRecordNotFound     = 81044 // observed: "Record does not exist."
	codeCNAMEConflict      = 81053 // observed
	codeCNAMEExists        = 81054 // observed
	codeIdenticalRecord    = 81058 // observed
	codeBatchTooLarge      = 81062 // emulator's choice: too many batch operations
)

// bearerTokenPattern accepts the characters of real API tokens and of the
// made-up tokens tests use.
var bearerTokenPattern = regexp.MustCompile(`^[A-Za-z0-9._~+/=-]+$`)

var errAuthentication = fail(http.StatusForbidden, codeAuthentication, "Authentication error")

// authenticate checks the credentials of a request and returns the
// permissions of its token. Callers hold e.mu.
func (e *Emulator) authenticate(h http.Header) (map[Permission]bool, response, bool) {
	auth := h.Get("Authorization")
	if auth == "" {
		if h.Get("X-Auth-Key") != "" || h.Get("X-Auth-Email") != "" {
			// The emulator has no global API keys, so every key is unknown.
			return nil, errAuthentication, false
		}
		return nil, fail(http.StatusBadRequest, codeMissingAuth,
			"Missing X-Auth-Key, X-Auth-Email or Authorization headers"), false
	}

	scheme, token, found := strings.Cut(auth, " ")
	if !found || !strings.EqualFold(scheme, "Bearer") || !bearerTokenPattern.MatchString(token) {
		resp := fail(http.StatusBadRequest, codeInvalidHeaders, "Invalid request headers")
		resp.errors[0].ErrorChain = []apiError{{Code: codeInvalidAuthFormat, Message: "Invalid format for Authorization header"}}
		return nil, resp, false
	}

	perms, known := e.tokens[token]
	if !known {
		return nil, errAuthentication, false
	}
	return perms, response{}, true
}

// allows reports whether the request's token has any of perms.
func (r *request) allows(perms ...Permission) bool {
	for _, p := range perms {
		if r.perms[p] {
			return true
		}
	}
	return false
}
