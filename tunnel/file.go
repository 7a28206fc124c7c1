package tunnel

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// FileTargetName is the State.Target value of the file target.
const FileTargetName = "file"

// defaultReloadTimeout bounds the reload command when File.ReloadTimeout is 0.
const defaultReloadTimeout = 60 * time.Second

// newConfigFileMode is the permission of a config file that Write creates.
const newConfigFileMode fs.FileMode = 0o644

// ErrConcurrentChange is returned by File.Write when the config file's
// content no longer matches the checksum of the state the rules were planned
// against. Nothing is written then: read, plan and write again.
var ErrConcurrentChange = errors.New("config file changed since it was read")

// File is the file target: a locally-managed cloudflared config.yml.
//
// Write replaces only the ingress list. Every other key, with its comments
// and order, is kept by editing the yaml.v3 node tree, and a rule read from
// the file is written back from that tree. The whole document is encoded
// again, so blank lines and indentation are normalised (two-space indent)
// while keys, values, quoting styles and comments survive.
type File struct {
	Path            string        // config.yml path (absolute)
	Tunnel          string        // written as the "tunnel" key when the file is created
	CredentialsFile string        // written as "credentials-file" when the file is created
	ReloadCommand   string        // run with "sh -c" after each write when set
	Dir             string        // working directory of the reload command
	ReloadTimeout   time.Duration // default 60s
	Stdout, Stderr  io.Writer     // destinations of the reload command's output (nil: discarded)
}

// FileWriteResult describes a completed File.Write.
type FileWriteResult struct {
	// Checksum is the hex SHA-256 of the bytes written.
	Checksum string
	// Created is true when the file did not exist before the write.
	Created bool
}

// FileConfigError is a config file that cannot be read as a cloudflared
// tunnel configuration. Line is 0 when the position is unknown, which is
// the case for a YAML syntax error: yaml.v3 puts that line in Err's message.
type FileConfigError struct {
	Path string
	Line int
	Err  error
}

func (e *FileConfigError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("config file %s line %d: %v", e.Path, e.Line, e.Err)
	}
	return fmt.Sprintf("config file %s: %v", e.Path, e.Err)
}

func (e *FileConfigError) Unwrap() error { return e.Err }

// Read returns the live state of the config file. A missing file is an
// empty state with an empty Checksum. Each LiveRule's Raw is the rule's
// *yaml.Node and its Owner comes from the marker comment above it.
func (f *File) Read(ctx context.Context) (State, error) {
	if err := ctx.Err(); err != nil {
		return State{}, err
	}

	data, exists, err := readConfigFile(f.Path)
	if err != nil {
		return State{}, err
	}
	state := State{Target: FileTargetName, Rules: []LiveRule{}}
	if !exists {
		return state, nil
	}

	doc, err := parseFileDocument(f.Path, data)
	if err != nil {
		return State{}, err
	}
	rules, err := readFileRules(f.Path, doc.ingress)
	if err != nil {
		return State{}, err
	}

	state.TunnelID = doc.tunnelID
	state.Checksum = fileChecksum(data)
	state.Rules = rules
	return state, nil
}

// Write replaces the ingress list of the config file with rules, in the
// given order, and returns the checksum of the new file.
//
// The file is re-read first: when its checksum differs from base.Checksum,
// Write returns ErrConcurrentChange and writes nothing. The new content goes
// to a temporary file in the same directory, which is synced and renamed
// over the original, keeping its permission bits (0644 for a new file).
// A missing file and its parent directory (0755) are created. When the file
// is replaced but the directory sync fails, the result still carries the new
// checksum along with the error.
//
// NOTE: the checksum check and the rename are not one atomic step, so a
// writer that changes the file between them is overwritten. cloudflared and
// editors take no lock that Write could honour.
func (f *File) Write(ctx context.Context, base State, rules []LiveRule) (FileWriteResult, error) {
	if err := ctx.Err(); err != nil {
		return FileWriteResult{}, err
	}

	path, err := resolveConfigPath(f.Path)
	if err != nil {
		return FileWriteResult{}, err
	}
	current, exists, err := readConfigFile(path)
	if err != nil {
		return FileWriteResult{}, err
	}
	currentChecksum := ""
	if exists {
		currentChecksum = fileChecksum(current)
	}
	if currentChecksum != base.Checksum {
		return FileWriteResult{}, fmt.Errorf("write config file %s: %w", f.Path, ErrConcurrentChange)
	}

	out, err := f.render(path, current, rules)
	if err != nil {
		return FileWriteResult{}, err
	}
	if err := ctx.Err(); err != nil {
		return FileWriteResult{}, err
	}

	perm := newConfigFileMode
	var info fs.FileInfo
	if exists {
		if info, err = os.Stat(path); err != nil {
			return FileWriteResult{}, fmt.Errorf("write config file: %w", err)
		}
		perm = info.Mode().Perm()
	}
	result := FileWriteResult{Checksum: fileChecksum(out), Created: !exists}
	replaced, err := writeFileAtomic(path, out, perm, info)
	if err != nil {
		if replaced {
			return result, err
		}
		return FileWriteResult{}, err
	}
	return result, nil
}

// render returns the new file content: current with its ingress list
// replaced by rules, or a new document when current is empty.
func (f *File) render(path string, current []byte, rules []LiveRule) ([]byte, error) {
	doc, err := parseFileDocument(path, current)
	if err != nil {
		return nil, err
	}
	seq, err := buildFileIngress(rules)
	if err != nil {
		return nil, fmt.Errorf("write config file %s: %w", f.Path, err)
	}

	var out bytes.Buffer
	if doc.top == nil {
		if doc.root.Kind == 0 {
			// A file with nothing but comments decodes to no node at all,
			// so its text is kept verbatim above the new mapping.
			out.Write(current)
			if len(current) > 0 && !bytes.HasSuffix(current, []byte("\n")) {
				out.WriteByte('\n')
			}
		}
		doc.setNewMapping(f.Tunnel, f.CredentialsFile)
	}
	doc.setIngress(seq)

	body, err := encodeFileDocument(doc.root)
	if err != nil {
		return nil, fmt.Errorf("write config file %s: %w", f.Path, err)
	}
	out.Write(body)

	if err := checkRenderedFile(path, out.Bytes(), rules); err != nil {
		return nil, fmt.Errorf("write config file %s: %w", f.Path, err)
	}
	return out.Bytes(), nil
}

// checkRenderedFile parses out again and checks that it contains the rules
// with their owners, so that a YAML quirk (such as an alias whose anchor sat
// in a removed rule) never reaches the disk.
func checkRenderedFile(path string, out []byte, rules []LiveRule) error {
	doc, err := parseFileDocument(path, out)
	if err != nil {
		return fmt.Errorf("new content does not parse: %w", err)
	}
	got, err := readFileRules(path, doc.ingress)
	if err != nil {
		return fmt.Errorf("new content does not parse: %w", err)
	}
	if len(got) != len(rules) {
		return fmt.Errorf("new content has %d ingress rules, expected %d", len(got), len(rules))
	}
	for i := range rules {
		if got[i].Owner != rules[i].Owner {
			return fmt.Errorf("new content gives ingress rule %d owner %q, expected %q", i+1, got[i].Owner, rules[i].Owner)
		}
	}
	return nil
}

// readConfigFile returns the file's bytes. A missing file is not an error
// but returns exists == false.
func readConfigFile(path string) (data []byte, exists bool, err error) {
	data, err = os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read config file: %w", err)
	}
	return data, true, nil
}

// resolveConfigPath follows symbolic links, so that Write replaces the file a
// link points to and keeps the link. A missing path is returned unchanged.
func resolveConfigPath(path string) (string, error) {
	resolved, err := filepath.EvalSymlinks(path)
	if errors.Is(err, fs.ErrNotExist) {
		return path, nil
	}
	if err != nil {
		return "", fmt.Errorf("resolve config file path: %w", err)
	}
	return resolved, nil
}

// fileChecksum returns the hex SHA-256 of data.
func fileChecksum(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// writeFileAtomic replaces path with data through a synced temporary file in
// the same directory and a rename, then syncs the directory. old is the
// replaced file's info, or nil for a new file. replaced reports whether the
// rename happened, so a caller can tell a failed directory sync apart.
func writeFileAtomic(path string, data []byte, perm fs.FileMode, old fs.FileInfo) (replaced bool, err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return false, fmt.Errorf("create config directory: %w", err)
	}

	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".portcullis-*")
	if err != nil {
		return false, fmt.Errorf("create temporary config file: %w", err)
	}
	tmpName := tmp.Name()
	closed := false
	defer func() {
		if err != nil && !replaced {
			if !closed {
				_ = tmp.Close()
			}
			_ = os.Remove(tmpName)
		}
	}()

	if _, err = tmp.Write(data); err != nil {
		return false, fmt.Errorf("write temporary config file: %w", err)
	}
	if err = tmp.Chmod(perm); err != nil {
		return false, fmt.Errorf("set config file permissions: %w", err)
	}
	if old != nil {
		keepFileOwner(tmp, old)
	}
	if err = tmp.Sync(); err != nil {
		return false, fmt.Errorf("sync temporary config file: %w", err)
	}
	closed = true
	if err = tmp.Close(); err != nil {
		return false, fmt.Errorf("close temporary config file: %w", err)
	}
	if err = os.Rename(tmpName, path); err != nil {
		return false, fmt.Errorf("replace config file: %w", err)
	}
	replaced = true

	if err = syncDirectory(dir); err != nil {
		return true, fmt.Errorf("config file %s replaced, but syncing its directory failed: %w", path, err)
	}
	return true, nil
}

func syncDirectory(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	syncErr := d.Sync()
	closeErr := d.Close()
	if syncErr != nil {
		return syncErr
	}
	return closeErr
}
