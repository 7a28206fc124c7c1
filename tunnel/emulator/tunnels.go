package emulator

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
)

// Paging of the tunnel list. A third-party fake recorded a default of
// 1000; cloudflare-go v0 assumes 100.
// NOTE: the real default and maximum per_page are unverified.
const (
	tunnelsDefaultPerPage = 100
	tunnelsMaxPerPage     = 1000
)

// tunnelJSON is the wire form of a tunnel.
type tunnelJSON struct {
	ID              string           `json:"id"`
	AccountTag      string           `json:"account_tag"`
	Name            string           `json:"name"`
	CreatedAt       string           `json:"created_at"`
	DeletedAt       *string          `json:"deleted_at"`
	ConnsActiveAt   *string          `json:"conns_active_at"`
	ConnsInactiveAt *string          `json:"conns_inactive_at"`
	Status          string           `json:"status"`
	TunType         string           `json:"tun_type"`
	ConfigSrc       string           `json:"config_src"`
	RemoteConfig    bool             `json:"remote_config"`
	Metadata        map[string]any   `json:"metadata"`
	Connections     []connectionJSON `json:"connections"`
}

// connectionJSON is one connector connection of a tunnel.
type connectionJSON struct {
	ID                 string `json:"id"`
	ClientID           string `json:"client_id"`
	ClientVersion      string `json:"client_version"`
	ColoName           string `json:"colo_name"`
	IsPendingReconnect bool   `json:"is_pending_reconnect"`
	OpenedAt           string `json:"opened_at"`
	OriginIP           string `json:"origin_ip"`
	UUID               string `json:"uuid"`
}

// configJSON is the wire form of a tunnel configuration.
type configJSON struct {
	TunnelID  string          `json:"tunnel_id"`
	AccountID string          `json:"account_id"`
	Version   int64           `json:"version"`
	Config    json.RawMessage `json:"config"`
	Source    string          `json:"source"`
	CreatedAt string          `json:"created_at"`
}

func (t *tunnelState) toJSON() tunnelJSON {
	created := formatTime(t.createdAt)
	out := tunnelJSON{
		ID:           t.ID,
		AccountTag:   t.AccountID,
		Name:         t.Name,
		CreatedAt:    created,
		TunType:      "cfd_tunnel",
		ConfigSrc:    t.ConfigSrc,
		RemoteConfig: t.ConfigSrc == "cloudflare",
		Metadata:     map[string]any{},
		Connections:  []connectionJSON{},
	}

	if t.Deleted {
		deleted := formatTime(t.deletedAt)
		out.DeletedAt = &deleted
		out.ConnsInactiveAt = &deleted
		out.Status = "down"
		return out
	}

	out.ConnsActiveAt = &created
	out.Status = "healthy"
	out.Connections = append(out.Connections, connectionJSON{
		ID:            t.connectionID,
		ClientID:      t.connectionID,
		ClientVersion: "2026.1.0",
		ColoName:      "emu01",
		OpenedAt:      created,
		OriginIP:      "127.0.0.1",
		UUID:          t.connectionID,
	})
	return out
}

func (e *Emulator) configResponse(t *tunnelState) configJSON {
	config := t.config
	if config == nil {
		config = json.RawMessage("null")
	}
	return configJSON{
		TunnelID:  t.ID,
		AccountID: t.AccountID,
		Version:   t.configVersion,
		Config:    config,
		Source:    t.ConfigSrc,
		CreatedAt: formatTime(t.configCreatedAt),
	}
}

// listTunnels handles GET /accounts/{acc}/cfd_tunnel.
func (e *Emulator) listTunnels(req *request, accountID string) response {
	if !req.allows(TunnelRead, TunnelEdit) || !e.knownAccount(accountID) {
		return errAuthentication
	}

	page, errResp := parsePage(req.query, tunnelsDefaultPerPage, tunnelsMaxPerPage)
	if errResp != nil {
		return *errResp
	}
	match, errResp := tunnelFilter(req.query)
	if errResp != nil {
		return *errResp
	}

	var items []tunnelJSON
	for _, t := range e.tunnels {
		if t.AccountID == accountID && match(t) {
			items = append(items, t.toJSON())
		}
	}
	return paginate(items, page)
}

// tunnelFilter builds the predicate of the list filters name, uuid,
// is_deleted, include_prefix, exclude_prefix and status.
func tunnelFilter(q map[string][]string) (func(*tunnelState) bool, *response) {
	get := func(key string) (string, bool) {
		v, ok := q[key]
		if !ok || len(v) == 0 {
			return "", false
		}
		return v[0], true
	}

	var deleted *bool
	if v, ok := get("is_deleted"); ok {
		b, valid := parseBool(v)
		if !valid {
			resp := invalidRequest("invalid is_deleted %q: use true or false", v)
			return nil, &resp
		}
		deleted = &b
	}
	name, hasName := get("name")
	uuid, hasUUID := get("uuid")
	include, hasInclude := get("include_prefix")
	exclude, hasExclude := get("exclude_prefix")
	status, hasStatus := get("status")

	return func(t *tunnelState) bool {
		switch {
		case deleted != nil && t.Deleted != *deleted:
			return false
		case hasName && t.Name != name:
			return false
		case hasUUID && !strings.EqualFold(t.ID, uuid):
			return false
		case hasInclude && !strings.HasPrefix(t.Name, include):
			return false
		case hasExclude && strings.HasPrefix(t.Name, exclude):
			return false
		case hasStatus && t.toJSON().Status != status:
			return false
		}
		return true
	}, nil
}

// findTunnel returns the tunnel of an account, or the 404 to send.
func (e *Emulator) findTunnel(accountID, tunnelID string) (*tunnelState, *response) {
	t := e.tunnelByID(tunnelID)
	if t == nil || t.AccountID != accountID {
		resp := fail(http.StatusNotFound, codeTunnelNotFound, "Tunnel not found")
		return nil, &resp
	}
	return t, nil
}

// getTunnel handles GET /accounts/{acc}/cfd_tunnel/{id}. A deleted tunnel
// is still returned, with deleted_at set.
func (e *Emulator) getTunnel(req *request, accountID, tunnelID string) response {
	if !req.allows(TunnelRead, TunnelEdit) || !e.knownAccount(accountID) {
		return errAuthentication
	}
	t, errResp := e.findTunnel(accountID, tunnelID)
	if errResp != nil {
		return *errResp
	}
	return ok(t.toJSON())
}

// patchTunnel handles PATCH /accounts/{acc}/cfd_tunnel/{id}. An empty
// object changes nothing, which makes the call a check of the edit
// permission; "name" renames the tunnel.
func (e *Emulator) patchTunnel(req *request, accountID, tunnelID string) response {
	if !req.allows(TunnelEdit) || !e.knownAccount(accountID) {
		return errAuthentication
	}
	t, errResp := e.findTunnel(accountID, tunnelID)
	if errResp != nil {
		return *errResp
	}
	if t.Deleted {
		return fail(http.StatusNotFound, codeTunnelNotFound, "Tunnel not found")
	}

	var body struct {
		Name         *string         `json:"name"`
		TunnelSecret json.RawMessage `json:"tunnel_secret"`
	}
	if resp, bad := decodeStrict(req.body, &body); bad {
		return resp
	}
	if body.Name == nil {
		return ok(t.toJSON())
	}

	name := strings.TrimSpace(*body.Name)
	if name == "" {
		return invalidRequest("invalid tunnel name: must not be empty")
	}
	for _, other := range e.tunnels {
		if other != t && !other.Deleted && other.AccountID == accountID && other.Name == name {
			resp := fail(http.StatusConflict, codeTunnelNameConflict,
				"You already have a tunnel with this name. Delete the existing tunnel, or choose a different name for your new tunnel")
			// cloudflare-go v6 retries a 409 unless told not to.
			resp.header = http.Header{"X-Should-Retry": []string{"false"}}
			return resp
		}
	}
	t.Name = name
	return ok(t.toJSON())
}

// getConfig handles GET /accounts/{acc}/cfd_tunnel/{id}/configurations.
func (e *Emulator) getConfig(req *request, accountID, tunnelID string) response {
	if !req.allows(TunnelRead, TunnelEdit) || !e.knownAccount(accountID) {
		return errAuthentication
	}
	t, errResp := e.configTunnel(accountID, tunnelID)
	if errResp != nil {
		return *errResp
	}
	return ok(e.configResponse(t))
}

// putConfig handles PUT /accounts/{acc}/cfd_tunnel/{id}/configurations. The
// body's "config" replaces the whole document and the version goes up by
// one, even when nothing changed.
func (e *Emulator) putConfig(req *request, accountID, tunnelID string) response {
	if !req.allows(TunnelEdit) || !e.knownAccount(accountID) {
		return errAuthentication
	}
	t, errResp := e.configTunnel(accountID, tunnelID)
	if errResp != nil {
		return *errResp
	}
	if t.ConfigSrc != "cloudflare" {
		return fail(http.StatusBadRequest, codeLocallyManaged,
			"tunnel "+t.ID+" is locally managed (config_src "+t.ConfigSrc+"): its configuration lives in the connector's config.yml and cannot be written through the API")
	}

	var body struct {
		Config json.RawMessage `json:"config"`
	}
	if resp, bad := decodeStrict(req.body, &body); bad {
		return resp
	}
	if len(body.Config) == 0 || bytes.Equal(bytes.TrimSpace(body.Config), []byte("null")) {
		return invalidRequest("missing config: the body must be {\"config\": {...}}")
	}

	if err := validateConfig(body.Config); err != nil {
		return fail(http.StatusBadRequest, codeBadConfiguration,
			"Bad Configuration: Validation failed: "+err.Error()+"\n")
	}
	stored, err := fillWarpRouting(body.Config)
	if err != nil {
		return fail(http.StatusBadRequest, codeBadConfiguration,
			"Bad Configuration: Validation failed: "+err.Error()+"\n")
	}

	e.storeConfig(t, stored)
	return ok(e.configResponse(t))
}

// configTunnel returns the tunnel whose configuration is requested, or the
// 404 to send for an unknown or deleted tunnel.
func (e *Emulator) configTunnel(accountID, tunnelID string) (*tunnelState, *response) {
	t, errResp := e.findTunnel(accountID, tunnelID)
	if errResp != nil {
		return nil, errResp
	}
	if t.Deleted {
		resp := fail(http.StatusNotFound, codeConfigNotFound, "Configuration for tunnel not found")
		return nil, &resp
	}
	return t, nil
}

// fillWarpRouting returns config re-encoded with warp-routing set to
// {"enabled": false} when absent. Every other key is kept as sent.
func fillWarpRouting(config json.RawMessage) (json.RawMessage, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(config, &doc); err != nil || doc == nil {
		return nil, errNotObject("config")
	}
	if _, ok := doc["warp-routing"]; !ok {
		doc["warp-routing"] = json.RawMessage(`{"enabled":false}`)
	}
	return json.Marshal(doc)
}

// decodeStrict decodes a JSON object body, rejecting unknown keys.
func decodeStrict(body []byte, dst any) (response, bool) {
	if len(bytes.TrimSpace(body)) == 0 {
		return invalidRequest("missing request body: send a JSON object"), true
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return fail(http.StatusBadRequest, codeMalformedJSON, "Malformed JSON in request body: "+err.Error()), true
	}
	return response{}, false
}

func parseBool(s string) (value, valid bool) {
	switch strings.ToLower(s) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}
