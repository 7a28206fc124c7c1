package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/portcullis-dev/portcullis/config"
	portsync "github.com/portcullis-dev/portcullis/sync"
	"github.com/portcullis-dev/portcullis/tunnel"
)

// checkFlags rejects flag combinations that cannot work, before anything
// is loaded.
func (o *planCmdOptions) checkFlags() error {
	if _, err := portsync.NewRenderer(o.g.output, portsync.RenderOptions{}); err != nil {
		return fmt.Errorf("-o: %w", err)
	}
	if o.liveFile != "" && !o.offline {
		return errors.New("--live needs --offline: an online plan reads the live state from the target itself")
	}
	if o.offline && o.savePath != "" && o.liveFile == "" {
		return errors.New("--save with --offline needs --live FILE: apply would reject a plan saved against an empty state, because the live tunnel differs from it")
	}
	return nil
}

// liveState returns the state the plan diffs against: read from the
// target, or, with --offline, the --live snapshot or an empty state. An
// offline plan never opens the target, so it needs no token.
func (o *planCmdOptions) liveState(ctx context.Context, s *session) (tunnel.State, error) {
	if !o.offline {
		if err := s.openTarget(ctx); err != nil {
			return tunnel.State{}, err
		}
		return s.readLive(ctx)
	}
	if o.liveFile == "" {
		return emptyOfflineState(s.settings), nil
	}
	return readLiveSnapshot(o.liveFile, s.settings.Target)
}

// emptyOfflineState is the state of a tunnel with no rules. It manages no
// DNS even on the API target, because the zones of the account are
// unknown offline, and the plan carries a warning about it.
func emptyOfflineState(settings *config.Settings) tunnel.State {
	st := tunnel.State{Target: settings.Target}
	switch settings.Target {
	case config.TargetFile:
		st.TunnelID = settings.File.Tunnel
	case config.TargetAPI:
		st.AccountID = settings.Cloudflare.AccountID
	}
	return st
}

// readLiveSnapshot reads the state from a `status -o json` snapshot. Its
// rules carry no raw text, which a plan does not need.
func readLiveSnapshot(path, target string) (tunnel.State, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return tunnel.State{}, fmt.Errorf("read --live snapshot: %w", err)
	}
	var snapshot struct {
		FormatVersion *int          `json:"format_version"`
		State         *tunnel.State `json:"state"`
	}
	if err := json.Unmarshal(data, &snapshot); err != nil {
		return tunnel.State{}, fmt.Errorf("read --live snapshot %s: invalid JSON: %w: write it with portcullis status -o json", path, err)
	}
	switch {
	case snapshot.FormatVersion == nil || snapshot.State == nil:
		return tunnel.State{}, fmt.Errorf("read --live snapshot %s: format_version or state is missing: write it with portcullis status -o json", path)
	case *snapshot.FormatVersion != statusFormatVersion:
		return tunnel.State{}, fmt.Errorf("read --live snapshot %s: format_version %d, this portcullis reads %d: write it again with this portcullis", path, *snapshot.FormatVersion, statusFormatVersion)
	case snapshot.State.Target != target:
		return tunnel.State{}, fmt.Errorf("read --live snapshot %s: the snapshot is of the %q target, but the settings select %q: take the snapshot with the same settings", path, snapshot.State.Target, target)
	}
	return *snapshot.State, nil
}

// addOfflineWarning adds a warning about what an offline plan cannot know.
func addOfflineWarning(p *portsync.Plan, live tunnel.State, liveFile string) {
	if liveFile != "" {
		p.Warnings = append(p.Warnings, portsync.Warning{Message: "offline plan against the snapshot " + liveFile + ": the live tunnel may have changed since it was taken"})
		p.Sort()
		return
	}
	message := "offline plan against an empty state: every route shows as new"
	if live.Target == config.TargetAPI {
		message += ", and DNS records are not planned because the account's zones are unknown offline"
	}
	p.Warnings = append(p.Warnings, portsync.Warning{Message: message + "; pass --live with a snapshot from status -o json for a real diff"})
	p.Sort()
}
