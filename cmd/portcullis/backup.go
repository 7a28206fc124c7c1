package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/portcullis-dev/portcullis/tunnel"
)

// backup saves the configuration about to be replaced in the audit state
// folder, so that a bad write can be put back.
func (s *session) backup(_ context.Context, base tunnel.State) error {
	dir := filepath.Join(s.settings.Audit.LogDir, "backups")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	stamp := time.Now().UTC().Format("20060102T150405.000000000Z")

	if s.file != nil {
		data, err := os.ReadFile(s.file.Path)
		if os.IsNotExist(err) {
			return nil
		}
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, "config-"+stamp+".yml"), data, 0o600)
	}

	doc := map[string]any{"version": base.Version}
	ingressRules := make([]json.RawMessage, 0, len(base.Rules))
	for _, r := range base.Rules {
		raw, ok := r.Raw.(json.RawMessage)
		if !ok {
			b, err := json.Marshal(r.Rule)
			if err != nil {
				return err
			}
			raw = b
		}
		ingressRules = append(ingressRules, raw)
	}
	doc["ingress"] = ingressRules
	data, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	name := fmt.Sprintf("tunnel-%s-v%d-%s.json", s.settings.Cloudflare.Tunnel, base.Version, stamp)
	return os.WriteFile(filepath.Join(dir, name), append(data, '\n'), 0o600)
}
