package sync

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portcullis-dev/portcullis/ingress"
)

var update = flag.Bool("update", false, "rewrite golden files")

const renderTestdata = "../testdata/render"

func TestRenderGolden(t *testing.T) {
	for _, tc := range renderCases {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.plan()
			p.Sort()

			document, err := MarshalPlan(p)
			if err != nil {
				t.Fatalf("MarshalPlan: %v", err)
			}
			compareGolden(t, filepath.Join(renderTestdata, tc.name+".json"), document)
			compareGolden(t, filepath.Join(renderTestdata, tc.name+".txt"), renderToBytes(t, FormatText, RenderOptions{}, p))
		})
	}
}

func TestRenderJSONMatchesMarshalPlan(t *testing.T) {
	p := fullPlan()
	p.Sort()

	document, err := MarshalPlan(p)
	if err != nil {
		t.Fatalf("MarshalPlan: %v", err)
	}
	rendered := renderToBytes(t, FormatJSON, RenderOptions{}, p)
	if !bytes.Equal(rendered, document) {
		t.Errorf("json renderer output differs from MarshalPlan:\n%s", firstDifference(document, rendered))
	}
}

func TestRenderDeterministicAfterShuffle(t *testing.T) {
	reference := fullPlan()
	reference.Sort()
	wantText := renderToBytes(t, FormatText, RenderOptions{}, reference)
	wantJSON := renderToBytes(t, FormatJSON, RenderOptions{}, reference)

	rng := rand.New(rand.NewPCG(7, 11))
	for round := range 50 {
		p := fullPlan()
		shufflePlan(rng, p)
		p.Sort()

		if got := renderToBytes(t, FormatText, RenderOptions{}, p); !bytes.Equal(got, wantText) {
			t.Fatalf("round %d: text differs after shuffle and Sort:\n%s", round, firstDifference(wantText, got))
		}
		if got := renderToBytes(t, FormatJSON, RenderOptions{}, p); !bytes.Equal(got, wantJSON) {
			t.Fatalf("round %d: JSON differs after shuffle and Sort:\n%s", round, firstDifference(wantJSON, got))
		}
	}
}

// shufflePlan shuffles every bucket that Sort orders. Unmanaged and Document
// keep their order, because Sort leaves them as they are.
func shufflePlan(rng *rand.Rand, p *Plan) {
	shuffleItems(rng, p.Creates)
	shuffleItems(rng, p.Updates)
	shuffleItems(rng, p.Deletes)
	shuffleItems(rng, p.Drift)
	shuffleItems(rng, p.DNS)
	shuffleItems(rng, p.Held)
	shuffleItems(rng, p.Skipped)
	shuffleItems(rng, p.Revoked)
	shuffleItems(rng, p.Conflicts)
	shuffleItems(rng, p.Violations)
	shuffleItems(rng, p.Warnings)
	shuffleItems(rng, p.DNSCommands)
}

func shuffleItems[T any](rng *rand.Rand, items []T) {
	rng.Shuffle(len(items), func(i, j int) { items[i], items[j] = items[j], items[i] })
}

func TestMarshalPlanRoundTrip(t *testing.T) {
	for _, tc := range renderCases {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.plan()
			p.Sort()

			document, err := MarshalPlan(p)
			if err != nil {
				t.Fatalf("MarshalPlan: %v", err)
			}
			decoded, err := UnmarshalPlan(document)
			if err != nil {
				t.Fatalf("UnmarshalPlan: %v", err)
			}
			if !reflect.DeepEqual(decoded, p) {
				t.Errorf("round trip changed the plan:\n got %#v\nwant %#v", decoded, p)
			}
		})
	}
}

func TestMarshalPlanLayout(t *testing.T) {
	document, err := MarshalPlan(&Plan{Target: "api", OwnerID: "pa-ecosystem", Policy: PolicySync})
	if err != nil {
		t.Fatalf("MarshalPlan: %v", err)
	}
	text := string(document)

	if !strings.HasPrefix(text, "{\n  \"format_version\": 1,\n") {
		t.Errorf("document does not start with format_version at two-space indent:\n%s", text)
	}
	if !strings.HasSuffix(text, "}\n") {
		t.Errorf("document does not end with a newline after the closing brace:\n%s", text)
	}
	if strings.Contains(text, "null") {
		t.Errorf("document contains null, expected [] for empty buckets:\n%s", text)
	}
	for _, key := range []string{"creates", "updates", "deletes", "drift", "dns", "held", "skipped", "unmanaged", "revoked", "conflicts", "violations", "warnings", "document"} {
		if !strings.Contains(text, "\""+key+"\": []") {
			t.Errorf("empty bucket %q is not written as []", key)
		}
	}
}

func TestMarshalPlanDoesNotModifyPlan(t *testing.T) {
	p := &Plan{Target: "api"}
	if _, err := MarshalPlan(p); err != nil {
		t.Fatalf("MarshalPlan: %v", err)
	}
	if p.Creates != nil || p.Document != nil {
		t.Errorf("MarshalPlan filled the caller's nil buckets: %#v", p)
	}
	if p.FormatVersion != 0 {
		t.Errorf("MarshalPlan set the caller's FormatVersion to %d", p.FormatVersion)
	}
}

func TestMarshalPlanSubSecondDuration(t *testing.T) {
	p := goldenBasePlan()
	p.Creates = []RouteChange{goldenCreate("n8n.example.com", "", "http://n8n:5678", ingress.OriginRequest{"connectTimeout": 1500 * time.Millisecond})}

	b, err := MarshalPlan(p)
	if err != nil {
		t.Fatalf("MarshalPlan: %v", err)
	}
	back, err := UnmarshalPlan(b)
	if err != nil {
		t.Fatalf("UnmarshalPlan: %v", err)
	}
	if got := back.Creates[0].After.OriginRequest["connectTimeout"]; got != 1500*time.Millisecond {
		t.Errorf("connectTimeout after a round trip = %v, want 1.5s", got)
	}
}

func TestRenderTextHeader(t *testing.T) {
	tests := []struct {
		name string
		plan *Plan
		want string
	}{
		{name: "api target", plan: goldenBasePlan(), want: "Plan for tunnel " + fixtureTunnelID + " on the api target, owner pa-ecosystem, policy sync.\n"},
		{name: "no tunnel id", plan: &Plan{Target: "file", OwnerID: "web", Policy: PolicyCreateOnly}, want: "Plan on the file target, owner web, policy create-only.\n"},
		{name: "nothing known", plan: &Plan{}, want: "Plan.\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			text := string(renderToBytes(t, FormatText, RenderOptions{}, tc.plan))
			if !strings.HasPrefix(text, tc.want) {
				t.Errorf("text does not start with %q:\n%s", tc.want, text)
			}
		})
	}
}

func TestUnmarshalPlanErrors(t *testing.T) {
	tests := []struct {
		name        string
		document    string
		wantVersion bool
	}{
		{name: "newer version", document: `{"format_version": 2, "target": "api"}`, wantVersion: true},
		{name: "version zero", document: `{"format_version": 0}`, wantVersion: true},
		{name: "version missing", document: `{"target": "api"}`, wantVersion: true},
		{name: "not JSON", document: `format_version: 1`},
		{name: "wrong type", document: `{"format_version": 1, "creates": {}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := UnmarshalPlan([]byte(tc.document))
			if err == nil {
				t.Fatalf("UnmarshalPlan returned %#v, want an error", p)
			}
			if got := errors.Is(err, ErrUnsupportedPlanVersion); got != tc.wantVersion {
				t.Errorf("errors.Is(%v, ErrUnsupportedPlanVersion) = %v, want %v", err, got, tc.wantVersion)
			}
		})
	}
}

func TestUnmarshalPlanIgnoresAddedFields(t *testing.T) {
	p, err := UnmarshalPlan([]byte(`{"format_version": 1, "target": "file", "added_later": {"x": 1}}`))
	if err != nil {
		t.Fatalf("UnmarshalPlan: %v", err)
	}
	if p.Target != "file" {
		t.Errorf("Target = %q, want file", p.Target)
	}
}

// fieldsPlan is fullPlan with every optional field set, so that the field
// names test covers all of them.
func fieldsPlan() *Plan {
	p := fullPlan()
	p.Reorder = true
	p.Violations[0].How = "network alias"
	p.Violations[0].Neutralised = true
	p.Warnings = append(p.Warnings, Warning{Hostname: "n8n.example.com", Service: "n8n", Message: "path looks like a glob", File: "compose.yaml", Line: 9})
	p.Skipped[0].Path = "^(?:/x)"
	p.Saved = &SavedPlan{
		Target: "file", FilePath: "cloudflared/config.yml", AccountID: "acc", TunnelID: fixtureTunnelID,
		OwnerID: "pa", Policy: PolicySync, Exclusive: fixtureTunnelID, Adopt: []string{"n8n.example.com"},
		Hostnames:   []HostFingerprint{{Hostname: "n8n.example.com", Rules: "sha256:1", DNS: "sha256:2"}},
		Revocations: "sha256:3",
	}
	return p
}

func TestPlanJSONFieldNames(t *testing.T) {
	document, err := MarshalPlan(fieldsPlan())
	if err != nil {
		t.Fatalf("MarshalPlan: %v", err)
	}
	var decoded any
	if err := json.Unmarshal(document, &decoded); err != nil {
		t.Fatalf("decode document: %v", err)
	}

	paths := map[string]bool{}
	collectKeyPaths(decoded, "", paths)
	got := slices.Sorted(func(yield func(string) bool) {
		for path := range paths {
			if !yield(path) {
				return
			}
		}
	})
	compareGolden(t, filepath.Join(renderTestdata, "fields.txt"), []byte(strings.Join(got, "\n")+"\n"))
}

// collectKeyPaths records the dotted path of every object key, with "[]"
// for array items. It does not descend into originRequest, whose keys are
// cloudflared's, not the plan's.
func collectKeyPaths(value any, prefix string, paths map[string]bool) {
	switch v := value.(type) {
	case map[string]any:
		for key, item := range v {
			path := key
			if prefix != "" {
				path = prefix + "." + key
			}
			paths[path] = true
			if key != "originRequest" {
				collectKeyPaths(item, path, paths)
			}
		}
	case []any:
		for _, item := range v {
			collectKeyPaths(item, prefix+"[]", paths)
		}
	}
}

var ansiEscape = regexp.MustCompile("\x1b\\[[0-9;]*m")

func TestRenderTextColor(t *testing.T) {
	p := fullPlan()
	p.Sort()

	plain := renderToBytes(t, FormatText, RenderOptions{}, p)
	colored := renderToBytes(t, FormatText, RenderOptions{Color: true}, p)

	if bytes.ContainsRune(plain, '\x1b') {
		t.Errorf("output without Color contains an escape character:\n%s", plain)
	}
	for _, want := range []string{ansiGreen + "+" + ansiReset, ansiYellow + "~" + ansiReset, ansiRed + "-" + ansiReset, ansiMagenta + "!" + ansiReset, ansiRed + "✗" + ansiReset} {
		if !bytes.Contains(colored, []byte(want)) {
			t.Errorf("output with Color lacks %q", want)
		}
	}
	if stripped := ansiEscape.ReplaceAll(colored, nil); !bytes.Equal(stripped, plain) {
		t.Errorf("output with Color, escapes removed, differs from output without:\n%s", firstDifference(plain, stripped))
	}
}

func TestRenderTextEscapesControlCharacters(t *testing.T) {
	p := goldenBasePlan()
	p.Unmanaged = []Unmanaged{{Hostname: "evil.example.com", Origin: "http://x:80\x1b[2J\nPlan: 0 to create"}}

	text := string(renderToBytes(t, FormatText, RenderOptions{}, p))
	if strings.ContainsRune(text, '\x1b') {
		t.Errorf("escape character from live state reached the output:\n%q", text)
	}
	if !strings.Contains(text, `http://x:80\x1b[2J\nPlan: 0 to create`) {
		t.Errorf("control characters are not shown escaped:\n%s", text)
	}
}

func TestRenderTextWrapsToWidth(t *testing.T) {
	const width = 60
	p := warningsPlan()
	p.Sort()

	text := string(renderToBytes(t, FormatText, RenderOptions{Width: width}, p))
	for i, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		// A line holding one word longer than the width cannot be wrapped.
		if n := len([]rune(line)); n > width && strings.Contains(strings.TrimSpace(line), " ") {
			t.Errorf("line %d has %d runes, more than width %d: %q", i+1, n, width, line)
		}
	}
	unwrapped := string(renderToBytes(t, FormatText, RenderOptions{}, p))
	if strings.Count(text, "\n") <= strings.Count(unwrapped, "\n") {
		t.Errorf("width %d added no line breaks:\n%s", width, text)
	}
}

func TestWrapWords(t *testing.T) {
	tests := []struct {
		name        string
		text        string
		first, rest int
		want        []string
	}{
		{name: "no width", text: "a b c", first: 0, rest: 0, want: []string{"a b c"}},
		{name: "fits", text: "a b c", first: 5, rest: 5, want: []string{"a b c"}},
		{name: "wraps", text: "aa bb cc dd", first: 5, rest: 5, want: []string{"aa bb", "cc dd"}},
		{name: "narrower rest", text: "aa bb cc dd", first: 5, rest: 2, want: []string{"aa bb", "cc", "dd"}},
		{name: "long word alone", text: "a averyveryverylongword b", first: 5, rest: 5, want: []string{"a", "averyveryverylongword", "b"}},
		{name: "counts runes", text: "→→ →→", first: 5, rest: 5, want: []string{"→→ →→"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := wrapWords(tc.text, tc.first, tc.rest); !slices.Equal(got, tc.want) {
				t.Errorf("wrapWords(%q, %d, %d) = %q, want %q", tc.text, tc.first, tc.rest, got, tc.want)
			}
		})
	}
}

func TestRenderTextNoChangesSentence(t *testing.T) {
	tests := []struct {
		name string
		plan *Plan
		want string
	}{
		{name: "in sync", plan: goldenBasePlan(), want: "No changes. The tunnel's routes match the compose files.\n"},
		{name: "held and revoked", plan: &Plan{Held: heldPlan().Held, Revoked: revokedPlan().Revoked}, want: "No changes. The tunnel's routes match the compose files. Not counted as changes: 2 held, 3 revoked.\n"},
		{name: "conflicts", plan: &Plan{Conflicts: conflictsPlan().Conflicts}, want: "No changes to apply, but the tunnel's routes do not match the compose files because of the conflicts listed above.\n"},
		{name: "violations and skipped", plan: &Plan{Violations: violationsPlan().Violations, Skipped: skippedPlan().Skipped}, want: "because of the violations and skipped changes listed above.\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			text := string(renderToBytes(t, FormatText, RenderOptions{}, tc.plan))
			if !strings.HasSuffix(text, tc.want) {
				t.Errorf("text does not end with %q:\n%s", tc.want, text)
			}
			if strings.Contains(text, "Plan: ") {
				t.Errorf("plan without changes has a tally line:\n%s", text)
			}
		})
	}
}

func TestRenderTextLegendListsPresentSymbols(t *testing.T) {
	tests := []struct {
		name string
		plan *Plan
		want string
	}{
		{name: "drift only", plan: &Plan{Drift: []RouteChange{goldenDelete("a.example.com", "", "http://a:80")}}, want: "Symbols: - delete."},
		{name: "DNS adopt only", plan: &Plan{DNS: []DNSChange{{Action: DNSUpdate, Name: "a.example.com", Type: "CNAME"}}}, want: "Symbols: ~ update."},
		{name: "revoked and violation", plan: &Plan{Revoked: []Revoked{{}}, Violations: []Violation{{}}}, want: "Symbols: ! revoked, ✗ violation."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			text := string(renderToBytes(t, FormatText, RenderOptions{}, tc.plan))
			if !strings.Contains(text, "\n"+tc.want+"\n") {
				t.Errorf("text lacks the legend line %q:\n%s", tc.want, text)
			}
		})
	}
}

func TestRenderTextEmptyPlanHasNoLegend(t *testing.T) {
	text := string(renderToBytes(t, FormatText, RenderOptions{}, goldenBasePlan()))
	if strings.Contains(text, "Symbols:") {
		t.Errorf("plan without symbols has a legend:\n%s", text)
	}
}

func TestNewRenderer(t *testing.T) {
	for _, format := range Formats {
		if _, err := NewRenderer(format, RenderOptions{}); err != nil {
			t.Errorf("NewRenderer(%q): %v", format, err)
		}
	}

	_, err := NewRenderer("yaml", RenderOptions{})
	if !errors.Is(err, ErrUnknownFormat) {
		t.Fatalf("NewRenderer(yaml) error = %v, want one wrapping ErrUnknownFormat", err)
	}
	for _, format := range Formats {
		if !strings.Contains(err.Error(), format) {
			t.Errorf("error %q does not list the format %q", err, format)
		}
	}
}

// failingWriter fails every write.
type failingWriter struct{}

var errWriteFailed = errors.New("disk full")

func (failingWriter) Write([]byte) (int, error) { return 0, errWriteFailed }

func TestRenderReturnsWriteError(t *testing.T) {
	for _, format := range Formats {
		renderer, err := NewRenderer(format, RenderOptions{})
		if err != nil {
			t.Fatalf("NewRenderer(%q): %v", format, err)
		}
		if err := renderer.Render(failingWriter{}, goldenBasePlan()); !errors.Is(err, errWriteFailed) {
			t.Errorf("%s Render error = %v, want one wrapping the write error", format, err)
		}
	}
}

func renderToBytes(t *testing.T, format string, opts RenderOptions, p *Plan) []byte {
	t.Helper()
	renderer, err := NewRenderer(format, opts)
	if err != nil {
		t.Fatalf("NewRenderer(%q): %v", format, err)
	}
	var out bytes.Buffer
	if err := renderer.Render(&out, p); err != nil {
		t.Fatalf("%s Render: %v", format, err)
	}
	return out.Bytes()
}

// compareGolden compares got with the golden file, or rewrites the file
// under -update.
func compareGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatalf("update golden file: %v", err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test ./sync/ -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run go test ./sync/ -update to accept):\n%s", path, firstDifference(want, got))
	}
}

// firstDifference shows the first line where got differs from want, then
// the whole of got.
func firstDifference(want, got []byte) string {
	wantLines := strings.Split(string(want), "\n")
	gotLines := strings.Split(string(got), "\n")
	for i := range max(len(wantLines), len(gotLines)) {
		var w, g string
		if i < len(wantLines) {
			w = wantLines[i]
		}
		if i < len(gotLines) {
			g = gotLines[i]
		}
		if w != g {
			return fmt.Sprintf("line %d:\nwant %q\n got %q\nfull output:\n%s", i+1, w, g, got)
		}
	}
	return "outputs differ only in length"
}
