package config

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/go-multierror"
)

const settingsTestdata = "../testdata/config"

var update = flag.Bool("update", false, "rewrite golden files")

// writeSettings creates a project directory containing portcullis.yaml
// with content ("" for no file).
func writeSettings(t *testing.T, content string) string {
	t.Helper()
	dir := t.TempDir()
	if content != "" {
		if err := os.WriteFile(filepath.Join(dir, DefaultConfigFileName), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoadPrecedence(t *testing.T) {
	const file = "target: file\npolicy: upsert-only\nmax_deletes: 3\ncompose:\n  project_name: fromfile\ncloudflare:\n  account_id: file-account\n"
	tests := []struct {
		name    string
		environ []string
		args    []string
		get     func(*Settings) string
		want    string
	}{
		{name: "file over default", get: func(s *Settings) string { return s.Target }, want: "file"},
		{name: "env over file", environ: []string{"PORTCULLIS_TARGET=api"},
			get: func(s *Settings) string { return s.Target }, want: "api"},
		{name: "flag over env", environ: []string{"PORTCULLIS_TARGET=api"}, args: []string{"--target", "file"},
			get: func(s *Settings) string { return s.Target }, want: "file"},
		{name: "unchanged flag ignored", environ: []string{"PORTCULLIS_POLICY=create-only"},
			get: func(s *Settings) string { return s.Policy }, want: "create-only"},
		{name: "int from file", get: func(s *Settings) string { return fmt.Sprint(s.MaxDeletes) }, want: "3"},
		{name: "int from env", environ: []string{"PORTCULLIS_MAX_DELETES=7"},
			get: func(s *Settings) string { return fmt.Sprint(s.MaxDeletes) }, want: "7"},
		{name: "int from flag", environ: []string{"PORTCULLIS_MAX_DELETES=7"}, args: []string{"--max-deletes", "0"},
			get: func(s *Settings) string { return fmt.Sprint(s.MaxDeletes) }, want: "0"},
		{name: "CLOUDFLARE_ACCOUNT_ID over file", environ: []string{"CLOUDFLARE_ACCOUNT_ID=env-account"},
			get: func(s *Settings) string { return s.Cloudflare.AccountID }, want: "env-account"},
		{name: "PORTCULLIS_ over CLOUDFLARE_", environ: []string{"PORTCULLIS_CLOUDFLARE_ACCOUNT_ID=ours", "CLOUDFLARE_ACCOUNT_ID=theirs"},
			get: func(s *Settings) string { return s.Cloudflare.AccountID }, want: "ours"},
		{name: "PORTCULLIS_ over CLOUDFLARE_ token", environ: []string{"CLOUDFLARE_API_TOKEN=made-up-b", "PORTCULLIS_CLOUDFLARE_API_TOKEN=made-up-a"},
			get: func(s *Settings) string { return s.Cloudflare.APIToken }, want: "made-up-a"},
		{name: "COMPOSE_PROJECT_NAME over file", environ: []string{"COMPOSE_PROJECT_NAME=fromcompose"},
			get: func(s *Settings) string { return s.Compose.ProjectName }, want: "fromcompose"},
		{name: "PORTCULLIS_ over COMPOSE_", environ: []string{"COMPOSE_PROJECT_NAME=fromcompose", "PORTCULLIS_COMPOSE_PROJECT_NAME=fromours"},
			get: func(s *Settings) string { return s.Compose.ProjectName }, want: "fromours"},
		{name: "flag over PORTCULLIS_", environ: []string{"PORTCULLIS_COMPOSE_PROJECT_NAME=fromours"}, args: []string{"--project-name", "fromflag"},
			get: func(s *Settings) string { return s.Compose.ProjectName }, want: "fromflag"},
		{name: "PORTCULLIS_ over COMPOSE_PROFILES", environ: []string{"COMPOSE_PROFILES=a,b", "PORTCULLIS_COMPOSE_PROFILES=c"},
			get: func(s *Settings) string { return strings.Join(s.Compose.Profiles, "|") }, want: "c"},
		{name: "empty variable is unset", environ: []string{"PORTCULLIS_TARGET="},
			get: func(s *Settings) string { return s.Target }, want: "file"},
		{name: "default api base url", get: func(s *Settings) string { return s.Cloudflare.APIBaseURL }, want: DefaultAPIBaseURL},
		{name: "default label prefix", get: func(s *Settings) string { return s.Labels.Prefix }, want: "portcullis"},
		{name: "label prefix flag", args: []string{"--label-prefix", "tunnel"},
			get: func(s *Settings) string { return s.Labels.Prefix }, want: "tunnel"},
		{name: "owner id env", environ: []string{"PORTCULLIS_OWNER_ID=stack-a"},
			get: func(s *Settings) string { return s.OwnerID }, want: "stack-a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeSettings(t, file)
			s, err := Load(LoadOptions{ProjectDirectory: dir, Flags: testFlags(t, tt.args...), Environ: tt.environ})
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if got := tt.get(s); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLoadLists(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		environ []string
		args    []string
		get     func(*Settings) []string
		want    []string
	}{
		{name: "profiles from env", environ: []string{"PORTCULLIS_COMPOSE_PROFILES=a, b,,c"},
			get: func(s *Settings) []string { return s.Compose.Profiles }, want: []string{"a", "b", "c"}},
		{name: "COMPOSE_PROFILES", environ: []string{"COMPOSE_PROFILES=x,y"},
			get: func(s *Settings) []string { return s.Compose.Profiles }, want: []string{"x", "y"}},
		{name: "files from env", environ: []string{"PORTCULLIS_COMPOSE_FILES=a.yaml,sub/b.yaml"},
			get: func(s *Settings) []string { return rel(t, s, s.Compose.Files) }, want: []string{"a.yaml", "sub/b.yaml"}},
		{name: "COMPOSE_FILE with default separator", environ: []string{"COMPOSE_FILE=a.yaml:b.yaml"},
			get: func(s *Settings) []string { return rel(t, s, s.Compose.Files) }, want: []string{"a.yaml", "b.yaml"}},
		{name: "COMPOSE_FILE with COMPOSE_PATH_SEPARATOR", environ: []string{"COMPOSE_FILE=a.yaml;b.yaml", "COMPOSE_PATH_SEPARATOR=;"},
			get: func(s *Settings) []string { return rel(t, s, s.Compose.Files) }, want: []string{"a.yaml", "b.yaml"}},
		{name: "PORTCULLIS_ over COMPOSE_FILE", environ: []string{"COMPOSE_FILE=a.yaml", "PORTCULLIS_COMPOSE_FILES=c.yaml"},
			get: func(s *Settings) []string { return rel(t, s, s.Compose.Files) }, want: []string{"c.yaml"}},
		{name: "files flag repeated", environ: []string{"PORTCULLIS_COMPOSE_FILES=c.yaml"}, args: []string{"-f", "x.yaml", "-f", "y.yaml"},
			get: func(s *Settings) []string { return rel(t, s, s.Compose.Files) }, want: []string{"x.yaml", "y.yaml"}},
		{name: "files from settings file", file: "compose:\n  files: [one.yaml, two.yaml]\n",
			get: func(s *Settings) []string { return rel(t, s, s.Compose.Files) }, want: []string{"one.yaml", "two.yaml"}},
		{name: "env files from file as string", file: "compose:\n  env_files: a.env,b.env\n",
			get: func(s *Settings) []string { return rel(t, s, s.Compose.EnvFiles) }, want: []string{"a.env", "b.env"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeSettings(t, tt.file)
			// -f paths are relative to the working directory.
			t.Chdir(dir)
			s, err := Load(LoadOptions{ProjectDirectory: dir, Flags: testFlags(t, tt.args...), Environ: tt.environ})
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if got := tt.get(s); !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// rel returns paths relative to the project directory, failing the test
// for a path outside it.
func rel(t *testing.T, s *Settings, paths []string) []string {
	t.Helper()
	var out []string
	for _, p := range paths {
		r, err := filepath.Rel(s.ProjectDirectory, p)
		if err != nil || strings.HasPrefix(r, "..") || !filepath.IsAbs(p) {
			t.Fatalf("path %q is not an absolute path inside %s", p, s.ProjectDirectory)
		}
		out = append(out, filepath.ToSlash(r))
	}
	return out
}

func TestLoadPaths(t *testing.T) {
	const file = `file:
  path: out/config.yml
  credentials_file: /etc/cloudflared/made-up.json
cloudflare:
  api_token_file: secrets/token
audit:
  log_dir: logs
`
	dir := writeSettings(t, file)
	s, err := Load(LoadOptions{ProjectDirectory: dir})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	tests := []struct{ name, got, want string }{
		{"file.path", s.File.Path, filepath.Join(dir, "out/config.yml")},
		{"file.credentials_file kept as written", s.File.CredentialsFile, "/etc/cloudflared/made-up.json"},
		{"cloudflare.api_token_file", s.Cloudflare.APITokenFile, filepath.Join(dir, "secrets/token")},
		{"audit.log_dir", s.Audit.LogDir, filepath.Join(dir, "logs")},
		{"config file", s.ConfigFile, filepath.Join(dir, DefaultConfigFileName)},
		{"project directory", s.ProjectDirectory, dir},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}

func TestLoadDefaults(t *testing.T) {
	dir := writeSettings(t, "")
	tests := []struct {
		name    string
		environ []string
		get     func(*Settings) string
		want    string
	}{
		{name: "file path", get: func(s *Settings) string { return s.File.Path }, want: filepath.Join(dir, "cloudflared/config.yml")},
		{name: "log dir from XDG_STATE_HOME", environ: []string{"XDG_STATE_HOME=/made/up/state", "HOME=/made/up/home"},
			get: func(s *Settings) string { return s.Audit.LogDir }, want: "/made/up/state/portcullis"},
		{name: "log dir from HOME", environ: []string{"HOME=/made/up/home"},
			get: func(s *Settings) string { return s.Audit.LogDir }, want: "/made/up/home/.local/state/portcullis"},
		{name: "log dir unknown", get: func(s *Settings) string { return s.Audit.LogDir }, want: ""},
		{name: "no config file", get: func(s *Settings) string { return s.ConfigFile }, want: ""},
		{name: "target", get: func(s *Settings) string { return s.Target }, want: "api"},
		{name: "policy", get: func(s *Settings) string { return s.Policy }, want: "sync"},
		{name: "max deletes", get: func(s *Settings) string { return fmt.Sprint(s.MaxDeletes) }, want: "10"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Load(LoadOptions{ProjectDirectory: dir, Environ: tt.environ})
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if got := tt.get(s); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLoadConfigFlag(t *testing.T) {
	dir := writeSettings(t, "target: api\n")
	other := filepath.Join(t.TempDir(), "other.yaml")
	if err := os.WriteFile(other, []byte("target: file\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	s, err := Load(LoadOptions{ProjectDirectory: dir, ConfigFile: other})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if s.Target != "file" || s.ConfigFile != other {
		t.Errorf("Target = %q from %q, want file from %q", s.Target, s.ConfigFile, other)
	}

	_, err = Load(LoadOptions{ProjectDirectory: dir, ConfigFile: filepath.Join(dir, "missing.yaml")})
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing --config: error = %v, want os.ErrNotExist", err)
	}
}

func TestLoadFileErrors(t *testing.T) {
	tests := []struct {
		name           string
		file           string
		wantKey        string
		wantSuggestion string
		wantLine       int
		wantUnknown    bool
	}{
		{name: "nested typo", file: "cloudflare:\n  acount_id: x\n", wantKey: "cloudflare.acount_id",
			wantSuggestion: "cloudflare.account_id", wantLine: 2, wantUnknown: true},
		{name: "top-level typo", file: "polciy: sync\n", wantKey: "polciy", wantSuggestion: "policy", wantLine: 1, wantUnknown: true},
		{name: "section typo", file: "cloudflar:\n  account_id: x\n", wantKey: "cloudflar", wantSuggestion: "cloudflare", wantLine: 1, wantUnknown: true},
		{name: "upper case", file: "Target: api\n", wantKey: "Target", wantSuggestion: "target", wantLine: 1, wantUnknown: true},
		{name: "token in file", file: "# made up\ncloudflare:\n  api_token: made-up-token\n", wantKey: "cloudflare.api_token", wantLine: 3},
		{name: "section not a mapping", file: "compose: compose.yaml\n", wantKey: "compose", wantLine: 1},
		{name: "list for a string", file: "target: [api]\n", wantKey: "target", wantLine: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeSettings(t, tt.file)
			_, err := Load(LoadOptions{ProjectDirectory: dir})
			var fileErr *SettingsFileError
			if !errors.As(err, &fileErr) {
				t.Fatalf("error = %v, want a *SettingsFileError", err)
			}
			if fileErr.Key != tt.wantKey {
				t.Errorf("Key = %q, want %q", fileErr.Key, tt.wantKey)
			}
			if fileErr.Suggestion != tt.wantSuggestion {
				t.Errorf("Suggestion = %q, want %q", fileErr.Suggestion, tt.wantSuggestion)
			}
			if fileErr.Line != tt.wantLine {
				t.Errorf("Line = %d, want %d", fileErr.Line, tt.wantLine)
			}
			if fileErr.File != filepath.Join(dir, DefaultConfigFileName) {
				t.Errorf("File = %q, want the settings file", fileErr.File)
			}
			if got := errors.Is(err, ErrUnknownSettingsKey); got != tt.wantUnknown {
				t.Errorf("errors.Is(err, ErrUnknownSettingsKey) = %v, want %v", got, tt.wantUnknown)
			}
			if strings.Contains(err.Error(), "made-up-token") {
				t.Errorf("error %q shows the token", err)
			}
		})
	}
}

func TestLoadValidationReportsAll(t *testing.T) {
	dir := writeSettings(t, "target: cloud\npolicy: everything\nmax_deletes: -1\nlabels:\n  prefix: Bad\nowner_id: -x\nexclusive: my-tunnel\nunknown: 1\n")
	_, err := Load(LoadOptions{ProjectDirectory: dir, Environ: []string{"PORTCULLIS_MAX_DELETES=-2"}})
	var merr *multierror.Error
	if !errors.As(err, &merr) {
		t.Fatalf("error = %v, want a multierror", err)
	}
	wants := []string{
		`key "unknown"`,
		`invalid target "cloud" (from settings file`,
		`invalid policy "everything"`,
		`invalid max_deletes "-2" (from environment variable PORTCULLIS_MAX_DELETES)`,
		`invalid labels.prefix "Bad"`,
		`invalid owner_id "-x"`,
		`invalid exclusive "my-tunnel"`,
	}
	if len(merr.Errors) != len(wants) {
		t.Errorf("got %d errors, want %d: %v", len(merr.Errors), len(wants), err)
	}
	for _, w := range wants {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error does not contain %q:\n%v", w, err)
		}
	}
}

func TestLoadInvalidMaxDeletes(t *testing.T) {
	_, err := Load(LoadOptions{ProjectDirectory: writeSettings(t, ""), Environ: []string{"PORTCULLIS_MAX_DELETES=ten"}})
	if err == nil || !strings.Contains(err.Error(), "PORTCULLIS_MAX_DELETES") {
		t.Errorf("error = %v, want one naming PORTCULLIS_MAX_DELETES", err)
	}
}

func TestSettingsToken(t *testing.T) {
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte("  made-up-file-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	emptyFile := filepath.Join(dir, "empty")
	if err := os.WriteFile(emptyFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name      string
		environ   []string
		tokenFile string
		want      string
		wantErr   []string
		wantNoTok bool
	}{
		{name: "from CLOUDFLARE_API_TOKEN", environ: []string{"CLOUDFLARE_API_TOKEN=made-up-env-token"}, want: "made-up-env-token"},
		{name: "from file trimmed", tokenFile: tokenFile, want: "made-up-file-token"},
		{name: "both", environ: []string{"CLOUDFLARE_API_TOKEN=made-up-env-token"}, tokenFile: tokenFile,
			wantErr: []string{"cloudflare.api_token_file", "keep only one"}},
		{name: "neither", wantErr: []string{"CLOUDFLARE_API_TOKEN", "cloudflare.api_token_file"}, wantNoTok: true},
		{name: "empty file", tokenFile: emptyFile, wantErr: []string{"empty"}, wantNoTok: true},
		{name: "missing file", tokenFile: filepath.Join(dir, "missing"), wantErr: []string{"missing"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			environ := tt.environ
			if tt.tokenFile != "" {
				environ = append(environ, "PORTCULLIS_CLOUDFLARE_API_TOKEN_FILE="+tt.tokenFile)
			}
			s, err := Load(LoadOptions{ProjectDirectory: dir, Environ: environ})
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			got, err := s.Token()
			if tt.wantErr == nil {
				if err != nil || got != tt.want {
					t.Errorf("Token() = %q, %v; want %q", got, err, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("Token() succeeded, want an error")
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "made-up") {
				t.Errorf("error %q shows the token", err)
			}
			if got := errors.Is(err, ErrNoToken); got != tt.wantNoTok {
				t.Errorf("errors.Is(err, ErrNoToken) = %v, want %v", got, tt.wantNoTok)
			}
		})
	}
}

func TestSettingsPrintingRedactsToken(t *testing.T) {
	const token = "made-up-secret-token-1234"
	s, err := Load(LoadOptions{ProjectDirectory: t.TempDir(), Environ: []string{"CLOUDFLARE_API_TOKEN=" + token, "HOME=/made/up"}})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if s.Cloudflare.APIToken != token {
		t.Fatalf("APIToken not loaded from the environment")
	}
	outputs := map[string]string{
		"Sprint pointer":     fmt.Sprint(s),
		"Sprint value":       fmt.Sprint(*s),
		"%+v":                fmt.Sprintf("%+v", s),
		"%#v":                fmt.Sprintf("%#v", s),
		"%v cloudflare":      fmt.Sprintf("%v", s.Cloudflare),
		"%#v cloudflare":     fmt.Sprintf("%#v", s.Cloudflare),
		"%+v cloudflare ptr": fmt.Sprintf("%+v", &s.Cloudflare),
	}
	for name, out := range outputs {
		if strings.Contains(out, token) {
			t.Errorf("%s shows the token: %s", name, out)
		}
		if !strings.Contains(out, redacted) {
			t.Errorf("%s does not mark the token as redacted: %s", name, out)
		}
	}
}

func TestResolveOwnerID(t *testing.T) {
	tests := []struct {
		name    string
		ownerID string
		project string
		want    string
		wantErr bool
	}{
		{name: "from project name", project: "pa-ecosystem", want: "pa-ecosystem"},
		{name: "lower-cased", project: "PA_Stack", want: "pa_stack"},
		{name: "set wins", ownerID: "mine", project: "other", want: "mine"},
		{name: "invalid project name", project: "-bad", wantErr: true},
		{name: "empty", project: "", wantErr: true},
		{name: "too long", project: strings.Repeat("a", 64), wantErr: true},
		{name: "longest", project: strings.Repeat("a", 63), want: strings.Repeat("a", 63)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Settings{OwnerID: tt.ownerID}
			err := s.ResolveOwnerID(tt.project)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ResolveOwnerID error = %v, wantErr %v", err, tt.wantErr)
			}
			if !tt.wantErr && s.OwnerID != tt.want {
				t.Errorf("OwnerID = %q, want %q", s.OwnerID, tt.want)
			}
		})
	}
}

func TestLoadSettingsFixtures(t *testing.T) {
	entries, err := os.ReadDir(settingsTestdata)
	if err != nil {
		t.Fatalf("read %s: %v", settingsTestdata, err)
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		t.Run(e.Name(), func(t *testing.T) {
			dir := filepath.Join(settingsTestdata, e.Name())
			_, err := Load(LoadOptions{ProjectDirectory: dir})
			got := "ok\n"
			if err != nil {
				got = strings.ReplaceAll(err.Error(), mustAbs(t, dir), "DIR") + "\n"
			}
			if *update {
				if err := os.WriteFile(filepath.Join(dir, "want.txt"), []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(filepath.Join(dir, "want.txt"))
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("Load result:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

func mustAbs(t *testing.T, path string) string {
	t.Helper()
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}
