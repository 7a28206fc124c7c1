// Package config reads portcullis's own settings (portcullis.yaml, the
// environment and command-line flags, layered through viper) and loads
// docker compose projects through compose-go, the library docker compose
// itself uses.
package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/spf13/pflag"
)

// Settings values that are not free-form.
const (
	TargetAPI  = "api"
	TargetFile = "file"

	PolicySync       = "sync"
	PolicyUpsertOnly = "upsert-only"
	PolicyCreateOnly = "create-only"

	// DefaultConfigFileName is the settings file read from the project
	// directory when --config is not given.
	DefaultConfigFileName = "portcullis.yaml"
	// DefaultAPIBaseURL is the Cloudflare API base URL used when
	// cloudflare.api_base_url is not set.
	DefaultAPIBaseURL = "https://api.cloudflare.com/client/v4"
	// DefaultLabelPrefix is the label prefix used when labels.prefix is not set.
	DefaultLabelPrefix = "portcullis"
	// DefaultMaxDeletes is the number of owned hostnames one apply may delete
	// when max_deletes is not set.
	DefaultMaxDeletes = 10
	// DefaultBatchSize is the DNS batch limit of the Free plan.
	DefaultBatchSize = 200
	// DefaultFilePath is the file target's cloudflared configuration,
	// relative to the project directory.
	DefaultFilePath = "cloudflared/config.yml"
)

// Settings is portcullis's configuration after the settings file, the
// environment and the flags have been layered and validated.
//
// The String and GoString methods redact the API token, so a Settings value
// may be printed with any fmt verb.
type Settings struct {
	// ProjectDirectory is the absolute project directory: relative paths in
	// the settings resolve against it.
	ProjectDirectory string
	// ConfigFile is the absolute path of the portcullis.yaml that was read,
	// or "" when none was.
	ConfigFile string

	Compose    ComposeSettings
	Labels     LabelSettings
	OwnerID    string
	Policy     string
	Exclusive  string
	Target     string
	MaxDeletes int
	File       FileSettings
	Cloudflare CloudflareSettings
	Audit      AuditSettings

	// environ is the environment Load was given. It is unexported, so that
	// printing Settings never shows the variables, which may hold the token.
	environ []string
	// projectDirectoryExplicit is true when --project-directory was given,
	// which changes how compose picks the directory of its project.
	projectDirectoryExplicit bool
}

// ComposeSettings selects the compose project, as docker compose's own
// flags do.
type ComposeSettings struct {
	// Files are absolute compose file paths; empty means compose's own
	// discovery (compose.yaml, docker-compose.yml and the override file).
	Files       []string
	ProjectName string
	Profiles    []string
	// EnvFiles are absolute paths; empty means compose's default .env in
	// the project directory.
	EnvFiles []string
}

// LabelSettings configures the label schema.
type LabelSettings struct {
	Prefix string
}

// FileSettings configures the file target, a locally-managed cloudflared
// config.yml.
type FileSettings struct {
	// Path is the absolute path of the cloudflared config.yml.
	Path string
	// Tunnel is the tunnel UUID or name written when the file is created.
	Tunnel string
	// CredentialsFile is a path inside the cloudflared container, so it is
	// kept exactly as written and never resolved on this machine.
	CredentialsFile string
	// ReloadCommand is run through the shell after each write.
	ReloadCommand string
}

// CloudflareSettings configures the API target.
type CloudflareSettings struct {
	AccountID  string
	Tunnel     string
	APIBaseURL string
	// APITokenFile is the absolute path of a file that contains the token.
	APITokenFile string
	// BatchSize is the maximum number of operations in one DNS batch
	// request: 200 on the Free plan, 3,500 on paid plans.
	BatchSize int
	// APIToken comes from the environment only (PORTCULLIS_CLOUDFLARE_API_TOKEN
	// or CLOUDFLARE_API_TOKEN). Use Settings.Token to read the token.
	APIToken string
}

// AuditSettings configures the audit log.
type AuditSettings struct {
	// LogDir is absolute; "" when neither XDG_STATE_HOME nor HOME is set in
	// the environment and the setting is not given.
	LogDir string
	// CloudflaredService is the compose service that runs cloudflared; ""
	// means the service whose image is cloudflare/cloudflared.
	CloudflaredService string
}

// LoadOptions are the inputs of Load.
type LoadOptions struct {
	// ConfigFile is --config; a missing file given here is an error.
	ConfigFile string
	// ProjectDirectory is --project-directory; "" means the working directory.
	ProjectDirectory string
	// Flags may be nil. Only flags the user set (Changed) override the other
	// sources.
	Flags *pflag.FlagSet
	// Environ is os.Environ() in production. Load reads no other environment.
	Environ []string
}

// ErrNoToken is returned by Token when no API token is configured.
var ErrNoToken = errors.New("no Cloudflare API token")

var (
	labelPrefixPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)
	ownerIDPattern     = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)
	tunnelIDPattern    = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
)

// ResolveOwnerID sets OwnerID from the compose project name when it is not
// set, lower-cased as compose normalises project names, and validates it.
func (s *Settings) ResolveOwnerID(projectName string) error {
	if s.OwnerID == "" {
		s.OwnerID = strings.ToLower(strings.TrimSpace(projectName))
	}
	if !ownerIDPattern.MatchString(s.OwnerID) {
		return fmt.Errorf("invalid owner_id %q: it must match %s; set owner_id in %s, PORTCULLIS_OWNER_ID or --owner-id",
			s.OwnerID, ownerIDPattern, DefaultConfigFileName)
	}
	return nil
}

// Token returns the Cloudflare API token from the environment or from the
// token file, with surrounding white space removed. Setting both is an error.
func (s *Settings) Token() (string, error) {
	fromEnv := strings.TrimSpace(s.Cloudflare.APIToken)
	file := s.Cloudflare.APITokenFile

	if fromEnv != "" && file != "" {
		return "", fmt.Errorf("both an API token (cloudflare.api_token from the environment) and cloudflare.api_token_file %s are set: keep only one", file)
	}
	if fromEnv != "" {
		return fromEnv, nil
	}
	if file == "" {
		return "", fmt.Errorf("%w: set CLOUDFLARE_API_TOKEN (or PORTCULLIS_CLOUDFLARE_API_TOKEN) or cloudflare.api_token_file", ErrNoToken)
	}

	data, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("read cloudflare.api_token_file: %w", err)
	}
	token := strings.TrimSpace(string(data))
	if token == "" {
		return "", fmt.Errorf("%w: cloudflare.api_token_file %s is empty", ErrNoToken, file)
	}
	return token, nil
}

// LookupEnv returns the value of the variable name in the environment that
// Load was given.
func (s *Settings) LookupEnv(name string) (string, bool) {
	return lookupEnviron(s.environ, name)
}

const redacted = "[redacted]"

// String returns the settings with the API token redacted and without the
// environment.
func (s Settings) String() string {
	type plain Settings
	p := plain(s)
	p.environ = nil
	return fmt.Sprintf("%+v", p)
}

// GoString is String, so %#v redacts the token too.
func (s Settings) GoString() string { return s.String() }

// String returns the Cloudflare settings with the API token redacted.
func (c CloudflareSettings) String() string {
	type plain CloudflareSettings
	p := plain(c)
	if p.APIToken != "" {
		p.APIToken = redacted
	}
	return fmt.Sprintf("%+v", p)
}

// GoString is String, so %#v redacts the token too.
func (c CloudflareSettings) GoString() string { return c.String() }

// resolvePath makes a relative path absolute against dir; "" stays "".
func resolvePath(dir, path string) string {
	if path == "" || filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(dir, path)
}

func resolvePaths(dir string, paths []string) []string {
	if len(paths) == 0 {
		return nil
	}
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = resolvePath(dir, p)
	}
	return out
}

// lookupEnviron returns the value of name in environ, a list of KEY=VALUE
// entries; the last entry wins, as in os/exec.
func lookupEnviron(environ []string, name string) (string, bool) {
	value, found := "", false
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if ok && k == name {
			value, found = v, true
		}
	}
	return value, found
}
