package config

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

const composeTestdata = "../testdata/compose"

// testFlags returns a flag set with the settings flags the command layer
// defines, parsed from args.
func testFlags(t *testing.T, args ...string) *pflag.FlagSet {
	t.Helper()
	flags := pflag.NewFlagSet("test", pflag.ContinueOnError)
	flags.StringSliceP("file", "f", nil, "")
	flags.String("project-name", "", "")
	flags.StringSlice("profile", nil, "")
	flags.StringSlice("env-file", nil, "")
	flags.String("target", "", "")
	flags.String("owner-id", "", "")
	flags.String("policy", "", "")
	flags.String("exclusive", "", "")
	flags.Int("max-deletes", 0, "")
	flags.String("label-prefix", "", "")
	if err := flags.Parse(args); err != nil {
		t.Fatalf("parse flags %v: %v", args, err)
	}
	return flags
}

// loadFixture loads testdata/compose/<name> with the given flags and
// environment.
func loadFixture(t *testing.T, name string, environ []string, args ...string) (*Project, error) {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join(composeTestdata, name))
	if err != nil {
		t.Fatal(err)
	}
	// -f paths are relative to the working directory, as in docker compose,
	// so the fixture's file names are made absolute here.
	args = append([]string(nil), args...)
	for i := 1; i < len(args); i++ {
		if (args[i-1] == "-f" || args[i-1] == "--file") && !filepath.IsAbs(args[i]) {
			args[i] = filepath.Join(dir, args[i])
		}
	}
	s, err := Load(LoadOptions{ProjectDirectory: dir, Flags: testFlags(t, args...), Environ: environ})
	if err != nil {
		t.Fatalf("load settings for %s: %v", name, err)
	}
	return LoadProject(context.Background(), s)
}

func serviceLabel(t *testing.T, p *Project, service, key string) string {
	t.Helper()
	svc, ok := p.Services[service]
	if !ok {
		svc, ok = p.DisabledServices[service]
	}
	if !ok {
		t.Fatalf("service %q not loaded; active: %v", service, p.ServiceNames())
	}
	if v, ok := svc.Labels[key]; ok {
		return v
	}
	if svc.Deploy != nil {
		return svc.Deploy.Labels[key]
	}
	return ""
}

func TestLoadProjectLabels(t *testing.T) {
	abs := func(name string) string {
		p, err := filepath.Abs(filepath.Join(composeTestdata, name))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name    string
		fixture string
		environ []string
		args    []string
		service string
		key     string
		want    string
		files   []string
	}{
		{
			name: "later file wins", fixture: "merge",
			args:    []string{"-f", "compose.yaml", "-f", "override.yaml"},
			service: "web", key: "portcullis.hostname", want: "www.example.com",
			files: []string{abs("merge/compose.yaml"), abs("merge/override.yaml")},
		},
		{
			name: "first file keeps other labels", fixture: "merge",
			args:    []string{"-f", "compose.yaml", "-f", "override.yaml"},
			service: "web", key: "portcullis.port", want: "80",
		},
		{
			name: "order of files matters", fixture: "merge",
			args:    []string{"-f", "override.yaml", "-f", "compose.yaml"},
			service: "web", key: "portcullis.hostname", want: "web.example.com",
		},
		{
			name: "discovery with override", fixture: "discovery",
			service: "app", key: "portcullis.hostname", want: "dev.example.com",
			files: []string{abs("discovery/compose.yaml"), abs("discovery/compose.override.yaml")},
		},
		{
			name: "COMPOSE_FILE selects files", fixture: "discovery",
			environ: []string{"COMPOSE_FILE=compose.yaml"},
			service: "app", key: "portcullis.hostname", want: "app.example.com",
			files: []string{abs("discovery/compose.yaml")},
		},
		{
			name: "dot env", fixture: "dotenv",
			service: "app", key: "portcullis.hostname", want: "dotenv.example.com",
		},
		{
			name: "env file flag replaces dot env", fixture: "dotenv",
			args:    []string{"--env-file", "alt.env"},
			service: "app", key: "portcullis.hostname", want: "alt.example.com",
		},
		{
			name: "environment wins over dot env", fixture: "dotenv",
			environ: []string{"APP_HOST=env.example.com"},
			service: "app", key: "portcullis.hostname", want: "env.example.com",
		},
		{
			name: "include", fixture: "include",
			service: "included", key: "portcullis.hostname", want: "included.example.com",
		},
		{
			name: "extends in same file", fixture: "extends",
			service: "child", key: "portcullis.scheme", want: "http",
		},
		{
			name: "extends from other file", fixture: "extends",
			service: "remote", key: "portcullis.hostname", want: "common.example.com",
		},
		{
			name: "deploy labels", fixture: "deploy-labels",
			service: "app", key: "portcullis.hostname", want: "swarm.example.com",
		},
		{
			name: "interpolation", fixture: "raw-labels",
			environ: []string{"CLOUDFLARE_API_TOKEN=made-up-token-0000"},
			service: "app", key: "portcullis.hostname", want: "made-up-token-0000.example.com",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := loadFixture(t, tt.fixture, tt.environ, tt.args...)
			if err != nil {
				t.Fatalf("LoadProject: %v", err)
			}
			if got := serviceLabel(t, p, tt.service, tt.key); got != tt.want {
				t.Errorf("label %s of %s = %q, want %q", tt.key, tt.service, got, tt.want)
			}
			if tt.files != nil && !slices.Equal(p.Files, tt.files) {
				t.Errorf("Files = %v, want %v", p.Files, tt.files)
			}
		})
	}
}

func TestLoadProjectProfiles(t *testing.T) {
	tests := []struct {
		name         string
		environ      []string
		args         []string
		wantActive   []string
		wantDisabled []string
	}{
		{name: "no profile", wantActive: []string{"app"}, wantDisabled: []string{"debug"}},
		{name: "profile flag", args: []string{"--profile", "debug"}, wantActive: []string{"app", "debug"}},
		{name: "COMPOSE_PROFILES", environ: []string{"COMPOSE_PROFILES=debug"}, wantActive: []string{"app", "debug"}},
		{name: "other profile", args: []string{"--profile", "other"}, wantActive: []string{"app"}, wantDisabled: []string{"debug"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := loadFixture(t, "profiles", tt.environ, tt.args...)
			if err != nil {
				t.Fatalf("LoadProject: %v", err)
			}
			active := p.ServiceNames()
			slices.Sort(active)
			if !slices.Equal(active, tt.wantActive) {
				t.Errorf("active services = %v, want %v", active, tt.wantActive)
			}
			var disabled []string
			for name := range p.DisabledServices {
				disabled = append(disabled, name)
			}
			slices.Sort(disabled)
			if !slices.Equal(disabled, tt.wantDisabled) {
				t.Errorf("disabled services = %v, want %v", disabled, tt.wantDisabled)
			}
			if got := p.RawLabels["debug"]["portcullis.hostname"]; got != "debug.example.com" {
				t.Errorf("raw label of debug = %q, want it present in every case", got)
			}
		})
	}
}

func TestLoadProjectWarnings(t *testing.T) {
	p, err := loadFixture(t, "warnings", nil)
	if err != nil {
		t.Fatalf("LoadProject: %v", err)
	}
	found := false
	for _, w := range p.Warnings {
		if strings.Contains(w, "PORTCULLIS_TEST_UNSET_HOST") {
			found = true
		}
	}
	if !found {
		t.Errorf("Warnings = %q, want the unset variable PORTCULLIS_TEST_UNSET_HOST named", p.Warnings)
	}
	if got := serviceLabel(t, p, "app", "portcullis.hostname"); got != "app.example.com" {
		t.Errorf("hostname = %q, want the blank default", got)
	}
}

func TestLoadProjectErrors(t *testing.T) {
	tests := []struct {
		name     string
		fixture  string
		args     []string
		wantText []string
	}{
		{name: "yaml syntax", fixture: "bad-yaml", wantText: []string{"compose.yaml"}},
		{name: "required variable", fixture: "required-var", wantText: []string{"compose.yaml", "set APP_HOST to the public hostname"}},
		{name: "schema", fixture: "schema-error", wantText: []string{"compose.yaml", "services.app.expose"}},
		{name: "missing file", fixture: "merge", args: []string{"-f", "compose.yaml", "-f", "missing.yaml"}, wantText: []string{"missing.yaml"}},
		{name: "missing env file", fixture: "dotenv", args: []string{"--env-file", "missing.env"}, wantText: []string{"missing.env"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadFixture(t, tt.fixture, nil, tt.args...)
			if err == nil {
				t.Fatal("LoadProject succeeded, want an error")
			}
			for _, text := range tt.wantText {
				if !strings.Contains(err.Error(), text) {
					t.Errorf("error %q does not contain %q", err, text)
				}
			}
		})
	}
}

func TestLoadProjectNoComposeFile(t *testing.T) {
	dir := t.TempDir()
	s, err := Load(LoadOptions{ProjectDirectory: dir})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	_, err = LoadProject(context.Background(), s)
	if !errors.Is(err, ErrNoComposeFile) {
		t.Errorf("error = %v, want ErrNoComposeFile", err)
	}
}

func TestLoadProjectComposeLoadError(t *testing.T) {
	_, err := loadFixture(t, "bad-yaml", nil)
	var loadErr *ComposeLoadError
	if !errors.As(err, &loadErr) {
		t.Fatalf("error = %v, want a *ComposeLoadError", err)
	}
	if len(loadErr.Files) != 1 || filepath.Base(loadErr.Files[0]) != "compose.yaml" {
		t.Errorf("Files = %v, want the one compose.yaml", loadErr.Files)
	}
}

func TestLoadProjectRawLabels(t *testing.T) {
	p, err := loadFixture(t, "raw-labels", []string{"CLOUDFLARE_API_TOKEN=made-up-token-0000"})
	if err != nil {
		t.Fatalf("LoadProject: %v", err)
	}
	tests := []struct{ key, want string }{
		{"portcullis.hostname", "${CLOUDFLARE_API_TOKEN}.example.com"},
		{"portcullis.port", "${APP_PORT:-8080}"},
	}
	for _, tt := range tests {
		if got := p.RawLabels["app"][tt.key]; got != tt.want {
			t.Errorf("RawLabels[app][%s] = %q, want %q", tt.key, got, tt.want)
		}
	}
	if got := serviceLabel(t, p, "app", "portcullis.port"); got != "8080" {
		t.Errorf("interpolated port = %q, want 8080", got)
	}
}

func TestLoadProjectRawDeployLabels(t *testing.T) {
	p, err := loadFixture(t, "deploy-labels", nil)
	if err != nil {
		t.Fatalf("LoadProject: %v", err)
	}
	want := map[string]string{"portcullis.port": "80", "portcullis.hostname": "swarm.example.com"}
	for k, v := range want {
		if got := p.RawLabels["app"][k]; got != v {
			t.Errorf("RawLabels[app][%s] = %q, want %q", k, got, v)
		}
	}
}

func TestProjectSources(t *testing.T) {
	abs := func(name string) string {
		p, err := filepath.Abs(filepath.Join(composeTestdata, name))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name     string
		fixture  string
		args     []string
		service  string
		key      string
		wantFile string
		wantLine int
	}{
		{name: "main file map form", fixture: "merge", args: []string{"-f", "compose.yaml", "-f", "override.yaml"},
			service: "web", key: "portcullis.port", wantFile: "merge/compose.yaml", wantLine: 8},
		{name: "override list form", fixture: "merge", args: []string{"-f", "compose.yaml", "-f", "override.yaml"},
			service: "web", key: "portcullis.hostname", wantFile: "merge/override.yaml", wantLine: 4},
		{name: "override path", fixture: "merge", args: []string{"-f", "compose.yaml", "-f", "override.yaml"},
			service: "web", key: "portcullis.path", wantFile: "merge/override.yaml", wantLine: 5},
		{name: "discovered override", fixture: "discovery",
			service: "app", key: "portcullis.hostname", wantFile: "discovery/compose.override.yaml", wantLine: 4},
		{name: "included file", fixture: "include",
			service: "included", key: "portcullis.hostname", wantFile: "include/sub/compose.yaml", wantLine: 6},
		{name: "including file", fixture: "include",
			service: "app", key: "portcullis.hostname", wantFile: "include/compose.yaml", wantLine: 7},
		{name: "deploy labels", fixture: "deploy-labels",
			service: "app", key: "portcullis.hostname", wantFile: "deploy-labels/compose.yaml", wantLine: 8},
		{name: "extends same file", fixture: "extends",
			service: "child", key: "portcullis.scheme", wantFile: "extends/compose.yaml", wantLine: 5},
		{name: "extends other file", fixture: "extends",
			service: "remote", key: "portcullis.hostname", wantFile: "extends/common.yaml", wantLine: 5},
		{name: "unknown label", fixture: "discovery",
			service: "app", key: "portcullis.zone", wantFile: "discovery/compose.override.yaml", wantLine: 0},
		{name: "unknown service", fixture: "discovery",
			service: "nope", key: "portcullis.hostname", wantFile: "", wantLine: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := loadFixture(t, tt.fixture, nil, tt.args...)
			if err != nil {
				t.Fatalf("LoadProject: %v", err)
			}
			file, line := p.Sources(tt.service, tt.key)
			wantFile := ""
			if tt.wantFile != "" {
				wantFile = abs(tt.wantFile)
			}
			if file != wantFile {
				t.Errorf("file = %q, want %q", file, wantFile)
			}
			if line != tt.wantLine {
				t.Errorf("line = %d, want %d", line, tt.wantLine)
			}
		})
	}
}

func TestLoadProjectUsesGivenEnvironmentOnly(t *testing.T) {
	t.Setenv("APP_HOST", "process.example.com")
	p, err := loadFixture(t, "required-var", []string{"APP_HOST=given.example.com"})
	if err != nil {
		t.Fatalf("LoadProject: %v", err)
	}
	if got := serviceLabel(t, p, "app", "portcullis.hostname"); got != "given.example.com" {
		t.Errorf("hostname = %q, want the value from Environ", got)
	}

	_, err = loadFixture(t, "required-var", nil)
	if err == nil {
		t.Error("LoadProject with an empty Environ succeeded, so it read the process environment")
	}
}

// copyDir copies the regular files of src into dst, recursively.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatalf("copy %s: %v", src, err)
	}
}

func TestLoadProjectDirectoryFromFirstFile(t *testing.T) {
	// Without --project-directory, compose takes the first file's directory
	// as the project directory, and so the project name.
	s, err := Load(LoadOptions{Flags: testFlags(t, "-f", filepath.Join(composeTestdata, "merge", "compose.yaml"))})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	p, err := LoadProject(context.Background(), s)
	if err != nil {
		t.Fatalf("LoadProject: %v", err)
	}
	if p.Name != "merge" {
		t.Errorf("project name = %q, want merge", p.Name)
	}
	if want, _ := filepath.Abs(filepath.Join(composeTestdata, "merge")); p.WorkingDir != want {
		t.Errorf("WorkingDir = %q, want %q", p.WorkingDir, want)
	}
}

func TestLoadProjectRawLabelsFollowExtends(t *testing.T) {
	p, err := loadFixture(t, "extends", nil)
	if err != nil {
		t.Fatalf("LoadProject: %v", err)
	}
	tests := []struct{ service, key, want string }{
		{"child", "portcullis.scheme", "http"},
		{"child", "portcullis.hostname", "child.example.com"},
		{"remote", "portcullis.hostname", "common.example.com"},
	}
	for _, tt := range tests {
		if got := p.RawLabels[tt.service][tt.key]; got != tt.want {
			t.Errorf("RawLabels[%s][%s] = %q, want %q", tt.service, tt.key, got, tt.want)
		}
	}
}
