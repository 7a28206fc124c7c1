package tunnel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	cloudflare "github.com/cloudflare/cloudflare-go/v6"
	"github.com/cloudflare/cloudflare-go/v6/option"
)

// APIConfig configures the Cloudflare API target.
type APIConfig struct {
	// BaseURL is the API root, such as "http://127.0.0.1:8080/client/v4" for
	// the emulator. It has no default here: the settings layer supplies it.
	BaseURL string
	// Token is an API token, sent as "Authorization: Bearer <token>".
	Token string
	// AccountID is the account that holds the tunnel and the zones.
	AccountID string
	// Tunnel is the tunnel's id (a UUID) or its name.
	Tunnel string
	// HTTPClient sends every request. A nil value means a new http.Client.
	HTTPClient *http.Client
	// ReadRetries is the number of retries of a read after 429, 5xx or a
	// timeout. 0 means 4, and a negative value turns retries off.
	ReadRetries int
	// RequestTimeout limits one HTTP attempt. 0 means 30s.
	RequestTimeout time.Duration
	// Logger receives debug logs of every HTTP exchange, with credentials
	// redacted, and a line per retry. nil discards them.
	Logger *slog.Logger
}

// API is the Cloudflare API target: it reads and writes the configuration of
// one remotely-managed tunnel and the DNS records of the account's zones.
// It is safe for concurrent use.
type API struct {
	client      *cloudflare.Client
	token       string
	accountID   string
	tunnelRef   string
	readRetries int
	timeout     time.Duration
	logger      *slog.Logger

	// Replaced in tests so that retries run without waiting.
	sleep  func(ctx context.Context, d time.Duration) error
	jitter func(n time.Duration) time.Duration
	now    func() time.Time

	mu        sync.Mutex
	tunnel    *TunnelInfo
	zoneNames map[string]string // zone id to punycode name, from the last zone listing
}

// NewAPI checks cfg and builds the client. It makes no call.
//
// The client is built from explicit options only and never from
// cloudflare.NewClient, which reads CLOUDFLARE_BASE_URL, CLOUDFLARE_API_TOKEN,
// CLOUDFLARE_API_KEY, CLOUDFLARE_EMAIL and CLOUDFLARE_API_USER_SERVICE_KEY
// from the environment (cloudflare-go v6.10.0, client.go). A middleware also
// strips the X-Auth-* credential headers and sets the bearer token on every
// request.
func NewAPI(cfg APIConfig) (*API, error) {
	if err := apiCheckConfig(cfg); err != nil {
		return nil, err
	}

	a := &API{
		token:       cfg.Token,
		accountID:   cfg.AccountID,
		tunnelRef:   strings.TrimSpace(cfg.Tunnel),
		readRetries: cfg.ReadRetries,
		timeout:     cfg.RequestTimeout,
		logger:      cfg.Logger,
		sleep:       apiSleep,
		jitter:      apiJitter,
		now:         time.Now,
		zoneNames:   map[string]string{},
	}
	if a.readRetries == 0 {
		a.readRetries = apiDefaultReadRetries
	}
	if a.readRetries < 0 {
		a.readRetries = 0
	}
	if a.timeout <= 0 {
		a.timeout = apiDefaultRequestTimeout
	}
	if a.logger == nil {
		a.logger = slog.New(slog.DiscardHandler)
	}

	httpClient := cfg.HTTPClient
	if httpClient == nil {
		httpClient = &http.Client{}
	}

	a.client = &cloudflare.Client{Options: []option.RequestOption{
		option.WithBaseURL(strings.TrimRight(cfg.BaseURL, "/")),
		option.WithAPIToken(cfg.Token),
		option.WithHTTPClient(httpClient),
		option.WithMaxRetries(0),
		option.WithRequestTimeout(a.timeout),
		option.WithMiddleware(a.pinCredentials, a.logExchange),
	}}
	return a, nil
}

func apiCheckConfig(cfg APIConfig) error {
	base, err := url.Parse(cfg.BaseURL)
	switch {
	case cfg.BaseURL == "":
		return errors.New("cloudflare api base url is empty: set cloudflare.api_base_url")
	case err != nil:
		return fmt.Errorf("cloudflare api base url %q is invalid: %w", cfg.BaseURL, err)
	case base.Scheme != "http" && base.Scheme != "https", base.Host == "":
		return fmt.Errorf("cloudflare api base url %q is invalid: it needs an http or https scheme and a host", cfg.BaseURL)
	case base.User != nil:
		// Credentials in the URL would show up in errors and logs.
		return errors.New("cloudflare api base url contains user information: remove it and pass the token separately")
	case base.RawQuery != "" || base.Fragment != "":
		return fmt.Errorf("cloudflare api base url %q is invalid: remove its query and fragment", cfg.BaseURL)
	}

	if cfg.Token == "" {
		return errors.New("cloudflare api token is empty: set CLOUDFLARE_API_TOKEN or cloudflare.api_token_file")
	}
	if strings.ContainsFunc(cfg.Token, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
		// The token itself is never printed.
		return errors.New("cloudflare api token contains whitespace or control characters: check the token or token file")
	}
	if strings.TrimSpace(cfg.AccountID) == "" {
		return errors.New("cloudflare account id is empty: set cloudflare.account_id")
	}
	if strings.TrimSpace(cfg.Tunnel) == "" {
		return errors.New("cloudflare tunnel is empty: set cloudflare.tunnel to the tunnel's id or name")
	}
	return nil
}

// TunnelInfo describes the resolved tunnel.
type TunnelInfo struct {
	ID        string
	Name      string
	ConfigSrc string
	Status    string
	// Connections is the length of the tunnel's deprecated "connections"
	// list. Cloudflare is emptying that list, so 0 does not prove the tunnel
	// has no connector.
	Connections int
}

// apiTunnel is a tunnel object of the API.
type apiTunnel struct {
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	ConfigSrc   string            `json:"config_src"`
	Status      string            `json:"status"`
	DeletedAt   *string           `json:"deleted_at"`
	Connections []json.RawMessage `json:"connections"`
}

var apiUUIDPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// ResolveTunnel finds the configured tunnel and checks that Cloudflare
// manages its configuration. A tunnel given by id costs one GET of that
// tunnel. A tunnel given by name costs one listing of the live tunnels with
// that name, and it is an error when none or more than one match. The
// result is cached for the life of a.
func (a *API) ResolveTunnel(ctx context.Context) (TunnelInfo, error) {
	a.mu.Lock()
	cached := a.tunnel
	a.mu.Unlock()
	if cached != nil {
		return *cached, nil
	}

	var found apiTunnel
	var err error
	if apiUUIDPattern.MatchString(a.tunnelRef) {
		found, err = a.getTunnel(ctx, a.tunnelRef)
	} else {
		found, err = a.findTunnelByName(ctx, a.tunnelRef)
	}
	if err != nil {
		return TunnelInfo{}, err
	}

	info := TunnelInfo{
		ID:          found.ID,
		Name:        found.Name,
		ConfigSrc:   found.ConfigSrc,
		Status:      found.Status,
		Connections: len(found.Connections),
	}
	if info.ConfigSrc != "cloudflare" {
		return TunnelInfo{}, fmt.Errorf("tunnel %q (%s) has config_src %q, so its ingress rules live in cloudflared's config.yml: set target: file and file.path to manage it: %w",
			info.Name, info.ID, info.ConfigSrc, ErrLocallyManaged)
	}

	a.mu.Lock()
	a.tunnel = &info
	a.mu.Unlock()
	return info, nil
}

func (a *API) getTunnel(ctx context.Context, id string) (apiTunnel, error) {
	env, err := a.read(ctx, apiRequest{
		op:         "get tunnel " + id,
		permission: PermissionTunnelEdit,
		method:     http.MethodGet,
		path:       a.tunnelPath(id),
	})
	if err != nil {
		return apiTunnel{}, err
	}

	var t apiTunnel
	if err := json.Unmarshal(env.Result, &t); err != nil {
		return apiTunnel{}, fmt.Errorf("get tunnel %s: decode response: %w", id, err)
	}
	if t.DeletedAt != nil {
		return apiTunnel{}, fmt.Errorf("tunnel %s was deleted at %s: set cloudflare.tunnel to a live tunnel: %w", id, *t.DeletedAt, ErrNotFound)
	}
	return t, nil
}

func (a *API) findTunnelByName(ctx context.Context, name string) (apiTunnel, error) {
	query := url.Values{"name": {name}, "is_deleted": {"false"}}
	op := fmt.Sprintf("find tunnel %q", name)
	env, err := a.read(ctx, apiRequest{
		op:         op,
		permission: PermissionTunnelEdit,
		method:     http.MethodGet,
		path:       "accounts/" + url.PathEscape(a.accountID) + "/cfd_tunnel?" + query.Encode(),
	})
	if err != nil {
		return apiTunnel{}, err
	}

	var listed []apiTunnel
	if err := json.Unmarshal(env.Result, &listed); err != nil {
		return apiTunnel{}, fmt.Errorf("%s: decode response: %w", op, err)
	}

	// Filter again in case the server ignored a query parameter.
	var live []apiTunnel
	for _, t := range listed {
		if t.Name == name && t.DeletedAt == nil {
			live = append(live, t)
		}
	}

	switch len(live) {
	case 0:
		return apiTunnel{}, fmt.Errorf("%s: no live tunnel with that name in account %s: check cloudflare.tunnel and cloudflare.account_id: %w", op, a.accountID, ErrNotFound)
	case 1:
		return live[0], nil
	}
	ids := make([]string, len(live))
	for i, t := range live {
		ids[i] = t.ID
	}
	slices.Sort(ids)
	return apiTunnel{}, fmt.Errorf("%s: %d live tunnels have that name (%s): set cloudflare.tunnel to one of these ids", op, len(live), strings.Join(ids, ", "))
}

func (a *API) tunnelPath(id string) string {
	return "accounts/" + url.PathEscape(a.accountID) + "/cfd_tunnel/" + url.PathEscape(id)
}

// Read returns the live state: the tunnel, its configuration, the account's
// zones and every DNS record of those zones. It makes one GET of the
// configuration, the pages of one zone listing and the pages of one record
// listing per zone (at most 8 zones at once), plus the tunnel lookup on the
// first call.
func (a *API) Read(ctx context.Context) (State, error) {
	var info TunnelInfo
	if id, known := a.ConfiguredTunnelID(); known {
		info.ID = id
	} else {
		resolved, err := a.ResolveTunnel(ctx)
		if err != nil {
			return State{}, err
		}
		info = resolved
	}

	cfg, err := a.ReadConfig(ctx)
	if err != nil {
		return State{}, err
	}

	zones, err := a.listZones(ctx)
	if err != nil {
		return State{}, err
	}

	records, err := a.listRecordsOfZones(ctx, zones)
	if err != nil {
		return State{}, err
	}

	return State{
		Target:     "api",
		AccountID:  a.accountID,
		TunnelID:   info.ID,
		TunnelName: info.Name,
		Version:    cfg.Version,
		Rules:      cfg.Rules,
		ManagesDNS: true,
		Zones:      zones,
		Records:    records,
	}, nil
}

// Preflight checks, before any write, that the token may edit the tunnel and
// the DNS records of each zone in zoneIDs. It sends a PATCH of the tunnel
// with the empty body {} and an empty batch {} to each zone, which change
// nothing. Every failed check is returned, joined.
//
// NOTE: the emulator accepts both empty bodies as no-op writes, but whether
// the real API does is unverified.
func (a *API) Preflight(ctx context.Context, zoneIDs []string) error {
	id, known := a.ConfiguredTunnelID()
	if !known {
		info, err := a.ResolveTunnel(ctx)
		if err != nil {
			return err
		}
		id = info.ID
	}

	var errs []error
	_, err := a.send(ctx, apiRequest{
		op:         "check edit permission on tunnel " + id,
		permission: PermissionTunnelEdit,
		method:     http.MethodPatch,
		path:       a.tunnelPath(id),
		body:       []byte(`{}`),
	})
	if err != nil {
		errs = append(errs, err)
	}

	ids := slices.Clone(zoneIDs)
	slices.Sort(ids)
	for _, id := range slices.Compact(ids) {
		_, err := a.send(ctx, apiRequest{
			op:         "check dns edit permission on zone " + a.zoneLabel(id),
			permission: PermissionDNSEdit,
			method:     http.MethodPost,
			path:       apiZonePath(id) + "/dns_records/batch",
			body:       []byte(`{}`),
		})
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
