package sync

import (
	"bytes"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
)

// The golden files of the CI formats sit beside the text and JSON ones:
// testdata/render/<case>.md and <case>.github.

func TestRenderMarkdownGolden(t *testing.T) {
	for _, tc := range renderCases {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.plan()
			p.Sort()
			compareGolden(t, filepath.Join(renderTestdata, tc.name+".md"), renderToBytes(t, FormatMarkdown, RenderOptions{}, p))
		})
	}
}

func TestRenderGitHubGolden(t *testing.T) {
	for _, tc := range renderCases {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.plan()
			p.Sort()
			compareGolden(t, filepath.Join(renderTestdata, tc.name+".github"), renderToBytes(t, FormatGitHub, RenderOptions{}, p))
		})
	}
}

func TestRenderCIFormatsDeterministicAfterShuffle(t *testing.T) {
	for _, format := range []string{FormatMarkdown, FormatGitHub} {
		t.Run(format, func(t *testing.T) {
			reference := fullPlan()
			reference.Sort()
			want := renderToBytes(t, format, RenderOptions{}, reference)

			rng := rand.New(rand.NewPCG(3, 5))
			for round := range 30 {
				p := fullPlan()
				shufflePlan(rng, p)
				p.Sort()
				if got := renderToBytes(t, format, RenderOptions{}, p); !bytes.Equal(got, want) {
					t.Fatalf("round %d: output differs after shuffle and Sort:\n%s", round, firstDifference(want, got))
				}
			}
		})
	}
}

func TestRenderMarkdownEscapesLiveText(t *testing.T) {
	p := goldenBasePlan()
	p.Unmanaged = []Unmanaged{{Hostname: "x.example.com", Origin: "http://x:80"}}
	p.Conflicts = []Conflict{{
		Hostname: "evil.example.com",
		Path:     "^/(a|b)`x`",
		Service:  "web",
		Reason:   "owned by @alice see #12 <script>alert(1)</script> | extra cell\n### forged heading",
	}}

	text := string(renderToBytes(t, FormatMarkdown, RenderOptions{}, p))
	for _, bad := range []string{" @alice", " #12", "<script>", "\n### forged", "(a|b)"} {
		if strings.Contains(text, bad) {
			t.Errorf("Markdown contains unescaped %q:\n%s", bad, text)
		}
	}
	for _, want := range []string{`\@alice`, `\#12`, `\<script\>`, `\| extra cell\\n\#\#\# forged heading`, "`` ^/(a\\|b)`x` ``"} {
		if !strings.Contains(text, want) {
			t.Errorf("Markdown lacks the escaped form %q:\n%s", want, text)
		}
	}
	for i, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "| ") && strings.Contains(line, "evil.example.com") {
			if cells := strings.Count(strings.ReplaceAll(line, `\|`, ""), "|"); cells != 4 {
				t.Errorf("line %d has %d cell separators, want 4 (3 cells): %q", i+1, cells, line)
			}
		}
	}
}

func TestRenderMarkdownHasNoColor(t *testing.T) {
	p := fullPlan()
	p.Sort()
	text := renderToBytes(t, FormatMarkdown, RenderOptions{Color: true}, p)
	if bytes.ContainsRune(text, '\x1b') {
		t.Errorf("Markdown contains an escape character:\n%s", text)
	}
	if !bytes.HasPrefix(text, []byte(MarkdownTitle+"\n")) {
		t.Errorf("Markdown does not start with %q", MarkdownTitle)
	}
}

func TestMarkdownCode(t *testing.T) {
	tests := []struct {
		in, code, cell string
	}{
		{in: "", code: "", cell: ""},
		{in: "n8n.example.com", code: "`n8n.example.com`", cell: "`n8n.example.com`"},
		{in: "a|b", code: "`a|b`", cell: "`a\\|b`"},
		{in: "a`b", code: "``a`b``", cell: "``a`b``"},
		{in: "`x`", code: "`` `x` ``", cell: "`` `x` ``"},
		{in: "a\nb", code: "`a\\nb`", cell: "`a\\nb`"},
	}
	for _, tc := range tests {
		if got := mdCode(tc.in); got != tc.code {
			t.Errorf("mdCode(%q) = %q, want %q", tc.in, got, tc.code)
		}
		if got := mdCell(tc.in); got != tc.cell {
			t.Errorf("mdCell(%q) = %q, want %q", tc.in, got, tc.cell)
		}
	}
}

func TestAnnotationString(t *testing.T) {
	tests := []struct {
		name string
		in   Annotation
		want string
	}{
		{name: "file and line", in: Annotation{Level: AnnotationError, File: "compose.yaml", Line: 12, Title: "t", Message: "m"},
			want: "::error file=compose.yaml,line=12,title=t::m"},
		{name: "no line", in: Annotation{Level: AnnotationError, File: "compose.yaml", Title: "t", Message: "m"},
			want: "::error file=compose.yaml,title=t::m"},
		{name: "line without file", in: Annotation{Level: AnnotationWarning, Line: 3, Message: "m"},
			want: "::warning::m"},
		{name: "no properties", in: Annotation{Level: AnnotationNotice, Message: "m"},
			want: "::notice::m"},
		{name: "property escapes", in: Annotation{Level: AnnotationError, File: "a,b:c%d.yaml", Title: "x:y,z\r\n", Message: "m"},
			want: "::error file=a%2Cb%3Ac%25d.yaml,title=x%3Ay%2Cz%0D%0A::m"},
		{name: "message escapes", in: Annotation{Level: AnnotationError, Message: "100% done\r\n::error::forged: a, b"},
			want: "::error::100%25 done%0D%0A::error::forged: a, b"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.in.String(); got != tc.want {
				t.Errorf("String() =\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}

func TestPlanAnnotationsViolationPositions(t *testing.T) {
	p := goldenBasePlan()
	p.Violations = []Violation{
		{Hostname: "a.example.com", Origin: "http://db:5432", Service: "a", InternalService: "db", MatchedName: "db", File: "compose.yaml", Line: 9},
		{Hostname: "b.example.com", Origin: "http://db:5432", Service: "b", InternalService: "db", MatchedName: "db", File: "sub/compose.yaml"},
		{Hostname: "c.example.com", Origin: "http://db:5432", InternalService: "db", MatchedName: "db", Live: true},
		{Hostname: "d.example.com", Origin: "http://db:5432", InternalService: "db", MatchedName: "db", Live: true, Neutralised: true},
	}
	toRoot := func(path string) string { return "stack/" + path }

	got := PlanAnnotations(p, toRoot)
	if len(got) != 4 {
		t.Fatalf("got %d annotations, want 4: %+v", len(got), got)
	}
	checks := []struct {
		level, file string
		line        int
		lineUnknown bool
	}{
		{AnnotationError, "stack/compose.yaml", 9, false},
		{AnnotationError, "stack/sub/compose.yaml", 0, true},
		{AnnotationError, "", 0, false},
		{AnnotationWarning, "", 0, false},
	}
	for i, c := range checks {
		a := got[i]
		if a.Level != c.level || a.File != c.file || a.Line != c.line {
			t.Errorf("annotation %d = %s %q line %d, want %s %q line %d", i, a.Level, a.File, a.Line, c.level, c.file, c.line)
		}
		if strings.Contains(a.Message, "line unknown") != c.lineUnknown {
			t.Errorf("annotation %d message %q: says line unknown = %v, want %v", i, a.Message, !c.lineUnknown, c.lineUnknown)
		}
		if strings.Contains(a.Message, "compose.yaml") {
			t.Errorf("annotation %d repeats the position in its message: %q", i, a.Message)
		}
	}
}

func TestRenderGitHubFencesTextPlan(t *testing.T) {
	p := goldenBasePlan()
	p.Unmanaged = []Unmanaged{{Hostname: "x.example.com", Origin: "http://x:80\n::error::forged"}}
	p.Warnings = []Warning{{Message: "a\n::warning::forged"}}

	text := string(renderToBytes(t, FormatGitHub, RenderOptions{}, p))
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) < 3 {
		t.Fatalf("output too short:\n%s", text)
	}
	if lines[0] != "::warning title=portcullis%3A warning::a%0A::warning::forged" {
		t.Errorf("first line = %q, want the escaped warning annotation", lines[0])
	}
	token, ok := strings.CutPrefix(lines[1], "::stop-commands::")
	if !ok || token == "" {
		t.Fatalf("second line = %q, want ::stop-commands::TOKEN", lines[1])
	}
	if last := lines[len(lines)-1]; last != "::"+token+"::" {
		t.Errorf("last line = %q, want ::%s::", last, token)
	}
	for i, line := range lines[2 : len(lines)-1] {
		if strings.HasPrefix(strings.TrimSpace(line), "::") {
			t.Errorf("text line %d reads as a workflow command: %q", i+3, line)
		}
	}
}

func TestRenderMarkdownNamesComposeService(t *testing.T) {
	p := goldenBasePlan()
	p.Creates = []RouteChange{goldenCreate("chat.example.com", "", "http://open-webui:8080", nil)}
	p.Creates[0].Service = "open-webui"

	text := string(renderToBytes(t, FormatMarkdown, RenderOptions{}, p))
	want := "| + | `chat.example.com` |  | `http://open-webui:8080` | service open-webui |"
	if !strings.Contains(text, want) {
		t.Errorf("Markdown lacks the row %q:\n%s", want, text)
	}
}
