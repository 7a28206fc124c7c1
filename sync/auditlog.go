package sync

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// AuditLogFile is the name of the audit log inside the audit directory.
const AuditLogFile = "audit.jsonl"

// Audit actions.
const (
	AuditApply   = "apply"
	AuditRevoke  = "revoke"
	AuditRestore = "restore"
)

// Audit results.
const (
	// AuditInForce: the change was written, confirmed and is in force.
	AuditInForce = "in-force"
	// AuditUnchanged: nothing needed writing.
	AuditUnchanged = "unchanged"
	// AuditNotInForce: the change was written, but it is not confirmed to be
	// in force (a file target not reloaded, a lost or unconfirmed write).
	AuditNotInForce = "written-not-in-force"
	// AuditFailed: the change was not written.
	AuditFailed = "failed"
)

// AuditAllHostnames stands for every hostname (revoke --all) in an audit
// entry's Hostnames.
const AuditAllHostnames = "*"

// AuditEntry is one line of the audit log.
type AuditEntry struct {
	// Time is RFC 3339 in UTC.
	Time   string `json:"time"`
	Actor  string `json:"actor"`
	Action string `json:"action"`
	// Hostnames are the hostnames the action changed; "*" is every
	// hostname.
	Hostnames []string `json:"hostnames"`
	Reason    string   `json:"reason,omitempty"`
	// Target is "api" or "file"; Tunnel is the tunnel id, or the file
	// target's path.
	Target string `json:"target"`
	Tunnel string `json:"tunnel,omitempty"`
	// VersionBefore and VersionAfter are the configuration version in
	// decimal on the API target, and the config file's hex SHA-256 on the
	// file target. VersionAfter is "" when nothing was written.
	VersionBefore string `json:"version_before"`
	VersionAfter  string `json:"version_after"`
	Result        string `json:"result"`
	// Detail is the reason a result is not in force.
	Detail string `json:"detail,omitempty"`
}

// AppendAuditEntry appends e as one JSON line to dir/audit.jsonl, creating
// dir (0700) and the file (0600) when missing. The line is written with a
// single write call to a file opened with O_APPEND, so concurrent writers
// do not interleave within a line on a local file system.
func AppendAuditEntry(dir string, e AuditEntry) (path string, err error) {
	if dir == "" {
		return "", errors.New("append to the audit log: no audit directory: set audit.log_dir, XDG_STATE_HOME or HOME")
	}
	if e.Hostnames == nil {
		e.Hostnames = []string{}
	}
	line, err := json.Marshal(e)
	if err != nil {
		return "", fmt.Errorf("append to the audit log: %w", err)
	}
	line = append(line, '\n')

	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("append to the audit log: %w", err)
	}
	path = filepath.Join(dir, AuditLogFile)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return path, fmt.Errorf("append to the audit log: %w", err)
	}
	if _, err := f.Write(line); err != nil {
		_ = f.Close()
		return path, fmt.Errorf("append to the audit log %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return path, fmt.Errorf("append to the audit log %s: %w", path, err)
	}
	return path, nil
}

// maxAuditLine bounds one line of the audit log when it is read back.
const maxAuditLine = 1 << 20

// ReadRevocationInfo reads dir/audit.jsonl and returns, for each hostname
// key (see RevocationKey), the reason, actor and time of the last revoke
// entry that wrote or found its revocation, unless a later restore entry
// removed it. A missing
// log gives an empty map. Lines that are not entries are skipped and
// counted in skipped.
func ReadRevocationInfo(dir string) (info map[string]RevocationInfo, skipped int, err error) {
	info = map[string]RevocationInfo{}
	if dir == "" {
		return info, 0, nil
	}
	f, err := os.Open(filepath.Join(dir, AuditLogFile))
	if errors.Is(err, fs.ErrNotExist) {
		return info, 0, nil
	}
	if err != nil {
		return info, 0, fmt.Errorf("read the audit log: %w", err)
	}
	defer f.Close()

	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), maxAuditLine)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var e AuditEntry
		if json.Unmarshal([]byte(line), &e) != nil || e.Action == "" {
			skipped++
			continue
		}
		applyAuditEntry(info, e)
	}
	if err := sc.Err(); err != nil {
		return info, skipped, fmt.Errorf("read the audit log %s: %w", f.Name(), err)
	}
	return info, skipped, nil
}

// applyAuditEntry updates the revocation details with one log entry.
func applyAuditEntry(info map[string]RevocationInfo, e AuditEntry) {
	if e.Result == AuditFailed {
		return
	}
	for _, h := range e.Hostnames {
		k := RevocationKey(h)
		switch e.Action {
		case AuditRevoke:
			if _, known := info[k]; known && e.Result == AuditUnchanged {
				continue
			}
			info[k] = RevocationInfo{Reason: e.Reason, Actor: e.Actor, Since: e.Time}
		case AuditRestore:
			delete(info, k)
		}
	}
}

// ResolveActor returns who runs the command: flag when set, then the
// PORTCULLIS_ACTOR, GITHUB_ACTOR and GITLAB_USER_LOGIN variables of environ,
// then osUser(), then USER and LOGNAME, then "unknown".
func ResolveActor(flag string, environ []string, osUser func() string) string {
	if a := strings.TrimSpace(flag); a != "" {
		return a
	}
	for _, name := range []string{"PORTCULLIS_ACTOR", "GITHUB_ACTOR", "GITLAB_USER_LOGIN"} {
		if v := environValue(environ, name); v != "" {
			return v
		}
	}
	if osUser != nil {
		if u := strings.TrimSpace(osUser()); u != "" {
			return u
		}
	}
	for _, name := range []string{"USER", "LOGNAME"} {
		if v := environValue(environ, name); v != "" {
			return v
		}
	}
	return "unknown"
}

// environValue returns the trimmed value of the last name=value entry of
// environ, as the process environment resolves duplicates.
func environValue(environ []string, name string) string {
	value := ""
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && k == name {
			value = v
		}
	}
	return strings.TrimSpace(value)
}
