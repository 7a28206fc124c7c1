package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	portsync "github.com/portcullis-dev/portcullis/sync"
	"github.com/portcullis-dev/portcullis/tunnel/emulator"
)

// The end-to-end tests of plan as a CI step: formats, annotation
// positions, secrets, offline plans, and the saved-plan workflow of
// docs/ci.md against the API emulator.

const (
	ciAccount = "c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1"
	// ciToken is a made-up token; the tests check that its value never
	// reaches any output.
	ciToken = "made-up-ci-token-3f7d9a2b"
)

// ciWorld is an emulated Cloudflare account with the zone example.com and
// one remotely-managed tunnel, and a copy of the example stack to run in.
type ciWorld struct {
	e      *emulator.Emulator
	base   string
	zone   emulator.Zone
	tunnel emulator.Tunnel
	dir    string
	state  string
}

func newCIWorld(t *testing.T) *ciWorld {
	t.Helper()
	e := emulator.New()
	e.AddToken(ciToken, emulator.AllPermissions()...)
	w := &ciWorld{e: e, dir: copyTree(t, repoPath("examples", "pa-ecosystem")), state: t.TempDir()}
	w.zone = e.AddZone(ciAccount, "example.com")
	w.tunnel = e.AddTunnel(ciAccount, "pa", "cloudflare")
	w.base = e.Start(t)
	return w
}

// env is the environment docs/ci.md sets in the workflow, pointed at the
// emulator.
func (w *ciWorld) env(extra ...string) []string {
	return append([]string{
		"PORTCULLIS_TARGET=api",
		"PORTCULLIS_CLOUDFLARE_API_BASE_URL=" + w.base,
		"CLOUDFLARE_ACCOUNT_ID=" + ciAccount,
		"PORTCULLIS_CLOUDFLARE_TUNNEL=" + w.tunnel.ID,
		"CLOUDFLARE_API_TOKEN=" + ciToken,
		"XDG_STATE_HOME=" + w.state,
	}, extra...)
}

func (w *ciWorld) run(t *testing.T, args ...string) result {
	t.Helper()
	return runBinary(t, w.dir, w.env(), args...)
}

// ingress returns the tunnel's ingress rules as decoded JSON objects.
func (w *ciWorld) ingress(t *testing.T) []map[string]any {
	t.Helper()
	_, config := w.e.Config(w.tunnel.ID)
	if config == nil {
		return nil
	}
	var doc struct {
		Ingress []map[string]any `json:"ingress"`
	}
	if err := json.Unmarshal(config, &doc); err != nil {
		t.Fatalf("decode tunnel configuration: %v", err)
	}
	return doc.Ingress
}

// setIngress replaces the tunnel's rules as another writer would.
func (w *ciWorld) setIngress(t *testing.T, rules []map[string]any) {
	t.Helper()
	config, err := json.Marshal(map[string]any{"ingress": rules})
	if err != nil {
		t.Fatal(err)
	}
	w.e.SetConfig(w.tunnel.ID, config)
}

func (w *ciWorld) version() int64 {
	v, _ := w.e.Config(w.tunnel.ID)
	return v
}

// editCompose replaces old with new in the stack's compose.yaml, as a
// pull request would.
func (w *ciWorld) editCompose(t *testing.T, old, new string) {
	t.Helper()
	path := filepath.Join(w.dir, "compose.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), old) {
		t.Fatalf("compose.yaml does not contain %q", old)
	}
	writeFile(t, path, strings.Replace(string(data), old, new, 1))
}

func ruleServices(rules []map[string]any) map[string]string {
	out := map[string]string{}
	for _, r := range rules {
		host, _ := r["hostname"].(string)
		path, _ := r["path"].(string)
		service, _ := r["service"].(string)
		out[host+path] = service
	}
	return out
}

func recordNames(records []emulator.Record) []string {
	var out []string
	for _, r := range records {
		out = append(out, r.Type+" "+r.Name+" "+r.Comment)
	}
	slices.Sort(out)
	return out
}

func requireExit(t *testing.T, what string, r result, want int) {
	t.Helper()
	if r.code != want {
		t.Fatalf("%s exit = %d, want %d\nstdout:\n%s\nstderr:\n%s", what, r.code, want, r.stdout, r.stderr)
	}
}

// TestCIWorkflowSavedPlan follows the workflow of docs/ci.md: plan and save
// on the pull request, apply the saved plan after the merge, and reject a
// saved plan whose hostnames changed in the meantime.
func TestCIWorkflowSavedPlan(t *testing.T) {
	w := newCIWorld(t)
	summary := filepath.Join(t.TempDir(), "summary.md")

	// Pull request: plan, save, comment.
	planned := runBinary(t, w.dir, w.env("GITHUB_STEP_SUMMARY="+summary), "plan", "--save", "plan.json", "-o", "markdown", "--output-file", "plan.md")
	requireExit(t, "plan on the pull request", planned, 2)
	if w.version() != 0 || len(w.e.Records(w.zone.ID)) != 0 {
		t.Fatalf("plan wrote to the tunnel or DNS: version %d, records %v", w.version(), recordNames(w.e.Records(w.zone.ID)))
	}
	comment, err := os.ReadFile(filepath.Join(w.dir, "plan.md"))
	if err != nil || !strings.HasPrefix(string(comment), portsync.MarkdownTitle) {
		t.Fatalf("plan.md = %q (err %v), want the Markdown summary", comment, err)
	}
	if got, err := os.ReadFile(summary); err != nil || string(got) != string(comment) {
		t.Errorf("job summary differs from the Markdown plan (err %v):\n%s", err, got)
	}

	// Merge: apply exactly the saved plan.
	applied := w.run(t, "apply", "plan.json", "--yes")
	requireExit(t, "apply of the saved plan", applied, 0)
	rules := ruleServices(w.ingress(t))
	for _, host := range []string{"n8n.example.com", "chat.example.com", "letta.example.com", "agents.example.com", "graphiti.example.com"} {
		if rules[host] == "" {
			t.Errorf("after apply the tunnel has no rule for %s: %v", host, rules)
		}
	}
	if got := len(w.e.Records(w.zone.ID)); got != 5 {
		t.Errorf("after apply the zone has %d records, want 5 marked CNAMEs: %v", got, recordNames(w.e.Records(w.zone.ID)))
	}
	if again := w.run(t, "plan"); again.code != 0 {
		t.Errorf("plan after applying the saved plan exit = %d, want 0\n%s", again.code, again.stdout)
	}

	// A saved plan needs --yes without a terminal, and writes nothing.
	w.editCompose(t, `portcullis.hostname: chat.example.com`, `portcullis.hostname: chat.example.com,talk.example.com`)
	requireExit(t, "plan --save of a second change", w.run(t, "plan", "--save", "plan.json"), 2)
	before := w.version()
	noYes := w.run(t, "apply", "plan.json")
	requireExit(t, "apply of a saved plan without --yes", noYes, 1)
	if !strings.Contains(noYes.stderr, "--yes") || w.version() != before {
		t.Errorf("apply without --yes: stderr %q, version %d → %d", noYes.stderr, before, w.version())
	}

	// Someone changes an unrelated rule: the saved plan still applies, and
	// the unrelated change survives.
	current := w.ingress(t)
	unrelated := map[string]any{"hostname": "manual.example.com", "service": "http://manual:80"}
	w.setIngress(t, slices.Insert(slices.Clone(current), len(current)-1, unrelated))
	applied = w.run(t, "apply", "plan.json", "--yes")
	requireExit(t, "apply after an unrelated change", applied, 0)
	rules = ruleServices(w.ingress(t))
	if rules["manual.example.com"] != "http://manual:80" || rules["talk.example.com"] != "http://open-webui:8080" {
		t.Errorf("after apply: manual %q, talk %q; want both rules", rules["manual.example.com"], rules["talk.example.com"])
	}
}

func TestCISavedPlanRejectedWhenStale(t *testing.T) {
	tests := []struct {
		name string
		// change alters the tunnel or DNS after the plan was saved.
		change func(t *testing.T, w *ciWorld)
		want   string
	}{
		{
			name: "touched rule changed",
			change: func(t *testing.T, w *ciWorld) {
				rules := w.ingress(t)
				for _, r := range rules {
					if r["hostname"] == "chat.example.com" {
						r["service"] = "http://open-webui:9999"
					}
				}
				w.setIngress(t, rules)
			},
			want: "ingress rules of chat.example.com changed",
		},
		{
			name: "record added for a created hostname",
			change: func(_ *testing.T, w *ciWorld) {
				w.e.AddRecord(w.zone.ID, emulator.Record{Type: "A", Name: "talk.example.com", Content: "192.0.2.10"})
			},
			want: "DNS records of talk.example.com changed",
		},
		{
			name: "other tunnel",
			change: func(_ *testing.T, w *ciWorld) {
				w.tunnel = w.e.AddTunnel(ciAccount, "other", "cloudflare")
			},
			want: "the tunnel is",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newCIWorld(t)
			requireExit(t, "first apply", w.run(t, "apply", "--yes"), 0)
			w.editCompose(t, `portcullis.hostname: chat.example.com`, `portcullis.hostname: chat.example.com,talk.example.com`)
			w.editCompose(t, `portcullis.port: "8080"`, `portcullis.port: "8081"`)
			requireExit(t, "plan --save", w.run(t, "plan", "--save", "plan.json"), 2)

			tc.change(t, w)
			version, config := w.e.Config(w.tunnel.ID)
			records := recordNames(w.e.Records(w.zone.ID))

			r := w.run(t, "apply", "plan.json", "--yes")
			requireExit(t, "apply of the stale plan", r, 4)
			if !strings.Contains(r.stderr, tc.want) || !strings.Contains(r.stderr, "nothing was written") {
				t.Errorf("stderr does not say %q and that nothing was written:\n%s", tc.want, r.stderr)
			}
			if v, c := w.e.Config(w.tunnel.ID); v != version || string(c) != string(config) {
				t.Errorf("the stale plan changed the tunnel configuration: version %d → %d", version, v)
			}
			if got := recordNames(w.e.Records(w.zone.ID)); !slices.Equal(got, records) {
				t.Errorf("the stale plan changed DNS:\n got %v\nwant %v", got, records)
			}
		})
	}
}

func TestCISavedPlanGuards(t *testing.T) {
	w := newCIWorld(t)
	writeFile(t, filepath.Join(w.dir, "plain.json"), `{"format_version": 1, "target": "api"}`)
	r := w.run(t, "apply", "plain.json", "--yes")
	requireExit(t, "apply of a plan without a saved section", r, 1)
	if !strings.Contains(r.stderr, "plan --save") {
		t.Errorf("stderr does not point to plan --save:\n%s", r.stderr)
	}

	requireExit(t, "plan --save", w.run(t, "plan", "--save", "plan.json"), 2)
	r = w.run(t, "apply", "plan.json", "--yes", "--adopt", "n8n.example.com")
	requireExit(t, "apply of a saved plan with --adopt", r, 1)
	r = w.run(t, "apply", "plan.json", "--yes", "--owner-id", "someone-else")
	requireExit(t, "apply of a saved plan with another owner id", r, 4)
	if !strings.Contains(r.stderr, "the owner id") {
		t.Errorf("stderr does not name the owner id:\n%s", r.stderr)
	}
	if w.version() != 0 {
		t.Errorf("a rejected saved plan wrote the configuration (version %d)", w.version())
	}
}

func TestCISavedPlanWithViolationExitsThree(t *testing.T) {
	dir := copyTree(t, repoPath("testdata", "ci", "violation"))
	requireExit(t, "plan --save", runBinary(t, dir, nil, "plan", "--save", "plan.json"), 3)
	r := runBinary(t, dir, nil, "apply", "plan.json", "--yes")
	requireExit(t, "apply of a saved plan with a violation", r, 3)
	if _, err := os.Stat(filepath.Join(dir, "cloudflared", "config.yml")); !os.IsNotExist(err) {
		t.Errorf("config.yml written from a plan with a violation (err %v)", err)
	}
}

func TestCISavedPlanFileTarget(t *testing.T) {
	dir := copyTree(t, repoPath("examples", "pa-ecosystem"))
	requireExit(t, "plan --save", runBinary(t, dir, nil, "plan", "--save", "plan.json"), 2)
	requireExit(t, "apply plan.json", runBinary(t, dir, nil, "apply", "plan.json", "--yes"), 0)
	requireExit(t, "plan after apply", runBinary(t, dir, nil, "plan"), 0)

	writeFile(t, filepath.Join(dir, "compose.yaml"), strings.Replace(readText(t, filepath.Join(dir, "compose.yaml")), "portcullis.port: \"8080\"", "portcullis.port: \"8081\"", 1))
	requireExit(t, "plan --save of a change", runBinary(t, dir, nil, "plan", "--save", "plan.json"), 2)
	config := filepath.Join(dir, "cloudflared", "config.yml")
	writeFile(t, config, strings.Replace(readText(t, config), "http://open-webui:8080", "http://open-webui:7000", 1))
	r := runBinary(t, dir, nil, "apply", "plan.json", "--yes")
	requireExit(t, "apply of a stale saved plan", r, 4)
	if !strings.Contains(readText(t, config), "http://open-webui:7000") {
		t.Error("a stale saved plan rewrote config.yml")
	}
}

func readText(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestCIPlanFormatsExitCodes(t *testing.T) {
	dir := copyTree(t, repoPath("examples", "pa-ecosystem"))
	for _, format := range portsync.Formats {
		t.Run(format, func(t *testing.T) {
			first := runBinary(t, dir, nil, "plan", "-o", format)
			requireExit(t, "plan", first, 2)
			if again := runBinary(t, dir, nil, "plan", "-o", format); again.stdout != first.stdout {
				t.Errorf("output differs between two runs:\n%s\n---\n%s", first.stdout, again.stdout)
			}
			requireExit(t, "plan --detailed-exitcode=false", runBinary(t, dir, nil, "plan", "-o", format, "--detailed-exitcode=false"), 0)

			violation := copyTree(t, repoPath("testdata", "ci", "violation"))
			requireExit(t, "plan with a violation", runBinary(t, violation, nil, "plan", "-o", format, "--detailed-exitcode=false"), 3)
			bad := copyTree(t, repoPath("testdata", "ci", "main-label-error"))
			requireExit(t, "plan with a label error", runBinary(t, bad, nil, "plan", "-o", format), 1)
		})
	}
	if r := runBinary(t, dir, nil, "plan", "-o", "yaml"); r.code != 1 || !strings.Contains(r.stderr, "markdown") {
		t.Errorf("plan -o yaml: exit %d, stderr %q; want 1 and the list of formats", r.code, r.stderr)
	}
}

// labelLine returns the line of the first line of file that contains key,
// as the annotation must name it.
func labelLine(t *testing.T, file, key string) int {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	scanner := bufio.NewScanner(f)
	for n := 1; scanner.Scan(); n++ {
		if strings.Contains(scanner.Text(), key+":") {
			return n
		}
	}
	t.Fatalf("%s has no label %s", file, key)
	return 0
}

func TestCIGitHubAnnotationLines(t *testing.T) {
	tests := []struct {
		name    string
		fixture string
		args    []string
		// file is the compose file that holds the label, relative to the
		// fixture; key is the label.
		file, key string
		code      int
	}{
		{name: "main file", fixture: "main-label-error", file: "compose.yaml", key: "portcullis.hostnmae", code: 1},
		{name: "override file", fixture: "override-label-error", args: []string{"-f", "compose.yaml", "-f", "override.yaml"}, file: "override.yaml", key: "portcullis.port", code: 1},
		{name: "included file", fixture: "include-label-error", file: "sub/compose.yaml", key: "portcullis.scheme", code: 1},
		{name: "violation", fixture: "violation", file: "compose.yaml", key: "portcullis.service", code: 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := repoPath("testdata", "ci", tc.fixture)
			line := labelLine(t, filepath.Join(src, tc.file), tc.key)

			// Run at the fixture, the repository root in CI.
			dir := copyTree(t, src)
			r := runBinary(t, dir, nil, append(append([]string{}, tc.args...), "plan", "-o", "github")...)
			requireExit(t, "plan -o github", r, tc.code)
			want := "::error file=" + tc.file + ",line=" + strconv.Itoa(line) + ",title="
			if !strings.HasPrefix(r.stdout, want) {
				t.Errorf("stdout does not start with %q:\n%s", want, r.stdout)
			}

			// Run from a parent folder with --project-directory: the path is
			// relative to the working directory.
			parent := t.TempDir()
			stack := filepath.Join(parent, "stack")
			if err := os.Rename(copyTree(t, src), stack); err != nil {
				t.Fatal(err)
			}
			// -f paths are relative to the working directory, as in docker
			// compose, so they name the stack folder.
			args := append([]string{}, tc.args...)
			for i := 1; i < len(args); i++ {
				if args[i-1] == "-f" {
					args[i] = filepath.Join("stack", args[i])
				}
			}
			r = runBinary(t, parent, nil, append(append([]string{"--project-directory", "stack"}, args...), "plan", "-o", "github")...)
			requireExit(t, "plan -o github from the parent folder", r, tc.code)
			want = "::error file=stack/" + tc.file + ",line=" + strconv.Itoa(line) + ",title="
			if !strings.HasPrefix(r.stdout, want) {
				t.Errorf("stdout does not start with %q:\n%s", want, r.stdout)
			}
		})
	}
}

func TestCIGitHubLabelErrorsOnePerError(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "portcullis.yaml"), smallSettings)
	writeFile(t, filepath.Join(dir, "compose.yaml"), "name: two\n"+twoLabelErrors)
	r := runBinary(t, dir, nil, "plan", "-o", "github")
	requireExit(t, "plan -o github", r, 1)
	want := []string{"::error file=compose.yaml,line=13,", "::error file=compose.yaml,line=7,"}
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if len(lines) != len(want) {
		t.Fatalf("got %d annotation lines, want %d:\n%s", len(lines), len(want), r.stdout)
	}
	for _, prefix := range want {
		if !slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, prefix) }) {
			t.Errorf("no annotation starts with %q:\n%s", prefix, r.stdout)
		}
	}
}

// TestCISecretNeverPrinted runs every format on a label that interpolates
// the API token and on a successful plan with the token set, and checks
// that the token's value reaches no output, file or saved plan.
func TestCISecretNeverPrinted(t *testing.T) {
	w := newCIWorld(t)
	secretDir := copyTree(t, repoPath("testdata", "ci", "secret"))
	for _, format := range portsync.Formats {
		for _, tc := range []struct {
			name string
			dir  string
			args []string
			code int
		}{
			{name: "label interpolates the token", dir: secretDir, args: []string{"plan", "--offline"}, code: 1},
			{name: "plan with the token", dir: w.dir, args: []string{"plan", "--save", "saved.json"}, code: 2},
		} {
			t.Run(format+"/"+tc.name, func(t *testing.T) {
				out := t.TempDir()
				outputFile := filepath.Join(out, "plan.out")
				summary := filepath.Join(out, "summary.md")
				args := append(append([]string{}, tc.args...), "-o", format, "--output-file", outputFile)
				r := runBinary(t, tc.dir, w.env("GITHUB_STEP_SUMMARY="+summary), args...)
				requireExit(t, strings.Join(args, " "), r, tc.code)

				texts := map[string]string{"stdout": r.stdout, "stderr": r.stderr}
				for _, path := range []string{outputFile, summary, filepath.Join(tc.dir, "saved.json")} {
					if data, err := os.ReadFile(path); err == nil {
						texts[filepath.Base(path)] = string(data)
					}
				}
				if tc.code == 1 && !strings.Contains(r.stderr, "CLOUDFLARE_API_TOKEN") {
					t.Errorf("the error does not name the variable:\n%s", r.stderr)
				}
				if _, ok := texts["summary.md"]; !ok {
					t.Error("no job summary was written")
				}
				for name, text := range texts {
					if strings.Contains(text, ciToken) {
						t.Errorf("%s contains the token's value:\n%s", name, text)
					}
				}
			})
		}
	}
}

func TestCIPlanOffline(t *testing.T) {
	w := newCIWorld(t)
	requireExit(t, "apply", w.run(t, "apply", "--yes"), 0)
	snapshot := w.run(t, "status", "-o", "json")
	requireExit(t, "status -o json", snapshot, 0)
	writeFile(t, filepath.Join(w.dir, "live.json"), snapshot.stdout)
	calls := w.e.CallCount()

	// No token, no account, and an API base URL nothing listens on: an
	// offline plan must not need or contact any of them.
	offlineEnv := []string{"PORTCULLIS_TARGET=api", "PORTCULLIS_CLOUDFLARE_API_BASE_URL=http://127.0.0.1:1/client/v4"}
	r := runBinary(t, w.dir, offlineEnv, "plan", "--offline", "--live", "live.json")
	requireExit(t, "plan --offline --live", r, 0)
	if !strings.Contains(r.stdout, "No changes") {
		t.Errorf("offline plan against the snapshot of an applied stack shows changes:\n%s", r.stdout)
	}

	r = runBinary(t, w.dir, offlineEnv, "plan", "--offline")
	requireExit(t, "plan --offline", r, 2)
	for _, want := range []string{"+ n8n.example.com", "empty state"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("offline plan against an empty state lacks %q:\n%s", want, r.stdout)
		}
	}
	if w.e.CallCount() != calls {
		t.Errorf("offline plans made %d API calls", w.e.CallCount()-calls)
	}

	w.editCompose(t, `portcullis.port: "8080"`, `portcullis.port: "8081"`)
	requireExit(t, "plan --offline --live --save", runBinary(t, w.dir, offlineEnv, "plan", "--offline", "--live", "live.json", "--save", "plan.json"), 2)
	requireExit(t, "apply of the offline-saved plan", w.run(t, "apply", "plan.json", "--yes"), 0)
	if got := ruleServices(w.ingress(t))["chat.example.com"]; got != "http://open-webui:8081" {
		t.Errorf("chat.example.com → %q after applying the offline-saved plan, want port 8081", got)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"plan", "--live", "live.json"}, "--live needs --offline"},
		{[]string{"plan", "--offline", "--save", "plan.json"}, "--save with --offline needs --live"},
		{[]string{"plan", "--offline", "--live", "missing.json"}, "read --live snapshot"},
		{[]string{"plan", "--offline", "--live", "compose.yaml"}, "invalid JSON"},
	} {
		r := runBinary(t, w.dir, offlineEnv, tc.args...)
		if r.code != 1 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 1 and %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
}

// TestCIExamplePlanSummary renders the Markdown plan of the example stack
// with the real binary and compares it with docs/examples/plan-summary.md,
// which -update rewrites. The emulated tunnel already has an outdated owned
// route, an owned route compose no longer declares and a rule added by hand.
func TestCIExamplePlanSummary(t *testing.T) {
	w := newCIWorld(t)
	marker := "portcullis:v1 owner=pa-ecosystem"
	w.setIngress(t, []map[string]any{
		{"hostname": "chat.example.com", "service": "http://open-webui:3000"},
		{"hostname": "old.example.com", "service": "http://old-wiki:80"},
		{"hostname": "status.example.com", "service": "http://uptime-kuma:3001"},
		{"service": "http_status:404"},
	})
	for _, host := range []string{"chat.example.com", "old.example.com"} {
		w.e.AddRecord(w.zone.ID, emulator.Record{Type: "CNAME", Name: host, Content: w.tunnel.ID + ".cfargotunnel.com", Proxied: true, Comment: marker})
	}

	r := w.run(t, "plan", "-o", "markdown")
	requireExit(t, "plan -o markdown", r, 2)

	path := repoPath("docs", "examples", "plan-summary.md")
	if *update {
		writeFile(t, path, r.stdout)
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read the example (go test ./cmd/portcullis/ -run TestCIExamplePlanSummary -update writes it): %v", err)
	}
	if string(want) != r.stdout {
		t.Errorf("docs/examples/plan-summary.md is out of date (run go test ./cmd/portcullis/ -run TestCIExamplePlanSummary -update):\n%s", r.stdout)
	}
}

// TestCIDocsUseDocumentedFlags checks every portcullis command line of
// docs/ci.md against the flags the commands define, so the documented
// workflows cannot drift from the CLI.
func TestCIDocsUseDocumentedFlags(t *testing.T) {
	text := readText(t, repoPath("docs", "ci.md"))
	root := newCmdRoot(&globalOptions{streams: &streams{}})

	checked := 0
	for _, line := range strings.Split(text, "\n") {
		fields := strings.Fields(line)
		for i, field := range fields {
			if !strings.HasSuffix(field, "portcullis") || i+1 >= len(fields) || strings.HasPrefix(fields[i+1], "-") {
				continue
			}
			cmd, _, err := root.Find(fields[i+1 : i+2])
			if err != nil || cmd == root {
				continue
			}
			checked++
			for _, arg := range fields[i+2:] {
				if arg == "||" || arg == "|" || arg == ";" || arg == "#" || strings.HasPrefix(arg, "`") {
					break
				}
				// A code span in prose ends with a backtick.
				arg, spanEnds := strings.CutSuffix(arg, "`")
				if problem := undefinedDocFlag(cmd, arg); problem != "" {
					t.Errorf("docs/ci.md: %q: %s", line, problem)
				}
				if spanEnds {
					break
				}
			}
		}
	}
	if checked < 10 {
		t.Errorf("found %d portcullis command lines in docs/ci.md, expected the workflows' commands", checked)
	}
}

// undefinedDocFlag returns why arg is a flag cmd does not define, or "".
func undefinedDocFlag(cmd *cobra.Command, arg string) string {
	name, long := strings.CutPrefix(arg, "--")
	if long {
		name, _, _ = strings.Cut(name, "=")
		// cobra adds --help when a command runs.
		if name == "help" {
			return ""
		}
		if cmd.Flags().Lookup(name) == nil && cmd.InheritedFlags().Lookup(name) == nil {
			return fmt.Sprintf("%s does not define --%s", cmd.Name(), name)
		}
		return ""
	}
	short, ok := strings.CutPrefix(arg, "-")
	if !ok || len(short) != 1 {
		return ""
	}
	if cmd.Flags().ShorthandLookup(short) == nil && cmd.InheritedFlags().ShorthandLookup(short) == nil {
		return fmt.Sprintf("%s does not define -%s", cmd.Name(), short)
	}
	return ""
}
