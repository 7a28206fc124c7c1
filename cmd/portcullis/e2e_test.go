package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/portcullis-dev/portcullis/ingress"
	"github.com/portcullis-dev/portcullis/tunnel"
)

// update makes the golden tests of the package rewrite their files.
var update = flag.Bool("update", false, "rewrite golden files")

// binary is the portcullis binary the end-to-end tests drive, built once.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "portcullis-e2e-")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "portcullis")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		panic("building portcullis: " + err.Error())
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is one run of the binary.
type result struct {
	code           int
	stdout, stderr string
}

// runBinary runs portcullis in dir with a clean, made-up environment.
func runBinary(t *testing.T, dir string, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	cmd.Env = append([]string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + t.TempDir(),
		"XDG_STATE_HOME=" + t.TempDir(),
		"NO_COLOR=1",
	}, env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if exitErr, ok := err.(*exec.ExitError); ok {
		code = exitErr.ExitCode()
	} else if err != nil {
		t.Fatalf("running portcullis: %v", err)
	}
	return result{code: code, stdout: out.String(), stderr: errOut.String()}
}

// copyTree copies a fixture folder to a temporary directory, so a run
// writes only inside the copy.
func copyTree(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.Walk(src, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if rel == filepath.Join("cloudflared", "config.yml") {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, info.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func repoPath(parts ...string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(append([]string{filepath.Dir(file), "..", ".."}, parts...)...)
}

func TestExamplePlanApplyPlan(t *testing.T) {
	dir := copyTree(t, repoPath("examples", "pa-ecosystem"))

	first := runBinary(t, dir, nil, "plan")
	if first.code != 2 {
		t.Fatalf("first plan exit = %d, want 2\nstdout:\n%s\nstderr:\n%s", first.code, first.stdout, first.stderr)
	}
	again := runBinary(t, dir, nil, "plan")
	if again.stdout != first.stdout {
		t.Errorf("plan output differs between two runs:\n%s\n---\n%s", first.stdout, again.stdout)
	}
	for _, host := range []string{"n8n.example.com", "chat.example.com", "letta.example.com", "agents.example.com"} {
		if !strings.Contains(first.stdout, "+ "+host) {
			t.Errorf("plan does not create %s:\n%s", host, first.stdout)
		}
	}

	applied := runBinary(t, dir, nil, "apply", "--yes")
	if applied.code != 0 {
		t.Fatalf("apply exit = %d\nstdout:\n%s\nstderr:\n%s", applied.code, applied.stdout, applied.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "cloudflared", "config.yml")); err != nil {
		t.Fatalf("apply wrote no config.yml: %v", err)
	}

	second := runBinary(t, dir, nil, "plan")
	if second.code != 0 || !strings.Contains(second.stdout, "No changes") {
		t.Errorf("plan after apply: exit %d, want 0 and no changes\n%s", second.code, second.stdout)
	}
	noop := runBinary(t, dir, nil, "apply", "--yes")
	if noop.code != 0 || strings.Contains(noop.stdout, "configuration written") {
		t.Errorf("second apply: exit %d, output:\n%s", noop.code, noop.stdout)
	}
}

// TestExampleRoutesRealURLs sends real URLs through the rules apply wrote,
// with cloudflared's matching semantics.
func TestExampleRoutesRealURLs(t *testing.T) {
	dir := copyTree(t, repoPath("examples", "pa-ecosystem"))
	if r := runBinary(t, dir, nil, "apply", "--yes"); r.code != 0 {
		t.Fatalf("apply exit = %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	f := &tunnel.File{Path: filepath.Join(dir, "cloudflared", "config.yml")}
	state, err := f.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	rules := make([]ingress.Rule, len(state.Rules))
	for i, r := range state.Rules {
		rules[i] = r.Rule
	}
	tests := []struct {
		url, service string
	}{
		{"https://n8n.example.com/webhook/abc", "http://n8n:5678"},
		{"https://n8n.example.com/", "http://n8n:5678"},
		{"https://chat.example.com/c/123?x=1", "http://open-webui:8080"},
		{"https://agents.example.com:443/v1/agents", "http://letta:8283"},
		{"https://letta.example.com/", "http://letta:8283"},
		{"https://db.example.com/", "http_status:404"},
		{"https://example.com/", "http_status:404"},
	}
	for _, tt := range tests {
		i, err := ingress.Match(rules, tt.url)
		if err != nil {
			t.Errorf("Match(%s): %v", tt.url, err)
			continue
		}
		if rules[i].Service != tt.service {
			t.Errorf("%s hits rule #%d %s, want %s", tt.url, i+1, rules[i].Service, tt.service)
		}
	}
	webhook, _ := ingress.Match(rules, "https://n8n.example.com/webhook-test/x")
	plain, _ := ingress.Match(rules, "https://n8n.example.com/home")
	if webhook == plain || rules[webhook].Path == "" {
		t.Errorf("webhook path hits rule #%d and the UI hits #%d, want the webhook rule (with its path) first", webhook+1, plain+1)
	}
}

func TestRefusedAliasExitsThree(t *testing.T) {
	dir := copyTree(t, repoPath("testdata", "refused-alias"))
	for _, args := range [][]string{{"plan"}, {"apply", "--yes"}, {"validate"}} {
		r := runBinary(t, dir, nil, args...)
		if r.code != 3 {
			t.Errorf("%v exit = %d, want 3\n%s%s", args, r.code, r.stdout, r.stderr)
		}
		out := r.stdout + r.stderr
		if !strings.Contains(out, "db-console") || !strings.Contains(out, "supabase-db") || !strings.Contains(out, "pgdb") {
			t.Errorf("%v output does not name both services and the alias:\n%s", args, out)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "cloudflared", "config.yml")); !os.IsNotExist(err) {
		t.Errorf("config.yml exists after a refused apply (err %v)", err)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

const smallSettings = `target: file
file:
  path: cloudflared/config.yml
  tunnel: 6ff42ae2-765d-4adf-8112-31c55c1551ef
`

// twoLabelErrors is the services section of a compose file with two label
// errors: an unknown key on line 6 and a port out of range on line 12 (line
// 7 and 13 once a name line goes first).
const twoLabelErrors = `services:
  web:
    image: nginx
    expose: ["80"]
    labels:
      portcullis.hostnmae: web.example.com
  api:
    image: nginx
    expose: ["80"]
    labels:
      portcullis.hostname: api.example.com
      portcullis.port: "99999"
`

func TestLabelErrorsWriteNothing(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "portcullis.yaml"), smallSettings)
	writeFile(t, filepath.Join(dir, "compose.yaml"), "name: bad\n"+twoLabelErrors)
	r := runBinary(t, dir, nil, "apply", "--yes")
	if r.code != 1 {
		t.Fatalf("exit = %d, want 1\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"compose.yaml", `"web"`, "portcullis.hostnmae", "portcullis.hostname", `"api"`, "99999"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr does not mention %s:\n%s", want, r.stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "cloudflared", "config.yml")); !os.IsNotExist(err) {
		t.Errorf("config.yml written despite label errors")
	}
}

func TestApplyKeepsUnmanagedRules(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "portcullis.yaml"), smallSettings)
	writeFile(t, filepath.Join(dir, "compose.yaml"), `name: keep
services:
  web:
    image: nginx
    expose: ["80"]
    labels:
      portcullis.hostname: web.example.com
`)
	existing := `# written by hand
tunnel: 6ff42ae2-765d-4adf-8112-31c55c1551ef
credentials-file: /etc/cloudflared/creds.json
loglevel: debug
ingress:
  # the legacy app
  - hostname: legacy.example.com
    service: https://legacy:8443
    originRequest:
      noTLSVerify: true
      bastionMode: false
  - service: http_status:404
`
	writeFile(t, filepath.Join(dir, "cloudflared", "config.yml"), existing)
	r := runBinary(t, dir, nil, "apply", "--yes")
	if r.code != 0 {
		t.Fatalf("exit = %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	data, err := os.ReadFile(filepath.Join(dir, "cloudflared", "config.yml"))
	if err != nil {
		t.Fatal(err)
	}
	got := string(data)
	for _, keep := range []string{"# written by hand", "loglevel: debug", "credentials-file: /etc/cloudflared/creds.json",
		"  # the legacy app\n  - hostname: legacy.example.com\n    service: https://legacy:8443\n    originRequest:\n      noTLSVerify: true\n      bastionMode: false\n"} {
		if !strings.Contains(got, keep) {
			t.Errorf("config.yml lost %q:\n%s", keep, got)
		}
	}
	web := strings.Index(got, "web.example.com")
	legacy := strings.Index(got, "legacy.example.com")
	if web < 0 || web > legacy {
		t.Errorf("owned rule not written above the unmanaged one:\n%s", got)
	}
}

func TestApplyNeedsYesWithoutTerminal(t *testing.T) {
	dir := copyTree(t, repoPath("examples", "pa-ecosystem"))
	r := runBinary(t, dir, nil, "apply")
	if r.code != 1 || !strings.Contains(r.stderr, "--yes") {
		t.Errorf("exit = %d, stderr:\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "cloudflared", "config.yml")); !os.IsNotExist(err) {
		t.Errorf("config.yml written without confirmation")
	}
}

func TestPlanDetailedExitcodeOff(t *testing.T) {
	dir := copyTree(t, repoPath("examples", "pa-ecosystem"))
	if r := runBinary(t, dir, nil, "plan", "--detailed-exitcode=false"); r.code != 0 {
		t.Errorf("exit = %d, want 0 with pending changes and --detailed-exitcode=false", r.code)
	}
}

func TestPlanJSONIsVersioned(t *testing.T) {
	dir := copyTree(t, repoPath("examples", "pa-ecosystem"))
	r := runBinary(t, dir, nil, "plan", "-o", "json")
	if r.code != 2 || !strings.HasPrefix(r.stdout, "{\n  \"format_version\": 1") {
		t.Errorf("exit = %d, output starts %.80q", r.code, r.stdout)
	}
}

func TestSecretThroughDotEnvNeverPrinted(t *testing.T) {
	const secret = "made-up-secret-value-77"
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "portcullis.yaml"), smallSettings)
	writeFile(t, filepath.Join(dir, ".env"), "MYHOST=${CLOUDFLARE_API_TOKEN}\n")
	writeFile(t, filepath.Join(dir, "compose.yaml"), `name: leak
services:
  web:
    image: nginx
    expose: ["80"]
    labels:
      portcullis.hostname: web.example.com
      portcullis.path: /${MYHOST}
      portcullis.origin.httpHostHeader: ${MYHOST}
`)
	summary := filepath.Join(dir, "summary.md")
	for _, format := range []string{"text", "json", "markdown", "github"} {
		out := filepath.Join(dir, "out."+format)
		r := runBinary(t, dir, []string{"CLOUDFLARE_API_TOKEN=" + secret, "GITHUB_STEP_SUMMARY=" + summary},
			"plan", "-o", format, "--output-file", out)
		if r.code != 1 {
			t.Errorf("-o %s exit = %d, want 1", format, r.code)
		}
		written, _ := os.ReadFile(out)
		if strings.Contains(r.stdout+r.stderr+string(written), secret) {
			t.Errorf("-o %s prints the secret", format)
		}
		if !strings.Contains(r.stdout+r.stderr, "CLOUDFLARE_API_TOKEN") {
			t.Errorf("-o %s does not name the variable:\n%s%s", format, r.stdout, r.stderr)
		}
	}
	if data, _ := os.ReadFile(summary); strings.Contains(string(data), secret) {
		t.Error("the step summary contains the secret")
	}
}
