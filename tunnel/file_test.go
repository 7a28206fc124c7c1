package tunnel

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/portcullis-dev/portcullis/ingress"
)

var update = flag.Bool("update", false, "rewrite golden files")

const fileTestTunnelID = "6ff42ae2-765d-4adf-8112-31c55c1551ef"

// fileGoldenCase is one folder under testdata/file: before.yml (absent for
// a file that does not exist yet) and after.yml, the file after writing the
// rules that rules returns for the state read from before.yml.
type fileGoldenCase struct {
	name  string
	file  File
	rules func(t *testing.T, live State) []LiveRule
	// check runs extra assertions on the file before and after the write.
	check func(t *testing.T, before, after []byte)
}

// fileLiveRule returns the live rule for hostname, failing the test when the
// state has none.
func fileLiveRule(t *testing.T, live State, hostname string) LiveRule {
	t.Helper()
	for _, lr := range live.Rules {
		if lr.Hostname == hostname {
			return lr
		}
	}
	t.Fatalf("live state has no rule for %q", hostname)
	return LiveRule{}
}

// catchAll returns the live catch-all rule, failing the test when the state
// has none.
func fileCatchAll(t *testing.T, live State) LiveRule {
	t.Helper()
	for _, lr := range live.Rules {
		if lr.IsCatchAll() {
			return lr
		}
	}
	t.Fatal("live state has no catch-all rule")
	return LiveRule{}
}

func fileOwnedRule(owner, hostname, path, service string, origin ingress.OriginRequest) LiveRule {
	return LiveRule{Rule: ingress.Rule{Hostname: hostname, Path: path, Service: service, OriginRequest: origin}, Owner: owner}
}

func fileWithOwner(lr LiveRule, owner string) LiveRule {
	lr.Owner = owner
	return lr
}

const bastionBlock = `  # office bastion, managed by hand
  - hostname: bastion.example.com
    service: bastion
    originRequest:
      bastionMode: true
      ipRules:
        - prefix: 10.0.0.0/8
          ports: [22]
          allow: true
        - prefix: 0.0.0.0/0
          allow: false
`

var fileGoldenCases = []fileGoldenCase{
	{
		name: "keeps-unmanaged",
		rules: func(t *testing.T, live State) []LiveRule {
			return []LiveRule{
				fileOwnedRule("web", "app.example.com", "^(?:/api)", "http://api:8080", ingress.OriginRequest{"noTLSVerify": true}),
				fileOwnedRule("web", "app.example.com", "", "http://app:80", nil),
				fileLiveRule(t, live, "bastion.example.com"),
				fileCatchAll(t, live),
			}
		},
		check: func(t *testing.T, before, after []byte) {
			if !bytes.Contains(before, []byte(bastionBlock)) {
				t.Fatal("before.yml lacks the unmanaged bastion rule the test expects")
			}
			if !bytes.Contains(after, []byte(bastionBlock)) {
				t.Errorf("unmanaged rule is not byte-identical after the write:\n%s", after)
			}
			for _, line := range strings.Split(string(before), "\n") {
				if !strings.HasPrefix(strings.TrimSpace(line), "#") && !strings.Contains(line, " # ") {
					continue
				}
				if strings.Contains(line, "owner=web") {
					continue // the marker of old.example.com, which was removed
				}
				if !bytes.Contains(after, []byte(line+"\n")) {
					t.Errorf("comment line %q is missing or changed after the write", line)
				}
			}
		},
	},
	{
		name: "marker-added",
		rules: func(t *testing.T, live State) []LiveRule {
			return []LiveRule{
				fileWithOwner(fileLiveRule(t, live, "grafana.example.com"), "web"),
				fileCatchAll(t, live),
			}
		},
	},
	{
		name: "marker-removed",
		rules: func(t *testing.T, live State) []LiveRule {
			return []LiveRule{
				fileWithOwner(fileLiveRule(t, live, "grafana.example.com"), ""),
				fileWithOwner(fileLiveRule(t, live, "wiki.example.com"), "ops"),
				fileCatchAll(t, live),
			}
		},
		check: func(t *testing.T, _, after []byte) {
			if !bytes.Contains(after, []byte("  # dashboards\n  - hostname: grafana.example.com\n")) {
				t.Errorf("comment above the unowned rule is not kept without its marker:\n%s", after)
			}
			if n := bytes.Count(after, []byte("portcullis:v1")); n != 1 {
				t.Errorf("file has %d marker lines, expected 1:\n%s", n, after)
			}
		},
	},
	{
		name: "durations",
		rules: func(t *testing.T, live State) []LiveRule {
			return []LiveRule{
				fileOwnedRule("web", "app.example.com", "", "https://app:8443", ingress.OriginRequest{
					"connectTimeout":   30 * time.Second,
					"keepAliveTimeout": 90 * time.Second,
					"originServerName": "app.internal",
				}),
				fileCatchAll(t, live),
			}
		},
		check: func(t *testing.T, _, after []byte) {
			for _, want := range []string{"connectTimeout: 30s\n", "keepAliveTimeout: 1m30s\n"} {
				if !bytes.Contains(after, []byte(want)) {
					t.Errorf("file lacks %q:\n%s", want, after)
				}
			}
		},
	},
	{
		name: "created",
		file: File{Tunnel: fileTestTunnelID, CredentialsFile: "/etc/cloudflared/" + fileTestTunnelID + ".json"},
		rules: func(t *testing.T, live State) []LiveRule {
			return []LiveRule{
				fileOwnedRule("web", "*.example.com", "", "http://web:80", nil),
				{Rule: ingress.Rule{Service: ingress.DefaultCatchAll}},
			}
		},
	},
	{
		name: "updated-rule",
		rules: func(t *testing.T, live State) []LiveRule {
			wiki := fileLiveRule(t, live, "wiki.example.com")
			wiki.Service = "http://wiki:9090"
			return []LiveRule{wiki, fileCatchAll(t, live)}
		},
		check: func(t *testing.T, _, after []byte) {
			if !bytes.Contains(after, []byte("  # the team wiki\n  # portcullis:v1 owner=web\n  - hostname: wiki.example.com\n    service: http://wiki:9090\n")) {
				t.Errorf("updated rule lost its head comment or its new service:\n%s", after)
			}
		},
	},
	{
		name: "comments-only",
		file: File{Tunnel: fileTestTunnelID},
		rules: func(t *testing.T, live State) []LiveRule {
			return []LiveRule{
				fileOwnedRule("web", "app.example.com", "", "http://app:80", nil),
				{Rule: ingress.Rule{Service: ingress.DefaultCatchAll}},
			}
		},
	},
	{
		name: "null-ingress",
		rules: func(t *testing.T, live State) []LiveRule {
			return []LiveRule{
				fileOwnedRule("web", "app.example.com", "", "http://app:80", nil),
				{Rule: ingress.Rule{Service: ingress.DefaultCatchAll}},
			}
		},
	},
	{
		name: "no-ingress-key",
		rules: func(t *testing.T, live State) []LiveRule {
			return []LiveRule{
				fileOwnedRule("web", "app.example.com", "", "http://app:80", nil),
				{Rule: ingress.Rule{Service: ingress.DefaultCatchAll}},
			}
		},
	},
	{
		name: "foot-comment",
		rules: func(t *testing.T, live State) []LiveRule {
			return []LiveRule{
				fileOwnedRule("web", "app.example.com", "", "http://app:80", nil),
				fileLiveRule(t, live, "wiki.example.com"),
				fileCatchAll(t, live),
			}
		},
		check: func(t *testing.T, _, after []byte) {
			if !bytes.Contains(after, []byte("# keep the catch-all last\n")) {
				t.Errorf("comment below the catch-all was lost:\n%s", after)
			}
		},
	},
	{
		name: "flow-empty-ingress",
		rules: func(t *testing.T, live State) []LiveRule {
			return []LiveRule{
				fileOwnedRule("web", "app.example.com", "", "http://app:80", nil),
				{Rule: ingress.Rule{Service: ingress.DefaultCatchAll}},
			}
		},
	},
}

func TestFileWriteGolden(t *testing.T) {
	for _, tc := range fileGoldenCases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			caseDir := filepath.Join("..", "testdata", "file", tc.name)
			before, err := os.ReadFile(filepath.Join(caseDir, "before.yml"))
			if err != nil && !errors.Is(err, os.ErrNotExist) {
				t.Fatal(err)
			}
			file := tc.file
			file.Path = filepath.Join(t.TempDir(), "cloudflared", "config.yml")
			if before != nil {
				writeFileFixture(t, file.Path, before, 0o644)
			}

			live, err := file.Read(ctx)
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			rules := tc.rules(t, live)
			result, err := file.Write(ctx, live, rules)
			if err != nil {
				t.Fatalf("Write: %v", err)
			}
			after := readFileFixture(t, file.Path)

			compareFileGolden(t, filepath.Join(caseDir, "after.yml"), after)
			if got, want := result.Checksum, fileFixtureChecksum(after); got != want {
				t.Errorf("Write checksum = %s, expected the SHA-256 of the file %s", got, want)
			}
			if result.Created != (before == nil) {
				t.Errorf("Write Created = %v, expected %v", result.Created, before == nil)
			}
			if tc.check != nil {
				tc.check(t, before, after)
			}

			reread := assertFileReadBack(t, &file, rules)
			if reread.Checksum != result.Checksum {
				t.Errorf("Read checksum = %s after writing %s", reread.Checksum, result.Checksum)
			}

			again, err := file.Write(ctx, reread, reread.Rules)
			if err != nil {
				t.Fatalf("second Write: %v", err)
			}
			if got := readFileFixture(t, file.Path); !bytes.Equal(got, after) {
				t.Errorf("writing the read rules back changed the file:\n%s\nfirst write:\n%s", got, after)
			}
			if again.Checksum != result.Checksum {
				t.Errorf("second Write checksum = %s, expected %s", again.Checksum, result.Checksum)
			}
		})
	}
}

// assertFileReadBack reads file and checks that it holds rules with their owners.
func assertFileReadBack(t *testing.T, file *File, rules []LiveRule) State {
	t.Helper()
	state, err := file.Read(context.Background())
	if err != nil {
		t.Fatalf("Read after Write: %v", err)
	}
	if len(state.Rules) != len(rules) {
		t.Fatalf("Read after Write returned %d rules, expected %d", len(state.Rules), len(rules))
	}
	for i, got := range state.Rules {
		want := rules[i]
		if !fileSameRule(got.Rule, want.Rule) {
			t.Errorf("rule %d read back as %+v, expected %+v", i+1, got.Rule, want.Rule)
		}
		if got.Owner != want.Owner {
			t.Errorf("rule %d owner read back as %q, expected %q", i+1, got.Owner, want.Owner)
		}
		if _, ok := got.Raw.(*yaml.Node); !ok {
			t.Errorf("rule %d Raw is %T, expected *yaml.Node", i+1, got.Raw)
		}
	}
	return state
}

func fileSameRule(a, b ingress.Rule) bool {
	if len(a.OriginRequest) == 0 && len(b.OriginRequest) == 0 {
		a.OriginRequest, b.OriginRequest = nil, nil
	}
	return reflect.DeepEqual(a, b)
}

func TestFileReadMissing(t *testing.T) {
	file := File{Path: filepath.Join(t.TempDir(), "config.yml")}
	state, err := file.Read(context.Background())
	if err != nil {
		t.Fatalf("Read of a missing file: %v", err)
	}
	if state.Target != "file" {
		t.Errorf("Target = %q, expected \"file\"", state.Target)
	}
	if state.Checksum != "" {
		t.Errorf("Checksum = %q, expected \"\"", state.Checksum)
	}
	if len(state.Rules) != 0 {
		t.Errorf("Rules = %v, expected none", state.Rules)
	}
}

func TestFileReadState(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "testdata", "file", "keeps-unmanaged", "before.yml"))
	if err != nil {
		t.Fatal(err)
	}
	file := File{Path: filepath.Join(t.TempDir(), "config.yml")}
	writeFileFixture(t, file.Path, data, 0o644)

	state, err := file.Read(context.Background())
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if state.TunnelID != fileTestTunnelID {
		t.Errorf("TunnelID = %q, expected %q", state.TunnelID, fileTestTunnelID)
	}
	if state.Checksum != fileFixtureChecksum(data) {
		t.Errorf("Checksum = %q, expected %q", state.Checksum, fileFixtureChecksum(data))
	}
	want := []LiveRule{
		{Rule: ingress.Rule{Hostname: "old.example.com", Service: "http://old:80"}, Owner: "web"},
		{Rule: ingress.Rule{Hostname: "bastion.example.com", Service: "bastion", OriginRequest: ingress.OriginRequest{
			"bastionMode": true,
			"ipRules": []any{
				map[string]any{"prefix": "10.0.0.0/8", "ports": []any{int64(22)}, "allow": true},
				map[string]any{"prefix": "0.0.0.0/0", "allow": false},
			},
		}}},
		{Rule: ingress.Rule{Service: "http_status:404"}},
	}
	if len(state.Rules) != len(want) {
		t.Fatalf("Read returned %d rules, expected %d", len(state.Rules), len(want))
	}
	for i := range want {
		got := state.Rules[i]
		if got.Owner != want[i].Owner {
			t.Errorf("rule %d owner = %q, expected %q", i+1, got.Owner, want[i].Owner)
		}
		if !fileSameRule(got.Rule, want[i].Rule) {
			t.Errorf("rule %d = %#v, expected %#v", i+1, got.Rule, want[i].Rule)
		}
	}
}

func TestFileReadInvalid(t *testing.T) {
	tests := []struct {
		name     string
		content  string
		wantLine int    // FileConfigError.Line
		wantText string // in the message
	}{
		{name: "mapping in scalar", content: "tunnel: abc\ningress:\n  - hostname: a\n    service: x: y\n", wantText: "line 4"},
		{name: "missing colon", content: "tunnel: abc\ningress:\n  - hostname: a\n  bad\n", wantText: "line 4"},
		{name: "tab indent", content: "tunnel: abc\ningress:\n\t- service: x\n", wantText: "line 3"},
		{name: "top level list", content: "- service: x\n", wantLine: 1},
		{name: "ingress mapping", content: "tunnel: abc\ningress:\n  service: x\n", wantLine: 3},
		{name: "ingress scalar", content: "tunnel: abc\ningress: everything\n", wantLine: 2},
		{name: "rule scalar", content: "ingress:\n  - service: x\n  - http_status:404\n", wantLine: 3},
		{name: "rule list", content: "ingress:\n  - service: x\n  -\n    - a\n", wantLine: 4},
		{name: "hostname mapping", content: "ingress:\n  - hostname: {a: b}\n    service: x\n", wantLine: 2},
		{name: "duplicate ingress", content: "ingress: []\ntunnel: abc\ningress: []\n", wantLine: 3},
		{name: "tunnel mapping", content: "tunnel:\n  id: abc\n", wantLine: 2},
		{name: "second document", content: "tunnel: abc\n---\ntunnel: def\n", wantLine: 2},
		{name: "two owners", content: "ingress:\n  # portcullis:v1 owner=a\n  # portcullis:v1 owner=b\n  - service: x\n", wantLine: 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			file := File{Path: filepath.Join(t.TempDir(), "config.yml")}
			writeFileFixture(t, file.Path, []byte(tc.content), 0o644)

			_, err := file.Read(context.Background())
			var configErr *FileConfigError
			if !errors.As(err, &configErr) {
				t.Fatalf("Read error = %v, expected a *FileConfigError", err)
			}
			if configErr.Path != file.Path {
				t.Errorf("error path = %q, expected %q", configErr.Path, file.Path)
			}
			if configErr.Line != tc.wantLine {
				t.Errorf("error line = %d, expected %d (%v)", configErr.Line, tc.wantLine, err)
			}
			if !strings.Contains(err.Error(), file.Path) {
				t.Errorf("error %q does not name the file", err)
			}
			if tc.wantText != "" && !strings.Contains(err.Error(), tc.wantText) {
				t.Errorf("error %q does not contain %q", err, tc.wantText)
			}
		})
	}
}

func TestFileMarkerParsing(t *testing.T) {
	tests := []struct {
		name    string
		comment string // head comment lines above the rule
		want    string
	}{
		{name: "exact", comment: "# portcullis:v1 owner=web", want: "web"},
		{name: "no space after hash", comment: "#portcullis:v1 owner=web", want: "web"},
		{name: "extra spaces", comment: "#   portcullis:v1 owner=web   ", want: "web"},
		{name: "trailing text", comment: "# portcullis:v1 owner=a extra", want: ""},
		{name: "prefix only", comment: "# portcullis:v1", want: ""},
		{name: "other version", comment: "# portcullis:v2 owner=web", want: ""},
		{name: "upper-case owner", comment: "# portcullis:v1 owner=Web", want: ""},
		{name: "double hash", comment: "## portcullis:v1 owner=web", want: ""},
		{name: "among other lines", comment: "# grafana\n# portcullis:v1 owner=web\n# see the wiki", want: "web"},
		{name: "same owner twice", comment: "# portcullis:v1 owner=web\n# portcullis:v1 owner=web", want: "web"},
		{name: "no comment", comment: "", want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var content strings.Builder
			content.WriteString("ingress:\n")
			for _, line := range strings.Split(tc.comment, "\n") {
				if line != "" {
					content.WriteString("  " + line + "\n")
				}
			}
			content.WriteString("  - hostname: app.example.com\n    service: http://app:80\n")
			file := File{Path: filepath.Join(t.TempDir(), "config.yml")}
			writeFileFixture(t, file.Path, []byte(content.String()), 0o644)

			state, err := file.Read(context.Background())
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if len(state.Rules) != 1 {
				t.Fatalf("Read returned %d rules, expected 1", len(state.Rules))
			}
			if got := state.Rules[0].Owner; got != tc.want {
				t.Errorf("owner = %q, expected %q", got, tc.want)
			}
		})
	}
}

func TestFileWriteKeepsPermissions(t *testing.T) {
	tests := []struct {
		name string
		mode os.FileMode
	}{
		{name: "private", mode: 0o600},
		{name: "group readable", mode: 0o640},
		{name: "world readable", mode: 0o644},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			file := File{Path: filepath.Join(t.TempDir(), "config.yml")}
			writeFileFixture(t, file.Path, []byte("tunnel: abc\ningress:\n  - service: http_status:404\n"), tc.mode)

			fileWriteRules(t, &file, fileOwnedRule("web", "app.example.com", "", "http://app:80", nil))

			if got := fileFixtureMode(t, file.Path); got != tc.mode {
				t.Errorf("mode after Write = %v, expected %v", got, tc.mode)
			}
		})
	}
}

func TestFileWriteCreates(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	file := File{Path: filepath.Join(dir, "config.yml"), Tunnel: fileTestTunnelID}

	result := fileWriteRules(t, &file, fileOwnedRule("web", "app.example.com", "", "http://app:80", nil))

	if !result.Created {
		t.Error("Created = false for a new file")
	}
	if got := fileFixtureMode(t, file.Path); got != 0o644 {
		t.Errorf("new file mode = %v, expected 0644", got)
	}
	info, err := os.Stat(dir)
	if err != nil {
		t.Fatalf("parent directory was not created: %v", err)
	}
	if !info.IsDir() {
		t.Errorf("%s is not a directory", dir)
	}
	if got := string(readFileFixture(t, file.Path)); !strings.HasPrefix(got, "tunnel: "+fileTestTunnelID+"\ningress:\n") {
		t.Errorf("new file does not start with the tunnel and ingress keys:\n%s", got)
	}
}

func TestFileWriteConcurrentChange(t *testing.T) {
	const original = "tunnel: abc\ningress:\n  - service: http_status:404\n"
	tests := []struct {
		name    string
		initial *string // nil: the file is missing when read
		change  func(t *testing.T, path string)
	}{
		{
			name:    "modified",
			initial: filePointer(original),
			change: func(t *testing.T, path string) {
				writeFileFixture(t, path, []byte(original+"# edited by hand\n"), 0o644)
			},
		},
		{
			name:    "deleted",
			initial: filePointer(original),
			change: func(t *testing.T, path string) {
				if err := os.Remove(path); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name: "created",
			change: func(t *testing.T, path string) {
				writeFileFixture(t, path, []byte(original), 0o644)
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			file := File{Path: filepath.Join(dir, "config.yml")}
			if tc.initial != nil {
				writeFileFixture(t, file.Path, []byte(*tc.initial), 0o644)
			}
			live, err := file.Read(context.Background())
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			tc.change(t, file.Path)
			changed, _ := os.ReadFile(file.Path)

			_, err = file.Write(context.Background(), live, []LiveRule{fileOwnedRule("web", "app.example.com", "", "http://app:80", nil)})

			if !errors.Is(err, ErrConcurrentChange) {
				t.Fatalf("Write error = %v, expected ErrConcurrentChange", err)
			}
			if got, _ := os.ReadFile(file.Path); !bytes.Equal(got, changed) {
				t.Errorf("Write changed the file after detecting a concurrent change:\n%s", got)
			}
			assertNoFileTemporaries(t, dir)
		})
	}
}

func TestFileWriteInvalidOwner(t *testing.T) {
	const original = "tunnel: abc\ningress:\n  - service: http_status:404\n"
	dir := t.TempDir()
	file := File{Path: filepath.Join(dir, "config.yml")}
	writeFileFixture(t, file.Path, []byte(original), 0o644)
	live, err := file.Read(context.Background())
	if err != nil {
		t.Fatalf("Read: %v", err)
	}

	_, err = file.Write(context.Background(), live, []LiveRule{fileOwnedRule("Web Team", "app.example.com", "", "http://app:80", nil)})

	if err == nil {
		t.Fatal("Write accepted an invalid owner id")
	}
	if got := string(readFileFixture(t, file.Path)); got != original {
		t.Errorf("Write changed the file despite the error:\n%s", got)
	}
	assertNoFileTemporaries(t, dir)
}

func TestFileWriteThroughSymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "real.yml")
	writeFileFixture(t, target, []byte("ingress:\n  - service: http_status:404\n"), 0o600)
	link := filepath.Join(dir, "config.yml")
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("symbolic links are not available: %v", err)
	}
	file := File{Path: link}

	fileWriteRules(t, &file, fileOwnedRule("web", "app.example.com", "", "http://app:80", nil))

	info, err := os.Lstat(link)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode()&os.ModeSymlink == 0 {
		t.Error("Write replaced the symbolic link with a regular file")
	}
	if !bytes.Contains(readFileFixture(t, target), []byte("app.example.com")) {
		t.Error("the link's target does not contain the new rule")
	}
}

func TestFileReadWriteCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	file := File{Path: filepath.Join(t.TempDir(), "config.yml")}

	if _, err := file.Read(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Read error = %v, expected context.Canceled", err)
	}
	if _, err := file.Write(ctx, State{}, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("Write error = %v, expected context.Canceled", err)
	}
	if _, err := os.Stat(file.Path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("cancelled Write created the file (stat error %v)", err)
	}
}

// writeRules reads file, writes rules followed by the default catch-all and
// returns the result.
func fileWriteRules(t *testing.T, file *File, rules ...LiveRule) FileWriteResult {
	t.Helper()
	live, err := file.Read(context.Background())
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	rules = append(rules, LiveRule{Rule: ingress.Rule{Service: ingress.DefaultCatchAll}})
	result, err := file.Write(context.Background(), live, rules)
	if err != nil {
		t.Fatalf("Write: %v", err)
	}
	return result
}

func assertNoFileTemporaries(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, entry := range entries {
		if strings.Contains(entry.Name(), ".portcullis-") {
			t.Errorf("temporary file %s was left behind", entry.Name())
		}
	}
}

func compareFileGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs:\n--- got\n%s--- expected\n%s", path, got, want)
	}
}

func writeFileFixture(t *testing.T, path string, data []byte, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, mode); err != nil {
		t.Fatal(err)
	}
	// WriteFile applies the umask, but the tests need the exact mode.
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func readFileFixture(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func fileFixtureMode(t *testing.T, path string) os.FileMode {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return info.Mode().Perm()
}

func fileFixtureChecksum(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func filePointer[T any](v T) *T { return &v }
