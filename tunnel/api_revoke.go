package tunnel

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
)

// ConfiguredTunnelID returns the tunnel id without making a call: the id of
// the tunnel already resolved, or the cloudflare.tunnel setting when it has
// the UUID form. ok is false for a tunnel given by name and not yet resolved.
func (a *API) ConfiguredTunnelID() (id string, ok bool) {
	a.mu.Lock()
	cached := a.tunnel
	a.mu.Unlock()
	if cached != nil {
		return cached.ID, true
	}
	if apiUUIDPattern.MatchString(a.tunnelRef) {
		return a.tunnelRef, true
	}
	return "", false
}

// ReadConfigByID reads the configuration of tunnel id with one GET (retried
// like every read), without resolving the tunnel first, so revoke can make
// its cutting write as the second call. A locally-managed tunnel is still
// rejected, from the configuration's source field: a remote write would not
// cut its traffic.
func (a *API) ReadConfigByID(ctx context.Context, id string) (Config, error) {
	return a.readConfig(ctx, id)
}

// WriteConfigByID replaces the configuration of tunnel id with one PUT, as
// WriteConfig does, without resolving the tunnel first. It is never retried.
func (a *API) WriteConfigByID(ctx context.Context, id string, base Config, rules []LiveRule) (int64, error) {
	op := "put configuration of tunnel " + id
	body, err := apiEncodeConfig(base.Extra, rules)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", op, err)
	}

	env, err := a.send(ctx, apiRequest{
		op:         op,
		permission: PermissionTunnelEdit,
		method:     http.MethodPut,
		path:       a.tunnelPath(id) + "/configurations",
		body:       body,
	})
	if err != nil {
		return 0, err
	}

	var result apiConfigResult
	if err := json.Unmarshal(env.Result, &result); err != nil {
		return 0, fmt.Errorf("%s: the write went through but its response is unreadable: %w", op, err)
	}
	return result.Version, nil
}

// ListZones returns the account's zones sorted by name, with the pages of
// one zone listing.
func (a *API) ListZones(ctx context.Context) ([]Zone, error) {
	return a.listZones(ctx)
}
