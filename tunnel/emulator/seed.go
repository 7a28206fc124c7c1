package emulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// seedFile is the JSON document Seed reads.
type seedFile struct {
	Tokens []struct {
		Token       string       `json:"token"`
		Permissions []Permission `json:"permissions"`
	} `json:"tokens"`
	Zones []struct {
		Account string `json:"account"`
		Name    string `json:"name"`
		Plan    string `json:"plan"`
	} `json:"zones"`
	Tunnels []struct {
		Account   string          `json:"account"`
		Name      string          `json:"name"`
		ConfigSrc string          `json:"config_src"`
		Config    json.RawMessage `json:"config"`
		Deleted   bool            `json:"deleted"`
	} `json:"tunnels"`
	Records []seedRecord `json:"records"`
}

// seedRecord is a DNS record of a seed, placed by zone name.
type seedRecord struct {
	Zone    string   `json:"zone"`
	Type    string   `json:"type"`
	Name    string   `json:"name"`
	Content string   `json:"content"`
	Proxied bool     `json:"proxied"`
	TTL     int      `json:"ttl"`
	Comment string   `json:"comment"`
	Tags    []string `json:"tags"`
}

// Seed adds the tokens, zones, tunnels and records of a JSON document:
//
//	{"tokens":  [{"token": "made-up-token", "permissions": ["tunnel:edit", "dns:edit", "zone:read"]}],
//	 "zones":   [{"account": "<account id>", "name": "example.com", "plan": "free"}],
//	 "tunnels": [{"account": "<account id>", "name": "demo", "config_src": "cloudflare", "config": {...}}],
//	 "records": [{"zone": "example.com", "type": "CNAME", "name": "app", "content": "...", "proxied": true}]}
//
// A tunnel's config goes through the same validation as a PUT and becomes
// version 1. A record content of "tunnel:<name>" is replaced by the CNAME
// target of that seeded tunnel, <id>.cfargotunnel.com, because tunnel ids
// are only known once the tunnel is added. Records pass the API's checks.
// Unknown keys are errors. Seed stops at the first error, keeping what was
// added before it.
func (e *Emulator) Seed(r io.Reader) error {
	var seed seedFile
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&seed); err != nil {
		return fmt.Errorf("read emulator seed: %w", err)
	}

	for i, t := range seed.Tokens {
		if !bearerTokenPattern.MatchString(t.Token) {
			return fmt.Errorf("seed tokens[%d]: invalid token: use letters, digits and -._~+/= only", i)
		}
		for _, p := range t.Permissions {
			if !isPermission(p) {
				return fmt.Errorf("seed tokens[%d]: unknown permission %q: use one of %v", i, p, AllPermissions())
			}
		}
		e.AddToken(t.Token, t.Permissions...)
	}

	zoneIDs := map[string]string{}
	for i, z := range seed.Zones {
		if z.Account == "" || z.Name == "" {
			return fmt.Errorf("seed zones[%d]: account and name are required", i)
		}
		if _, known := plans[z.Plan]; z.Plan != "" && !known {
			return fmt.Errorf("seed zones[%d] %s: unknown plan %q: use free, pro, business or enterprise", i, z.Name, z.Plan)
		}
		added := e.AddZone(z.Account, z.Name)
		if z.Plan != "" {
			e.SetZonePlan(added.ID, z.Plan)
		}
		zoneIDs[added.Name] = added.ID
	}

	tunnelIDs := map[string]string{}
	for i, t := range seed.Tunnels {
		id, err := e.seedTunnel(t.Account, t.Name, t.ConfigSrc, t.Config, t.Deleted)
		if err != nil {
			return fmt.Errorf("seed tunnels[%d] %s: %w", i, t.Name, err)
		}
		tunnelIDs[t.Name] = id
	}

	for i, rec := range seed.Records {
		if err := e.seedRecord(rec, zoneIDs, tunnelIDs); err != nil {
			return fmt.Errorf("seed records[%d] %s %s: %w", i, rec.Type, rec.Name, err)
		}
	}
	return nil
}

func isPermission(p Permission) bool {
	for _, known := range AllPermissions() {
		if p == known {
			return true
		}
	}
	return false
}

func (e *Emulator) seedTunnel(account, name, configSrc string, config json.RawMessage, deleted bool) (string, error) {
	if account == "" || name == "" {
		return "", errors.New("account and name are required")
	}
	if configSrc == "" {
		configSrc = "cloudflare"
	}
	if configSrc != "cloudflare" && configSrc != "local" {
		return "", fmt.Errorf("invalid config_src %q: use cloudflare or local", configSrc)
	}

	t := e.AddTunnel(account, name, configSrc)
	if len(config) > 0 && !isNull(config) {
		if err := validateConfig(config); err != nil {
			return "", fmt.Errorf("invalid config: %w", err)
		}
		e.SetConfig(t.ID, config)
	}
	if deleted {
		e.DeleteTunnel(t.ID)
	}
	return t.ID, nil
}

func (e *Emulator) seedRecord(rec seedRecord, zoneIDs, tunnelIDs map[string]string) error {
	zoneID, ok := zoneIDs[normalizeZoneName(rec.Zone)]
	if !ok {
		return fmt.Errorf("unknown zone %q: add it under zones first", rec.Zone)
	}
	content := rec.Content
	if name, isRef := strings.CutPrefix(content, "tunnel:"); isRef {
		id, known := tunnelIDs[name]
		if !known {
			return fmt.Errorf("content %q names no seeded tunnel", content)
		}
		content = strings.ToLower(id) + ".cfargotunnel.com"
	}

	in := recordInput{Type: &rec.Type, Name: &rec.Name, Content: &content, Proxied: &rec.Proxied, Comment: &rec.Comment, Tags: &rec.Tags}
	if rec.TTL != 0 {
		in.TTL = &rec.TTL
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	if _, errResp := e.postRecord(e.mustZone(zoneID), in); errResp != nil {
		return errors.New(describeErrors(errResp.errors))
	}
	return nil
}

// describeErrors joins error items and their chains into one line.
func describeErrors(items []apiError) string {
	var parts []string
	for _, item := range items {
		text := fmt.Sprintf("%s (code %d)", item.Message, item.Code)
		if len(item.ErrorChain) > 0 {
			text += ": " + describeErrors(item.ErrorChain)
		}
		parts = append(parts, text)
	}
	return strings.Join(parts, "; ")
}
