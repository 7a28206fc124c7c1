package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/portcullis-dev/portcullis/config"
	portsync "github.com/portcullis-dev/portcullis/sync"
	"github.com/portcullis-dev/portcullis/tunnel"
)

// savePlan writes p with its saved section to opts.savePath, replacing the
// file atomically. p itself is left without the section, so the printed
// plan is the same with and without --save.
func savePlan(s *session, p *portsync.Plan, live tunnel.State, opts *planCmdOptions) error {
	in, err := s.input(live, opts.planOptions)
	if err != nil {
		return err
	}
	saved := *p
	saved.Saved = portsync.NewSavedPlan(p, live, savedSettingsOf(s.settings, in.Policy, in.Adopt))
	document, err := portsync.MarshalPlan(&saved)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(opts.savePath, document); err != nil {
		return fmt.Errorf("write --save plan: %w", err)
	}
	return nil
}

// savedSettingsOf returns the settings a saved plan records and is checked
// against. The file target's path is relative to the project directory, so
// a plan saved in one checkout applies in another.
func savedSettingsOf(settings *config.Settings, policy portsync.Policy, adopt []string) portsync.SavedSettings {
	ss := portsync.SavedSettings{
		Target:    settings.Target,
		OwnerID:   settings.OwnerID,
		Policy:    policy,
		Exclusive: settings.Exclusive,
		Adopt:     adopt,
	}
	switch settings.Target {
	case config.TargetFile:
		ss.FilePath = filepath.ToSlash(relativeTo(settings.ProjectDirectory, settings.File.Path))
	case config.TargetAPI:
		ss.AccountID = settings.Cloudflare.AccountID
	}
	return ss
}

// writeFileAtomic writes data to a temporary file beside path and renames
// it over path, so a reader never sees half a plan.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
