package sync

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAppendAuditEntryCreatesPrivateFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state", "portcullis")
	e := AuditEntry{Time: "2026-01-02T03:04:05Z", Actor: "alice", Action: AuditRevoke, Hostnames: []string{"a.example.com"},
		Reason: "leak", Target: "api", Tunnel: "t", VersionBefore: "3", VersionAfter: "4", Result: AuditInForce}
	path, err := AppendAuditEntry(dir, e)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := AppendAuditEntry(dir, AuditEntry{Time: "2026-01-02T03:05:00Z", Action: AuditRestore, Result: AuditInForce}); err != nil {
		t.Fatal(err)
	}

	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("log permission = %o, want 600", perm)
	}
	dirInfo, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if perm := dirInfo.Mode().Perm(); perm != 0o700 {
		t.Errorf("directory permission = %o, want 700", perm)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines, want 2:\n%s", len(lines), data)
	}
	want := `{"time":"2026-01-02T03:04:05Z","actor":"alice","action":"revoke","hostnames":["a.example.com"],"reason":"leak","target":"api","tunnel":"t","version_before":"3","version_after":"4","result":"in-force"}`
	if lines[0] != want {
		t.Errorf("line 1 =\n%s\nwant\n%s", lines[0], want)
	}
	if !strings.Contains(lines[1], `"hostnames":[]`) {
		t.Errorf("an entry without hostnames should write an empty list: %s", lines[1])
	}
}

func TestAppendAuditEntryFailure(t *testing.T) {
	blocker := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := AppendAuditEntry(filepath.Join(blocker, "portcullis"), AuditEntry{Action: AuditRevoke}); err == nil {
		t.Error("append under a regular file succeeded")
	}
	if _, err := AppendAuditEntry("", AuditEntry{Action: AuditRevoke}); err == nil {
		t.Error("append without a directory succeeded")
	}
}

func TestReadRevocationInfo(t *testing.T) {
	dir := t.TempDir()
	log := strings.Join([]string{
		`{"time":"t1","actor":"alice","action":"revoke","hostnames":["a.example.com","b.example.com"],"reason":"first","result":"in-force"}`,
		`not json`,
		`{"time":"t2","actor":"bob","action":"revoke","hostnames":["a.example.com"],"reason":"repeat","result":"unchanged"}`,
		`{"time":"t3","actor":"carol","action":"revoke","hostnames":["c.example.com"],"reason":"failed","result":"failed"}`,
		`{"time":"t4","actor":"dave","action":"restore","hostnames":["b.example.com"],"result":"in-force"}`,
		`{"time":"t5","actor":"erin","action":"revoke","hostnames":["*"],"reason":"breach","result":"written-not-in-force"}`,
		`{"time":"t6","actor":"frank","action":"apply","hostnames":["a.example.com"],"result":"in-force"}`,
		``,
	}, "\n")
	if err := os.WriteFile(filepath.Join(dir, AuditLogFile), []byte(log), 0o600); err != nil {
		t.Fatal(err)
	}
	info, skipped, err := ReadRevocationInfo(dir)
	if err != nil {
		t.Fatal(err)
	}
	if skipped != 1 {
		t.Errorf("skipped = %d, want 1", skipped)
	}
	want := map[string]RevocationInfo{
		"a.example.com": {Reason: "first", Actor: "alice", Since: "t1"},
		RevokeAll:       {Reason: "breach", Actor: "erin", Since: "t5"},
	}
	if len(info) != len(want) {
		t.Errorf("info = %+v, want %+v", info, want)
	}
	for k, w := range want {
		if info[k] != w {
			t.Errorf("info[%q] = %+v, want %+v", k, info[k], w)
		}
	}

	missing, _, err := ReadRevocationInfo(filepath.Join(dir, "nothing"))
	if err != nil || len(missing) != 0 {
		t.Errorf("missing log: %v, %v", missing, err)
	}
}

func TestResolveActor(t *testing.T) {
	osUser := func() string { return "osuser" }
	tests := []struct {
		name    string
		flag    string
		environ []string
		osUser  func() string
		want    string
	}{
		{"flag wins", "flag-actor", []string{"PORTCULLIS_ACTOR=p", "GITHUB_ACTOR=g"}, osUser, "flag-actor"},
		{"portcullis variable", "", []string{"GITHUB_ACTOR=g", "PORTCULLIS_ACTOR=p"}, osUser, "p"},
		{"github", "", []string{"GITLAB_USER_LOGIN=l", "GITHUB_ACTOR=g"}, osUser, "g"},
		{"gitlab", "", []string{"GITLAB_USER_LOGIN=l"}, osUser, "l"},
		{"os user", "", []string{"USER=u"}, osUser, "osuser"},
		{"USER when the OS user is unknown", "", []string{"USER=u"}, func() string { return "" }, "u"},
		{"unknown", "", nil, nil, "unknown"},
		{"empty values skipped", " ", []string{"PORTCULLIS_ACTOR=", "GITHUB_ACTOR=g"}, osUser, "g"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ResolveActor(tt.flag, tt.environ, tt.osUser); got != tt.want {
				t.Errorf("ResolveActor = %q, want %q", got, tt.want)
			}
		})
	}
}
