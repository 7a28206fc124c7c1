package config

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

// Project is a loaded compose project with what portcullis needs beyond
// compose-go's model.
type Project struct {
	// Project is compose-go's project: active services in Services, services
	// of inactive profiles in DisabledServices.
	*types.Project
	// Files are the absolute compose files loaded, in merge order. Included
	// files are not listed.
	Files []string
	// RawLabels maps service -> label key -> value before interpolation,
	// with labels and deploy.labels merged, for every service including
	// disabled ones, read from the YAML documents compose-go loaded (labels
	// from a label_file are not in it).
	RawLabels map[string]map[string]string
	// Warnings are compose-go's warnings during the load (such as a variable
	// that is not set), in the order they were logged, without repeats.
	Warnings []string

	sources *labelSources
}

// ErrNoComposeFile is wrapped by LoadProject's error when compose's file
// discovery finds no compose file.
var ErrNoComposeFile = errors.New("no compose file found")

// ComposeLoadError is a failure of compose-go to load the project.
type ComposeLoadError struct {
	// Files are the compose files given to compose-go.
	Files []string
	Err   error
}

func (e *ComposeLoadError) Error() string {
	return fmt.Sprintf("load compose files %s: %v", strings.Join(e.Files, ", "), e.Err)
}

func (e *ComposeLoadError) Unwrap() error { return e.Err }

// LoadProject loads the compose project that s selects through compose-go's
// cli package, as docker compose does. It merges the files in order (or the
// files of compose's own discovery, with the override file), reads .env or
// the env files, and applies profiles, include, extends and interpolation
// against the environment that Load was given.
func LoadProject(ctx context.Context, s *Settings) (*Project, error) {
	options, err := projectOptions(s)
	if err != nil {
		return nil, err
	}
	if len(options.ConfigPaths) == 0 {
		return nil, fmt.Errorf("%w in %s or its parent directories: create compose.yaml or pass --file", ErrNoComposeFile, s.ProjectDirectory)
	}
	files := append([]string(nil), options.ConfigPaths...)

	var loaded *types.Project
	warnings := captureComposeWarnings(func() {
		loaded, err = options.LoadProject(ctx)
	})
	if err != nil {
		return nil, &ComposeLoadError{Files: files, Err: err}
	}

	p := &Project{Project: loaded, Files: files, Warnings: warnings}
	// The label texts before interpolation come from the same YAML index as
	// the label positions: a second compose-go load cost a fifth of the
	// run's time on large projects.
	p.sources = indexLabelSources(p.WorkingDir, files)
	p.RawLabels = p.sources.rawLabels()
	return p, nil
}

// projectOptions builds compose-go's options from the settings, in the order
// docker compose applies them, so that .env may set COMPOSE_FILE,
// COMPOSE_PROFILES and COMPOSE_PROJECT_NAME below the real environment.
func projectOptions(s *Settings) (*cli.ProjectOptions, error) {
	fns := []cli.ProjectOptionsFn{
		cli.WithEnv(s.environ),
	}

	// With -f files and no --project-directory, compose takes the first
	// file's directory as the project directory, so leave it unset then.
	if s.projectDirectoryExplicit || len(s.Compose.Files) == 0 {
		fns = append(fns, cli.WithWorkingDirectory(s.ProjectDirectory))
	}

	envFiles, err := s.composeEnvFiles()
	if err != nil {
		return nil, err
	}
	if len(envFiles) > 0 {
		fns = append(fns, cli.WithEnvFiles(envFiles...))
	}
	fns = append(fns, cli.WithDotEnv, cli.WithConfigFileEnv, cli.WithDefaultConfigPath)

	if len(s.Compose.Profiles) > 0 {
		fns = append(fns, cli.WithProfiles(s.Compose.Profiles))
	} else {
		fns = append(fns, cli.WithDefaultProfiles())
	}
	if s.Compose.ProjectName != "" {
		fns = append(fns, cli.WithName(s.Compose.ProjectName))
	}
	fns = append(fns, cli.WithResolvedPaths(true))

	options, err := cli.NewProjectOptions(s.Compose.Files, fns...)
	if err != nil {
		return nil, fmt.Errorf("prepare compose project options: %w", err)
	}
	return options, nil
}

// composeEnvFiles returns the env files: the configured ones, else .env in
// the project directory when it exists and COMPOSE_DISABLE_ENV_FILE is not
// true. compose-go would look this variable up in the process environment,
// so it is decided here from the environment Load was given.
func (s *Settings) composeEnvFiles() ([]string, error) {
	if len(s.Compose.EnvFiles) > 0 {
		return s.Compose.EnvFiles, nil
	}
	if v, ok := lookupEnviron(s.environ, "COMPOSE_DISABLE_ENV_FILE"); ok && v != "" {
		disabled, err := strconv.ParseBool(v)
		if err != nil {
			return nil, fmt.Errorf("invalid COMPOSE_DISABLE_ENV_FILE %q: use true or false", v)
		}
		if disabled {
			return nil, nil
		}
	}

	dir := s.ProjectDirectory
	if !s.projectDirectoryExplicit && len(s.Compose.Files) > 0 {
		dir = filepath.Dir(s.Compose.Files[0])
	}
	dotEnv := filepath.Join(dir, ".env")
	if info, err := os.Stat(dotEnv); err == nil && info.Mode().IsRegular() {
		return []string{dotEnv}, nil
	}
	return nil, nil
}
