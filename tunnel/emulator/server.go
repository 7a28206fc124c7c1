package emulator

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// maxBodyBytes bounds how much of a request body the emulator reads.
const maxBodyBytes = 16 << 20

// apiError is one item of the envelope's errors list.
type apiError struct {
	Code       int        `json:"code"`
	Message    string     `json:"message"`
	ErrorChain []apiError `json:"error_chain,omitempty"`
}

// resultInfo is the paging block of list responses.
type resultInfo struct {
	Page       int `json:"page"`
	PerPage    int `json:"per_page"`
	Count      int `json:"count"`
	TotalCount int `json:"total_count"`
	TotalPages int `json:"total_pages"`
}

// envelope is the body of every response.
type envelope struct {
	Success    bool        `json:"success"`
	Errors     []apiError  `json:"errors"`
	Messages   []apiError  `json:"messages"`
	Result     any         `json:"result"`
	ResultInfo *resultInfo `json:"result_info,omitempty"`
}

// response is the status, result or errors of one request, as a handler
// returns it for ServeHTTP to write.
type response struct {
	status int
	result any
	info   *resultInfo
	errors []apiError
	header http.Header
}

// request is a parsed API request.
type request struct {
	method   string
	path     string   // without the /client/v4 prefix
	segments []string // path split on "/", without empty parts
	query    url.Values
	body     []byte
	perms    map[Permission]bool
}

func ok(result any) response {
	return response{status: http.StatusOK, result: result}
}

func fail(status, code int, message string) response {
	return response{status: status, errors: []apiError{{Code: code, Message: message}}}
}

// ServeHTTP handles one API request.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path, found := stripPrefix(r.URL.Path)

	e.mu.Lock()
	hook, latency := e.hook, e.latency
	e.mu.Unlock()

	if hook != nil {
		hook(r.Method, path)
	}
	body, readErr := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes))
	call := Call{Method: r.Method, Path: path, Query: r.URL.RawQuery, Body: body}

	if !sleepContext(r, latency) {
		e.recordCall(call)
		return
	}

	var resp response
	switch {
	case readErr != nil:
		resp = fail(http.StatusBadRequest, codeMalformedJSON, "failed to read the request body")
	case !found:
		resp = fail(http.StatusNotFound, codeNoRoute, "No route for that URI")
	default:
		resp = e.handle(r, path, body)
	}

	call.Status = resp.status
	writeResponse(w, resp)
	e.recordCall(call)
}

// handle runs faults, authentication and the route under the lock.
func (e *Emulator) handle(r *http.Request, path string, body []byte) response {
	e.mu.Lock()
	defer e.mu.Unlock()

	if resp, fired := e.fireFault(r.Method, path); fired {
		return resp
	}

	perms, authResp, authorised := e.authenticate(r.Header)
	if !authorised {
		return authResp
	}

	req := &request{
		method:   r.Method,
		path:     path,
		segments: splitPath(path),
		query:    r.URL.Query(),
		body:     body,
		perms:    perms,
	}
	return e.route(req)
}

// recordCall appends a call to the log.
func (e *Emulator) recordCall(c Call) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.calls = append(e.calls, c)
}

// fireFault returns the response of the first fault that fires for the
// request. Callers hold e.mu.
func (e *Emulator) fireFault(method, path string) (response, bool) {
	for _, f := range e.faults {
		if f.Method != "" && !strings.EqualFold(f.Method, method) {
			continue
		}
		if !strings.HasSuffix(path, f.PathSuffix) {
			continue
		}

		f.matched++
		if f.matched <= f.After {
			continue
		}
		if f.Times > 0 && f.fired >= f.Times {
			continue
		}
		f.fired++
		return faultResponse(f.Fault), true
	}
	return response{}, false
}

func faultResponse(f Fault) response {
	status := f.Status
	if status == 0 {
		status = http.StatusInternalServerError
	}
	code, message := f.Code, f.Message
	if code == 0 {
		code = defaultFaultCode(status)
	}
	if message == "" {
		message = http.StatusText(status)
	}

	resp := fail(status, code, message)
	if f.RetryAfter != "" {
		resp.header = http.Header{"Retry-After": []string{f.RetryAfter}}
	}
	return resp
}

func defaultFaultCode(status int) int {
	if status == http.StatusTooManyRequests {
		return codeRateLimited
	}
	return status
}

// writeResponse writes resp as a JSON envelope.
func writeResponse(w http.ResponseWriter, resp response) {
	env := envelope{
		Success:    len(resp.errors) == 0,
		Errors:     resp.errors,
		Messages:   []apiError{},
		Result:     resp.result,
		ResultInfo: resp.info,
	}
	if env.Errors == nil {
		env.Errors = []apiError{}
	}
	if !env.Success {
		env.Result = nil
	}

	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(env); err != nil {
		// Results are built from decoded JSON and plain structs, so this is
		// a bug in the emulator. Send a valid envelope anyway.
		buf.Reset()
		buf.WriteString(`{"success":false,"errors":[{"code":10001,"message":"emulator failed to encode its response"}],"messages":[],"result":null}` + "\n")
		resp.status = http.StatusInternalServerError
	}

	for k, v := range resp.header {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(resp.status)
	_, _ = w.Write(buf.Bytes())
}

// stripPrefix returns the part of the path after /client/v4.
func stripPrefix(p string) (string, bool) {
	i := strings.Index(p, pathPrefix)
	if i < 0 {
		return p, false
	}
	rest := p[i+len(pathPrefix):]
	if rest != "" && !strings.HasPrefix(rest, "/") {
		return p, false
	}
	return rest, true
}

func splitPath(p string) []string {
	var out []string
	for _, s := range strings.Split(p, "/") {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// sleepContext waits for d and reports whether the request is still wanted.
func sleepContext(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return r.Context().Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-r.Context().Done():
		return false
	}
}
