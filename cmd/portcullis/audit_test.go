package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/portcullis-dev/portcullis/ingress"
)

// runInProcess runs portcullis in this process with a made-up environment
// that holds no token, so no target is contacted.
func runInProcess(t *testing.T, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	s := &streams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut, NoColor: true}
	environ := []string{"HOME=" + t.TempDir(), "XDG_STATE_HOME=" + t.TempDir()}
	code := run(context.Background(), args, s, environ)
	return result{code: code, stdout: out.String(), stderr: errOut.String()}
}

// TestAuditFixtures runs audit on every folder of testdata/audit and
// compares the exit code and the text output with golden.txt. A folder may
// hold an args file with extra arguments, one a line.
func TestAuditFixtures(t *testing.T) {
	dirs, err := filepath.Glob(repoPath("testdata", "audit", "*", "compose.yaml"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no audit fixtures found (err %v)", err)
	}
	for _, compose := range dirs {
		dir := filepath.Dir(compose)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			args := []string{"--project-directory", dir, "audit"}
			if extra, err := os.ReadFile(filepath.Join(dir, "args")); err == nil {
				args = append(args, strings.Fields(string(extra))...)
			}
			r := runInProcess(t, args...)
			got := "exit: " + strconv.Itoa(r.code) + "\n" + r.stdout
			compareAuditGolden(t, filepath.Join(dir, "golden.txt"), got)
		})
	}
}

func compareAuditGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (run go test -update to accept):\n--- got\n%s--- want\n%s", path, got, want)
	}
}

// TestAuditFixtureKinds checks that each single-kind fixture reports its
// own kind, so a golden file accepted by mistake still fails here.
func TestAuditFixtureKinds(t *testing.T) {
	tests := []struct {
		dir      string
		kind     ingress.AuditKind
		exitCode int
	}{
		{"published-port", ingress.KindPublishedPort, exitViolation},
		{"host-network", ingress.KindHostNetwork, exitViolation},
		{"shared-namespace", ingress.KindSharedNamespace, exitOK},
		{"no-shared-network", ingress.KindNoSharedNetwork, exitNotInForce},
		{"cloudflared-internal-network", ingress.KindCloudflaredIsolated, exitNotInForce},
		{"cloudflared-missing", ingress.KindCloudflaredMissing, exitOK},
		{"gate-violation", ingress.KindGateViolation, exitViolation},
		{"unknown-origin", ingress.KindUnknownOrigin, exitOK},
		{"unknown-origin-strict", ingress.KindUnknownOrigin, exitNotInForce},
		{"inactive-origin", ingress.KindInactiveOrigin, exitNotInForce},
		{"live-internal", ingress.KindLiveInternal, exitViolation},
		{"live-undefined-service", ingress.KindLiveUndefinedService, exitOK},
		{"invalid-label", ingress.KindInvalidLabel, exitNotInForce},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			dir := repoPath("testdata", "audit", tt.dir)
			args := []string{"--project-directory", dir, "-o", "json", "audit"}
			if extra, err := os.ReadFile(filepath.Join(dir, "args")); err == nil {
				args = append(args, strings.Fields(string(extra))...)
			}
			r := runInProcess(t, args...)
			if r.code != tt.exitCode {
				t.Errorf("exit = %d, want %d\n%s%s", r.code, tt.exitCode, r.stdout, r.stderr)
			}
			report := decodeAuditReport(t, r.stdout)
			if !hasAuditKind(report, tt.kind) {
				t.Errorf("no %s finding in:\n%s", tt.kind, r.stdout)
			}
		})
	}
}

func decodeAuditReport(t *testing.T, text string) ingress.AuditReport {
	t.Helper()
	var report ingress.AuditReport
	if err := json.Unmarshal([]byte(text), &report); err != nil {
		t.Fatalf("audit JSON does not parse: %v\n%s", err, text)
	}
	if report.FormatVersion != ingress.AuditFormatVersion {
		t.Errorf("format_version = %d, want %d", report.FormatVersion, ingress.AuditFormatVersion)
	}
	return report
}

func hasAuditKind(r ingress.AuditReport, kind ingress.AuditKind) bool {
	for _, f := range r.Findings {
		if f.Kind == kind {
			return true
		}
	}
	return false
}

// TestAuditBrokenHasEveryKind checks that the broken variant reports every
// kind a single project can show at once.
func TestAuditBrokenHasEveryKind(t *testing.T) {
	r := runInProcess(t, "--project-directory", repoPath("testdata", "audit", "broken"), "-o", "json", "audit")
	if r.code != exitViolation {
		t.Errorf("exit = %d, want %d", r.code, exitViolation)
	}
	report := decodeAuditReport(t, r.stdout)
	for _, kind := range []ingress.AuditKind{
		ingress.KindPublishedPort, ingress.KindHostNetwork, ingress.KindSharedNamespace,
		ingress.KindNoSharedNetwork, ingress.KindCloudflaredIsolated, ingress.KindGateViolation,
		ingress.KindUnknownOrigin, ingress.KindInactiveOrigin, ingress.KindLiveInternal,
		ingress.KindLiveRevokedViolations, ingress.KindLiveUndefinedService, ingress.KindInvalidLabel,
	} {
		if !hasAuditKind(report, kind) {
			t.Errorf("broken variant has no %s finding", kind)
		}
	}
}

// TestAuditExampleClean audits the example stack before and after apply:
// no errors either time, and the live rules are read after apply.
func TestAuditExampleClean(t *testing.T) {
	dir := copyTree(t, repoPath("examples", "pa-ecosystem"))

	before := runBinary(t, dir, nil, "audit")
	if before.code != exitOK {
		t.Fatalf("audit before apply: exit %d\n%s%s", before.code, before.stdout, before.stderr)
	}
	if r := runBinary(t, dir, nil, "apply", "--yes"); r.code != exitOK {
		t.Fatalf("apply: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	after := runBinary(t, dir, nil, "-o", "json", "audit")
	if after.code != exitOK {
		t.Fatalf("audit after apply: exit %d\n%s%s", after.code, after.stdout, after.stderr)
	}
	report := decodeAuditReport(t, after.stdout)
	if report.Target != "file" || report.LiveRules == 0 {
		t.Errorf("live rules not checked after apply: target %q, %d rules", report.Target, report.LiveRules)
	}
	if report.Summary.Errors != 0 {
		t.Errorf("example has %d errors:\n%s", report.Summary.Errors, after.stdout)
	}
}

// TestAuditAPITargetWithoutToken checks that an unreadable live state is a
// note, not a failure: the compose checks still run.
func TestAuditAPITargetWithoutToken(t *testing.T) {
	r := runInProcess(t, "--project-directory", repoPath("testdata", "audit", "clean"), "--target", "api", "-o", "json", "audit")
	if r.code != exitOK {
		t.Fatalf("exit = %d, want 0\n%s%s", r.code, r.stdout, r.stderr)
	}
	report := decodeAuditReport(t, r.stdout)
	if !hasAuditKind(report, ingress.KindLiveNotChecked) {
		t.Errorf("no note that the live rules were not checked:\n%s", r.stdout)
	}
	if report.Target != "" {
		t.Errorf("target = %q, want empty when nothing was read", report.Target)
	}
}

func TestAuditExitCodeOnLoadFailure(t *testing.T) {
	r := runInProcess(t, "--project-directory", t.TempDir(), "audit")
	if r.code != exitError {
		t.Errorf("exit = %d, want %d for a folder without compose files\n%s%s", r.code, exitError, r.stdout, r.stderr)
	}
}

func TestAuditRejectsUnknownFormat(t *testing.T) {
	r := runInProcess(t, "--project-directory", repoPath("testdata", "audit", "clean"), "-o", "yaml", "audit")
	if r.code != exitError {
		t.Errorf("exit = %d, want %d", r.code, exitError)
	}
}

// TestAuditExitCodeSameForEveryFormat checks that the output format changes
// only what audit prints, never its exit code.
func TestAuditExitCodeSameForEveryFormat(t *testing.T) {
	fixtures := map[string]int{"clean": exitOK, "broken": exitViolation, "invalid-label": exitNotInForce, "shared-namespace": exitOK}
	for fixture, want := range fixtures {
		dir := repoPath("testdata", "audit", fixture)
		for _, format := range []string{"text", "json", "markdown", "github"} {
			t.Run(fixture+"/"+format, func(t *testing.T) {
				r := runInProcess(t, "--project-directory", dir, "-o", format, "audit")
				if r.code != want {
					t.Errorf("exit = %d, want %d\n%s%s", r.code, want, r.stdout, r.stderr)
				}
			})
		}
	}
}
