package emulator

import (
	"fmt"
	"net/http"
	"strconv"
)

// route dispatches a request to its handler. Callers hold e.mu.
func (e *Emulator) route(req *request) response {
	s := req.segments
	switch {
	case len(s) == 3 && s[0] == "user" && s[1] == "tokens" && s[2] == "verify":
		return methods(req, map[string]func() response{
			http.MethodGet: func() response { return e.verifyToken() },
		})

	case len(s) >= 3 && s[0] == "accounts" && s[2] == "cfd_tunnel":
		return e.routeTunnels(req, s[1], s[3:])

	case len(s) == 1 && s[0] == "zones":
		return methods(req, map[string]func() response{
			http.MethodGet: func() response { return e.listZones(req) },
		})

	case len(s) >= 3 && s[0] == "zones" && s[2] == "dns_records":
		return e.routeRecords(req, s[1], s[3:])
	}
	return noRoute()
}

func (e *Emulator) routeTunnels(req *request, accountID string, rest []string) response {
	switch len(rest) {
	case 0:
		return methods(req, map[string]func() response{
			http.MethodGet: func() response { return e.listTunnels(req, accountID) },
		})
	case 1:
		return methods(req, map[string]func() response{
			http.MethodGet:   func() response { return e.getTunnel(req, accountID, rest[0]) },
			http.MethodPatch: func() response { return e.patchTunnel(req, accountID, rest[0]) },
		})
	case 2:
		if rest[1] != "configurations" {
			return noRoute()
		}
		return methods(req, map[string]func() response{
			http.MethodGet: func() response { return e.getConfig(req, accountID, rest[0]) },
			http.MethodPut: func() response { return e.putConfig(req, accountID, rest[0]) },
		})
	}
	return noRoute()
}

func (e *Emulator) routeRecords(req *request, zoneID string, rest []string) response {
	switch {
	case len(rest) == 0:
		return methods(req, map[string]func() response{
			http.MethodGet:  func() response { return e.listRecords(req, zoneID) },
			http.MethodPost: func() response { return e.createRecord(req, zoneID) },
		})
	case len(rest) == 1 && rest[0] == "batch":
		return methods(req, map[string]func() response{
			http.MethodPost: func() response { return e.batchRecords(req, zoneID) },
		})
	case len(rest) == 1:
		id := rest[0]
		return methods(req, map[string]func() response{
			http.MethodGet:    func() response { return e.getRecord(req, zoneID, id) },
			http.MethodPatch:  func() response { return e.patchRecord(req, zoneID, id) },
			http.MethodPut:    func() response { return e.putRecord(req, zoneID, id) },
			http.MethodDelete: func() response { return e.deleteRecord(req, zoneID, id) },
		})
	}
	return noRoute()
}

// methods calls the handler for the request's method. A method the route
// does not serve gets the same 404 as an unknown route.
func methods(req *request, handlers map[string]func() response) response {
	h, ok := handlers[req.method]
	if !ok {
		return noRoute()
	}
	return h()
}

func noRoute() response {
	return fail(http.StatusNotFound, codeNoRoute, "No route for that URI")
}

func invalidRequest(format string, args ...any) response {
	return fail(http.StatusBadRequest, codeInvalidRequest, fmt.Sprintf(format, args...))
}

// verifyToken handles GET /user/tokens/verify for an authenticated token.
func (e *Emulator) verifyToken() response {
	return ok(map[string]any{
		"id":     "00000000000000000000000000000000",
		"status": "active",
	})
}

// pageRequest is a parsed page/per_page pair.
type pageRequest struct {
	page    int
	perPage int
}

// parsePage reads page and per_page. per_page above maxPerPage is lowered
// to it.
func parsePage(q map[string][]string, defaultPerPage, maxPerPage int) (pageRequest, *response) {
	p := pageRequest{page: 1, perPage: defaultPerPage}
	for _, param := range []struct {
		key string
		dst *int
	}{{"page", &p.page}, {"per_page", &p.perPage}} {
		values := q[param.key]
		if len(values) == 0 {
			continue
		}
		// cloudflare-go v6 declares page numbers as float64, so accept
		// "2.0" as well as "2".
		f, err := strconv.ParseFloat(values[0], 64)
		n := int(f)
		if err != nil || f != float64(n) || n < 1 {
			resp := invalidRequest("invalid %s %q: must be a whole number of at least 1", param.key, values[0])
			return p, &resp
		}
		*param.dst = n
	}
	p.perPage = min(p.perPage, maxPerPage)
	return p, nil
}

// paginate returns the page of items that p selects. A page past the end
// is empty, because cloudflare-go v6's auto-pager stops only at an empty page.
func paginate[T any](items []T, p pageRequest) response {
	total := len(items)
	start := min((p.page-1)*p.perPage, total)
	if p.page-1 > total/p.perPage {
		start = total
	}
	end := min(start+p.perPage, total)

	pageItems := make([]T, 0, end-start)
	pageItems = append(pageItems, items[start:end]...)

	resp := ok(pageItems)
	resp.info = &resultInfo{
		Page:       p.page,
		PerPage:    p.perPage,
		Count:      len(pageItems),
		TotalCount: total,
		TotalPages: (total + p.perPage - 1) / p.perPage,
	}
	return resp
}
