package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/hashicorp/go-multierror"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"
)

// valueKind is the type of a setting's value.
type valueKind int

const (
	kindString valueKind = iota
	kindList
	kindInt
)

// settingKey describes one key of portcullis.yaml: its type, the flag that
// overrides it ("" for none) and whether the settings file may contain it.
type settingKey struct {
	name       string
	kind       valueKind
	flag       string
	envOnly    bool
	defaultVal any
}

// settingKeys lists every settings key. The names are a contract: scripts
// outside the project set them through PORTCULLIS_* variables.
var settingKeys = []settingKey{
	{name: "compose.files", kind: kindList, flag: "file"},
	{name: "compose.project_name", kind: kindString, flag: "project-name"},
	{name: "compose.profiles", kind: kindList, flag: "profile"},
	{name: "compose.env_files", kind: kindList, flag: "env-file"},
	{name: "labels.prefix", kind: kindString, flag: "label-prefix", defaultVal: DefaultLabelPrefix},
	{name: "owner_id", kind: kindString, flag: "owner-id"},
	{name: "policy", kind: kindString, flag: "policy", defaultVal: PolicySync},
	{name: "exclusive", kind: kindString, flag: "exclusive"},
	{name: "target", kind: kindString, flag: "target", defaultVal: TargetAPI},
	{name: "max_deletes", kind: kindInt, flag: "max-deletes", defaultVal: DefaultMaxDeletes},
	{name: "file.path", kind: kindString, defaultVal: DefaultFilePath},
	{name: "file.tunnel", kind: kindString},
	{name: "file.credentials_file", kind: kindString},
	{name: "file.reload_command", kind: kindString},
	{name: "cloudflare.account_id", kind: kindString},
	{name: "cloudflare.tunnel", kind: kindString},
	{name: "cloudflare.api_base_url", kind: kindString, defaultVal: DefaultAPIBaseURL},
	{name: "cloudflare.api_token_file", kind: kindString},
	{name: "cloudflare.batch_size", kind: kindInt, defaultVal: DefaultBatchSize},
	{name: "cloudflare.api_token", kind: kindString, envOnly: true},
	{name: "audit.log_dir", kind: kindString},
	{name: "audit.cloudflared_service", kind: kindString},
}

// envFallback is a variable outside the PORTCULLIS_ namespace that sets a
// key when the PORTCULLIS_ variable is not set.
type envFallback struct {
	key      string
	variable string
}

// envFallbacks are read in order, so when two set one key the later wins.
// COMPOSE_FILE is split on COMPOSE_PATH_SEPARATOR, as docker compose does.
var envFallbacks = []envFallback{
	{key: "cloudflare.api_token", variable: "CLOUDFLARE_API_TOKEN"},
	{key: "cloudflare.account_id", variable: "CLOUDFLARE_ACCOUNT_ID"},
	{key: "compose.files", variable: "COMPOSE_FILE"},
	{key: "compose.profiles", variable: "COMPOSE_PROFILES"},
	{key: "compose.project_name", variable: "COMPOSE_PROJECT_NAME"},
}

// EnvVar returns the environment variable that sets the settings key:
// PORTCULLIS_ followed by the key in upper case with "." as "_".
func EnvVar(key string) string {
	return "PORTCULLIS_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// Load layers portcullis.yaml, the environment and the flags (later sources
// win), resolves relative paths against the project directory and validates
// the result. Every problem found is reported in one error.
//
// Without --project-directory and --config, compose files given by -f or
// COMPOSE_FILE make the first file's directory the project directory, as
// docker compose does, so a portcullis.yaml there is read.
func Load(opts LoadOptions) (*Settings, error) {
	s, err := load(opts)
	if err != nil || opts.ProjectDirectory != "" || opts.ConfigFile != "" || s.ConfigFile != "" || len(s.Compose.Files) == 0 {
		return s, err
	}
	composeDir := filepath.Dir(s.Compose.Files[0])
	if composeDir == s.ProjectDirectory {
		return s, nil
	}
	if info, statErr := os.Stat(filepath.Join(composeDir, DefaultConfigFileName)); statErr != nil || !info.Mode().IsRegular() {
		return s, nil
	}

	files := s.Compose.Files
	opts.ProjectDirectory = composeDir
	moved, err := load(opts)
	if err != nil {
		return nil, err
	}
	// The compose files were given relative to the working directory.
	moved.Compose.Files = files
	moved.projectDirectoryExplicit = false
	return moved, nil
}

func load(opts LoadOptions) (*Settings, error) {
	dir, err := projectDirectory(opts.ProjectDirectory)
	if err != nil {
		return nil, err
	}
	configFile, configData, err := readSettingsFile(dir, opts.ConfigFile)
	if err != nil {
		return nil, err
	}

	var problems *multierror.Error
	if configFile != "" {
		problems = multierror.Append(problems, checkSettingsFile(configFile, configData)...)
	}

	v := viper.New()
	for _, k := range settingKeys {
		if k.defaultVal != nil {
			v.SetDefault(k.name, k.defaultVal)
		}
	}
	if configFile != "" {
		v.SetConfigType("yaml")
		if err := v.ReadConfig(bytes.NewReader(configData)); err != nil {
			return nil, fmt.Errorf("read settings file %s: %w", configFile, err)
		}
	}

	envValues, envSources := environmentLayer(opts.Environ)
	if err := v.MergeConfigMap(nestKeys(envValues)); err != nil {
		return nil, fmt.Errorf("merge settings from the environment: %w", err)
	}
	flagSources, err := bindChangedFlags(v, opts.Flags)
	if err != nil {
		return nil, err
	}

	src := sources{file: configFile, env: envSources, flags: flagSources}
	s := &Settings{
		ProjectDirectory:         dir,
		ConfigFile:               configFile,
		environ:                  append([]string(nil), opts.Environ...),
		projectDirectoryExplicit: opts.ProjectDirectory != "",
	}
	problems = multierror.Append(problems, fillSettings(s, v, src)...)
	problems = multierror.Append(problems, validateSettings(s, src)...)
	if err := problems.ErrorOrNil(); err != nil {
		return nil, err
	}
	return s, nil
}

// projectDirectory returns the absolute project directory.
func projectDirectory(dir string) (string, error) {
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return "", fmt.Errorf("find the working directory: %w", err)
		}
		dir = wd
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("invalid project directory %q: %w", dir, err)
	}
	info, err := os.Stat(abs)
	if err != nil {
		return "", fmt.Errorf("invalid project directory: %w", err)
	}
	if !info.IsDir() {
		return "", fmt.Errorf("invalid project directory %s: not a directory", abs)
	}
	return abs, nil
}

// readSettingsFile reads --config FILE, or portcullis.yaml in the project
// directory. A missing default file is not an error and returns "".
func readSettingsFile(dir, explicit string) (string, []byte, error) {
	path := filepath.Join(dir, DefaultConfigFileName)
	if explicit != "" {
		abs, err := filepath.Abs(explicit)
		if err != nil {
			return "", nil, fmt.Errorf("invalid --config %q: %w", explicit, err)
		}
		path = abs
	}

	data, err := os.ReadFile(path)
	if explicit == "" && errors.Is(err, fs.ErrNotExist) {
		return "", nil, nil
	}
	if err != nil {
		return "", nil, fmt.Errorf("read settings file: %w", err)
	}
	return path, data, nil
}

// environmentLayer returns the settings the environment sets, keyed by
// settings key, and the variable each came from. Empty variables count as
// unset, as in viper.
func environmentLayer(environ []string) (map[string]any, map[string]string) {
	values := map[string]any{}
	from := map[string]string{}
	set := func(key, variable, raw string) {
		k, _ := findKey(key)
		if k.kind == kindList {
			values[key] = splitList(raw, ",")
		} else {
			values[key] = raw
		}
		from[key] = variable
	}

	for _, fb := range envFallbacks {
		raw, ok := lookupEnviron(environ, fb.variable)
		if !ok || raw == "" {
			continue
		}
		if fb.variable == "COMPOSE_FILE" {
			sep, _ := lookupEnviron(environ, "COMPOSE_PATH_SEPARATOR")
			if sep == "" {
				sep = string(os.PathListSeparator)
			}
			values[fb.key] = splitList(raw, sep)
			from[fb.key] = fb.variable
			continue
		}
		set(fb.key, fb.variable, raw)
	}
	for _, k := range settingKeys {
		variable := EnvVar(k.name)
		if raw, ok := lookupEnviron(environ, variable); ok && raw != "" {
			set(k.name, variable, raw)
		}
	}
	return values, from
}

// bindChangedFlags binds every settings flag the user set, and returns the
// flag name of each bound key.
func bindChangedFlags(v *viper.Viper, flags *pflag.FlagSet) (map[string]string, error) {
	from := map[string]string{}
	if flags == nil {
		return from, nil
	}
	for _, k := range settingKeys {
		if k.flag == "" {
			continue
		}
		f := flags.Lookup(k.flag)
		if f == nil || !f.Changed {
			continue
		}
		if err := v.BindPFlag(k.name, f); err != nil {
			return nil, fmt.Errorf("bind flag --%s: %w", k.flag, err)
		}
		from[k.name] = "--" + k.flag
	}
	return from, nil
}

// sources names where each settings key got its value, for error messages.
type sources struct {
	file  string
	env   map[string]string
	flags map[string]string
}

func (s sources) of(key string) string {
	if f, ok := s.flags[key]; ok {
		return "flag " + f
	}
	if e, ok := s.env[key]; ok {
		return "environment variable " + e
	}
	if s.file != "" {
		return "settings file " + s.file
	}
	return "default"
}

// fillSettings copies the layered values into s, resolving relative paths
// against the project directory.
func fillSettings(s *Settings, v *viper.Viper, src sources) []error {
	var errs []error
	str := func(key string) string {
		val, err := stringValue(v.Get(key))
		if err != nil {
			errs = append(errs, fmt.Errorf("invalid %s (from %s): %w", key, src.of(key), err))
		}
		return strings.TrimSpace(val)
	}
	list := func(key string) []string {
		val, err := listValue(v.Get(key))
		if err != nil {
			errs = append(errs, fmt.Errorf("invalid %s (from %s): %w", key, src.of(key), err))
		}
		return val
	}
	dir := s.ProjectDirectory

	// As with docker compose, -f paths are relative to the working
	// directory, even with --project-directory.
	composeBase := dir
	if _, fromFlag := src.flags["compose.files"]; fromFlag {
		if wd, err := os.Getwd(); err == nil {
			composeBase = wd
		}
	}
	s.Compose.Files = resolvePaths(composeBase, list("compose.files"))
	s.Compose.ProjectName = str("compose.project_name")
	s.Compose.Profiles = list("compose.profiles")
	s.Compose.EnvFiles = resolvePaths(dir, list("compose.env_files"))
	s.Labels.Prefix = str("labels.prefix")
	s.OwnerID = str("owner_id")
	s.Policy = str("policy")
	s.Exclusive = str("exclusive")
	s.Target = str("target")

	maxDeletes, err := intValue(v.Get("max_deletes"))
	if err != nil {
		errs = append(errs, fmt.Errorf("invalid max_deletes (from %s): %w", src.of("max_deletes"), err))
	}
	s.MaxDeletes = maxDeletes

	batchSize, err := intValue(v.Get("cloudflare.batch_size"))
	if err != nil {
		errs = append(errs, fmt.Errorf("invalid cloudflare.batch_size (from %s): %w", src.of("cloudflare.batch_size"), err))
	}
	s.Cloudflare.BatchSize = batchSize

	s.File.Path = resolvePath(dir, str("file.path"))
	s.File.Tunnel = str("file.tunnel")
	s.File.CredentialsFile = str("file.credentials_file")
	s.File.ReloadCommand = str("file.reload_command")

	s.Cloudflare.AccountID = str("cloudflare.account_id")
	s.Cloudflare.Tunnel = str("cloudflare.tunnel")
	s.Cloudflare.APIBaseURL = str("cloudflare.api_base_url")
	s.Cloudflare.APITokenFile = resolvePath(dir, str("cloudflare.api_token_file"))
	s.Cloudflare.APIToken = str("cloudflare.api_token")

	s.Audit.LogDir = resolvePath(dir, str("audit.log_dir"))
	if s.Audit.LogDir == "" {
		s.Audit.LogDir = defaultLogDir(s.environ)
	}
	s.Audit.CloudflaredService = str("audit.cloudflared_service")
	return errs
}

// defaultLogDir returns $XDG_STATE_HOME/portcullis, else
// $HOME/.local/state/portcullis, else "".
func defaultLogDir(environ []string) string {
	if state, ok := lookupEnviron(environ, "XDG_STATE_HOME"); ok && filepath.IsAbs(state) {
		return filepath.Join(state, "portcullis")
	}
	if home, ok := lookupEnviron(environ, "HOME"); ok && filepath.IsAbs(home) {
		return filepath.Join(home, ".local", "state", "portcullis")
	}
	return ""
}

// validateSettings checks the values that have a fixed form.
func validateSettings(s *Settings, src sources) []error {
	var errs []error
	invalid := func(key, value, fix string) {
		errs = append(errs, fmt.Errorf("invalid %s %q (from %s): %s", key, value, src.of(key), fix))
	}

	switch s.Target {
	case TargetAPI, TargetFile:
	default:
		invalid("target", s.Target, "use api or file")
	}
	switch s.Policy {
	case PolicySync, PolicyUpsertOnly, PolicyCreateOnly:
	default:
		invalid("policy", s.Policy, "use sync, upsert-only or create-only")
	}
	if s.MaxDeletes < 0 {
		invalid("max_deletes", strconv.Itoa(s.MaxDeletes), "use 0 or a positive number")
	}
	if s.Cloudflare.BatchSize < 1 || s.Cloudflare.BatchSize > 3500 {
		invalid("cloudflare.batch_size", strconv.Itoa(s.Cloudflare.BatchSize), "use 200 on the Free plan, up to 3500 on paid plans")
	}
	if !labelPrefixPattern.MatchString(s.Labels.Prefix) {
		invalid("labels.prefix", s.Labels.Prefix, "use lower-case letters, digits, '.', '_' and '-', starting with a letter or digit")
	}
	if s.OwnerID != "" && !ownerIDPattern.MatchString(s.OwnerID) {
		invalid("owner_id", s.OwnerID, "it must match "+ownerIDPattern.String())
	}
	if s.Exclusive != "" && !tunnelIDPattern.MatchString(s.Exclusive) {
		invalid("exclusive", s.Exclusive, "use the tunnel's id (a UUID), not its name, so a copied settings file cannot claim another tunnel")
	}
	return errs
}

// stringValue converts a layered value to a string. Viper keeps YAML
// scalars typed, so numbers and booleans are accepted as their text.
func stringValue(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	case int, int64, float64, bool:
		return fmt.Sprint(x), nil
	}
	return "", fmt.Errorf("expected a string, got %T", v)
}

// listValue converts a layered value to a list. A string is split on commas,
// as list variables are.
func listValue(v any) ([]string, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		return splitList(x, ","), nil
	case []string:
		return splitList(strings.Join(x, "\x00"), "\x00"), nil
	case []any:
		out := make([]string, 0, len(x))
		for _, item := range x {
			s, err := stringValue(item)
			if err != nil {
				return nil, fmt.Errorf("list item: %w", err)
			}
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("expected a list, got %T", v)
}

func intValue(v any) (int, error) {
	switch x := v.(type) {
	case int:
		return x, nil
	case int64:
		return int(x), nil
	case float64:
		if x != float64(int(x)) {
			return 0, fmt.Errorf("expected a whole number, got %v", x)
		}
		return int(x), nil
	case string:
		n, err := strconv.Atoi(strings.TrimSpace(x))
		if err != nil {
			return 0, fmt.Errorf("expected a whole number, got %q", x)
		}
		return n, nil
	}
	return 0, fmt.Errorf("expected a whole number, got %T", v)
}

// splitList splits s on sep and drops empty, space-only items.
func splitList(s, sep string) []string {
	var out []string
	for _, item := range strings.Split(s, sep) {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// nestKeys turns {"a.b": v} into {"a": {"b": v}}, the shape viper merges.
func nestKeys(flat map[string]any) map[string]any {
	out := map[string]any{}
	for key, value := range flat {
		section, leaf, nested := strings.Cut(key, ".")
		if !nested {
			out[key] = value
			continue
		}
		m, _ := out[section].(map[string]any)
		if m == nil {
			m = map[string]any{}
			out[section] = m
		}
		m[leaf] = value
	}
	return out
}
