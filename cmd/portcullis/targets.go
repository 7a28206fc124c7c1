package main

import (
	"context"
	"fmt"

	"github.com/portcullis-dev/portcullis/config"
	portsync "github.com/portcullis-dev/portcullis/sync"
	"github.com/portcullis-dev/portcullis/tunnel"
)

// openedTarget is a connected target in the shapes the commands use.
type openedTarget struct {
	target portsync.Target
	dns    portsync.DNSTarget
	api    *tunnel.API
	file   *tunnel.File
}

func openTarget(g *globalOptions, s *config.Settings) (openedTarget, error) {
	switch s.Target {
	case config.TargetFile:
		f := &tunnel.File{
			Path:            s.File.Path,
			Tunnel:          s.File.Tunnel,
			CredentialsFile: s.File.CredentialsFile,
			ReloadCommand:   s.File.ReloadCommand,
			Dir:             s.ProjectDirectory,
			Stdout:          g.streams.ErrOut,
			Stderr:          g.streams.ErrOut,
		}
		return openedTarget{target: &fileTarget{file: f}, file: f}, nil
	case config.TargetAPI:
		token, err := s.Token()
		if err != nil {
			return openedTarget{}, err
		}
		if s.Cloudflare.AccountID == "" {
			return openedTarget{}, fmt.Errorf("cloudflare.account_id is not set; set it in portcullis.yaml or CLOUDFLARE_ACCOUNT_ID")
		}
		if s.Cloudflare.Tunnel == "" {
			return openedTarget{}, fmt.Errorf("cloudflare.tunnel is not set; set it in portcullis.yaml or PORTCULLIS_CLOUDFLARE_TUNNEL to the tunnel's name or id")
		}
		api, err := tunnel.NewAPI(tunnel.APIConfig{
			BaseURL:   s.Cloudflare.APIBaseURL,
			Token:     token,
			AccountID: s.Cloudflare.AccountID,
			Tunnel:    s.Cloudflare.Tunnel,
			Logger:    g.logger(),
		})
		if err != nil {
			return openedTarget{}, err
		}
		return openedTarget{target: &apiTarget{api: api}, dns: api, api: api}, nil
	}
	return openedTarget{}, fmt.Errorf("invalid target %q: use api or file", s.Target)
}

// fileTarget adapts tunnel.File to portsync.Target.
type fileTarget struct {
	file *tunnel.File
}

func (t *fileTarget) ReadRules(ctx context.Context) (tunnel.State, error) {
	return t.file.Read(ctx)
}

func (t *fileTarget) WriteRules(ctx context.Context, base tunnel.State, rules []tunnel.LiveRule) (tunnel.State, error) {
	res, err := t.file.Write(ctx, base, rules)
	if err != nil {
		return tunnel.State{}, err
	}
	return tunnel.State{Target: "file", Checksum: res.Checksum}, nil
}

// apiTarget adapts tunnel.API to portsync.Target. It keeps the last
// configuration read, whose top-level fields a write carries over.
type apiTarget struct {
	api  *tunnel.API
	last tunnel.Config
}

func (t *apiTarget) ReadRules(ctx context.Context) (tunnel.State, error) {
	cfg, err := t.api.ReadConfig(ctx)
	if err != nil {
		return tunnel.State{}, err
	}
	t.last = cfg
	return tunnel.State{Target: "api", Version: cfg.Version, Rules: cfg.Rules}, nil
}

func (t *apiTarget) WriteRules(ctx context.Context, base tunnel.State, rules []tunnel.LiveRule) (tunnel.State, error) {
	v, err := t.api.WriteConfig(ctx, t.last, rules)
	if err != nil {
		return tunnel.State{}, err
	}
	return tunnel.State{Target: "api", Version: v}, nil
}
