package tunnel

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"

	"github.com/portcullis-dev/portcullis/ingress"
)

// apiReadOnlyConfigKey is the configuration key the API fills itself and
// rejects on write ("warp-routing" is read-only in the API schema).
const apiReadOnlyConfigKey = "warp-routing"

// Config is the tunnel configuration document as the API stores it.
type Config struct {
	// Version is the configuration version, which every write increments.
	Version int64
	// Rules are the ingress rules in document order, each with Raw set to
	// the rule's JSON exactly as read.
	Rules []LiveRule
	// Extra holds every top-level key of the document except "ingress",
	// such as "originRequest" and "warp-routing", exactly as read.
	Extra map[string]json.RawMessage
}

// apiConfigResult is the result of GET and PUT .../configurations.
type apiConfigResult struct {
	TunnelID string          `json:"tunnel_id"`
	Version  int64           `json:"version"`
	Config   json.RawMessage `json:"config"`
	Source   string          `json:"source"`
}

// ReadConfig returns the tunnel's configuration with one GET (retried like
// every read). A tunnel that never had a configuration gives version 0 and
// no rules.
//
// A tunnel given by id is not looked up first, because the configuration's
// source field identifies a locally-managed tunnel. That saves one call per run.
func (a *API) ReadConfig(ctx context.Context) (Config, error) {
	id, err := a.tunnelID(ctx)
	if err != nil {
		return Config{}, err
	}
	return a.readConfig(ctx, id)
}

// tunnelID returns the tunnel's id, looking the tunnel up only when it was
// given by name.
func (a *API) tunnelID(ctx context.Context) (string, error) {
	if id, known := a.ConfiguredTunnelID(); known {
		return id, nil
	}
	info, err := a.ResolveTunnel(ctx)
	if err != nil {
		return "", err
	}
	return info.ID, nil
}

// readConfig reads the configuration of tunnel id with one GET. A
// configuration whose source is not cloudflare is an error wrapping
// ErrLocallyManaged.
func (a *API) readConfig(ctx context.Context, id string) (Config, error) {
	op := "get configuration of tunnel " + id
	env, err := a.read(ctx, apiRequest{
		op:         op,
		permission: PermissionTunnelEdit,
		method:     http.MethodGet,
		path:       a.tunnelPath(id) + "/configurations",
	})
	if err != nil {
		return Config{}, err
	}

	var result apiConfigResult
	if err := json.Unmarshal(env.Result, &result); err != nil {
		return Config{}, fmt.Errorf("%s: decode response: %w", op, err)
	}
	if result.Source != "" && result.Source != "cloudflare" {
		return Config{}, fmt.Errorf("tunnel %s has its configuration source %q, so its ingress rules live in cloudflared's config.yml: set target: file and file.path to manage it: %w",
			id, result.Source, ErrLocallyManaged)
	}
	cfg, err := apiDecodeConfig(result)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", op, err)
	}
	return cfg, nil
}

func apiDecodeConfig(result apiConfigResult) (Config, error) {
	cfg := Config{Version: result.Version, Rules: []LiveRule{}, Extra: map[string]json.RawMessage{}}
	if len(result.Config) == 0 || bytes.Equal(result.Config, []byte("null")) {
		return cfg, nil
	}

	var doc map[string]json.RawMessage
	if err := json.Unmarshal(result.Config, &doc); err != nil {
		return Config{}, fmt.Errorf("decode config: %w", err)
	}

	var rules []json.RawMessage
	if raw, ok := doc["ingress"]; ok {
		if err := json.Unmarshal(raw, &rules); err != nil {
			return Config{}, fmt.Errorf("decode ingress list: %w", err)
		}
	}
	for i, raw := range rules {
		var rule ingress.Rule
		if err := json.Unmarshal(raw, &rule); err != nil {
			return Config{}, fmt.Errorf("decode ingress rule #%d: %w", i+1, err)
		}
		cfg.Rules = append(cfg.Rules, LiveRule{Rule: rule, Raw: raw})
	}

	delete(doc, "ingress")
	cfg.Extra = doc
	return cfg, nil
}

// WriteConfig replaces the tunnel's configuration with rules and the
// top-level keys of base.Extra except "warp-routing", and returns the new
// version. A rule whose Raw is a json.RawMessage is written from Raw byte for
// byte, and any other rule is marshalled from its fields. It makes exactly one
// PUT and never retries it, because a retried write could overwrite a
// concurrent one: the caller re-reads, plans again and writes.
func (a *API) WriteConfig(ctx context.Context, base Config, rules []LiveRule) (int64, error) {
	id, err := a.tunnelID(ctx)
	if err != nil {
		return 0, err
	}
	return a.WriteConfigByID(ctx, id, base, rules)
}

// apiEncodeConfig builds the PUT body {"config":{"ingress":[...], ...}} by
// hand, because encoding/json would compact and re-escape a RawMessage and
// so change the bytes of rules that are written back.
func apiEncodeConfig(extra map[string]json.RawMessage, rules []LiveRule) ([]byte, error) {
	if len(rules) == 0 {
		return nil, errors.New("no ingress rules: the document needs at least a catch-all rule")
	}

	var b bytes.Buffer
	b.WriteString(`{"config":{"ingress":[`)
	for i, rule := range rules {
		raw, err := apiRuleJSON(rule)
		if err != nil {
			return nil, fmt.Errorf("ingress rule #%d (hostname %q): %w", i+1, rule.Hostname, err)
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(raw)
	}
	b.WriteByte(']')

	for _, key := range slices.Sorted(maps.Keys(extra)) {
		if key == "ingress" || key == apiReadOnlyConfigKey {
			continue
		}
		value := extra[key]
		if !json.Valid(value) {
			return nil, fmt.Errorf("top-level key %q: invalid JSON value", key)
		}
		name, err := json.Marshal(key)
		if err != nil {
			return nil, fmt.Errorf("top-level key %q: %w", key, err)
		}
		b.WriteByte(',')
		b.Write(name)
		b.WriteByte(':')
		b.Write(value)
	}

	b.WriteString(`}}`)
	return b.Bytes(), nil
}

// apiRuleJSON returns the JSON of one rule: its Raw bytes when it was read
// from the API, its marshalled fields otherwise.
func apiRuleJSON(rule LiveRule) ([]byte, error) {
	if raw, ok := rule.Raw.(json.RawMessage); ok && len(raw) > 0 {
		if !json.Valid(raw) {
			return nil, errors.New("raw JSON of the rule is invalid")
		}
		return raw, nil
	}

	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(rule.Rule); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
