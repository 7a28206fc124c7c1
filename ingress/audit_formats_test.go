package ingress

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// auditFormatsGoldenDir holds the golden Markdown and GitHub outputs. The
// -update flag is registered in gate_test.go and rewrites them.
var auditFormatsGoldenDir = filepath.Join("..", "testdata", "audit", "formats")

// auditReportWithFindings returns a report with one finding of each
// severity: an exposure at a compose line, a label warning whose line is
// unknown, and a live note without a file.
func auditReportWithFindings() *AuditReport {
	return &AuditReport{
		FormatVersion:      AuditFormatVersion,
		Project:            "shop",
		CloudflaredService: "cloudflared",
		Services:           4,
		Routes:             2,
		Target:             "file",
		LiveRules:          3,
		Findings: []AuditFinding{
			{
				Kind: KindPublishedPort, Severity: SeverityError, Exposure: true,
				Service: "db", InternalService: "db", File: "compose.yaml", Line: 42, Key: "ports",
				Message: "internal-only service publishes host port 5432 (container port 5432/tcp) on every host interface, reachable without the tunnel",
				Fix:     "remove the ports entry and use expose; other services reach it by its service name on a compose network",
			},
			{
				Kind: KindLabelWarning, Severity: SeverityWarning,
				Service: "web", File: "compose.override.yaml", Key: "portcullis.path",
				Message: "path has no leading ^, so it also matches in the middle of a URL path",
				Fix:     "start the path with ^",
			},
			{
				Kind: KindLiveUndefinedService, Severity: SeverityNote,
				Key:      "ingress[3]",
				Hostname: "wiki.example.com", Origin: "http://wiki:3000",
				Message: `live rule for "wiki.example.com" sends traffic to "http://wiki:3000", a name no service of this project has`,
				Fix:     "remove the rule, or restore the service it named",
			},
		},
		Summary: AuditSummary{Errors: 1, Warnings: 1, Notes: 1, Exposures: 1},
	}
}

func auditReportWithoutFindings() *AuditReport {
	return &AuditReport{
		FormatVersion:      AuditFormatVersion,
		Project:            "shop",
		CloudflaredService: "cloudflared",
		Services:           3,
		Routes:             2,
		Findings:           []AuditFinding{},
	}
}

// auditReportWithHostileFinding returns a report whose only finding carries
// Markdown, a forged workflow command, a percent sign and a file name with
// a colon and a comma, as a compose file or live rule could.
func auditReportWithHostileFinding() *AuditReport {
	return &AuditReport{
		FormatVersion: AuditFormatVersion,
		Project:       "shop",
		Services:      1,
		Findings: []AuditFinding{{
			Kind: KindUnknownOrigin, Severity: SeverityWarning,
			Service: "web|evil", File: "stacks/a:b,c.yaml", Line: 7,
			Message: "origin | *bold* @team [x](https://evil.example) 100% sure\n::error::forged",
			Fix:     "see www.example.com, then\r\nrun `rm` | done",
		}},
		Summary: AuditSummary{Warnings: 1},
	}
}

func renderAuditFormat(t *testing.T, format string, r *AuditReport) string {
	t.Helper()
	renderer, err := NewAuditRenderer(format, AuditRenderOptions{})
	if err != nil {
		t.Fatalf("NewAuditRenderer(%q): %v", format, err)
	}
	var out bytes.Buffer
	if err := renderer.Render(&out, r); err != nil {
		t.Fatalf("render %s: %v", format, err)
	}
	return out.String()
}

func TestAuditFormatsGolden(t *testing.T) {
	cases := map[string]*AuditReport{
		"findings":    auditReportWithFindings(),
		"no-findings": auditReportWithoutFindings(),
	}
	formats := map[string]string{"markdown": ".md", "github": ".github"}
	for name, report := range cases {
		for format, ext := range formats {
			t.Run(name+ext, func(t *testing.T) {
				got := renderAuditFormat(t, format, report)
				compareAuditFormatGolden(t, filepath.Join(auditFormatsGoldenDir, name+ext), got)
			})
		}
	}
}

func compareAuditFormatGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (run with -update to accept):\n--- got\n%s--- want\n%s", path, got, want)
	}
}

func TestNewAuditRendererFormats(t *testing.T) {
	for _, format := range []string{"", "text", "json", "markdown", "github"} {
		if _, err := NewAuditRenderer(format, AuditRenderOptions{}); err != nil {
			t.Errorf("NewAuditRenderer(%q): %v", format, err)
		}
	}
	_, err := NewAuditRenderer("yaml", AuditRenderOptions{})
	if !errors.Is(err, ErrUnknownAuditFormat) {
		t.Errorf("NewAuditRenderer(yaml) error = %v, want ErrUnknownAuditFormat", err)
	}
}

// unescapedPipe matches a pipe that no backslash escapes, which GitHub reads
// as a table cell boundary.
var unescapedPipe = regexp.MustCompile(`(^|[^\\])\|`)

func TestAuditMarkdownEscapesFinding(t *testing.T) {
	got := renderAuditFormat(t, "markdown", auditReportWithHostileFinding())
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	row := lines[len(lines)-1]

	if !strings.HasPrefix(lines[len(lines)-3], "| Severity ") {
		t.Fatalf("the finding takes more than one line, so a newline was not escaped:\n%s", got)
	}
	if n := len(unescapedPipe.FindAllString(row, -1)); n != 7 {
		t.Errorf("row has %d cell boundaries, want 7 for 6 cells:\n%s", n, row)
	}
	for _, want := range []string{
		`\*bold\*`,
		`\@team`,
		`\[x\]`,
		`https\://evil`,
		`www\.example`,
		`100% sure\\n::error::forged`,
		`then\\r\\nrun \` + "`rm\\` \\| done",
		"`web\\|evil`",
		"`stacks/a:b,c.yaml:7`",
	} {
		if !strings.Contains(row, want) {
			t.Errorf("row lacks %q:\n%s", want, row)
		}
	}
}

func TestAuditMarkdownCodeSpanFence(t *testing.T) {
	tests := map[string]string{
		"":        "",
		"web":     "`web`",
		"a`b":     "``a`b``",
		"`a``":    "``` `a`` ```",
		"a|b":     "`a\\|b`",
		"a\nb":    "`a\\nb`",
		"a\u202e": "`a\\u202e`",
	}
	for text, want := range tests {
		if got := markdownCellCode(text); got != want {
			t.Errorf("markdownCellCode(%q) = %q, want %q", text, got, want)
		}
	}
}

func TestAuditGitHubEscapesFinding(t *testing.T) {
	got := renderAuditFormat(t, "github", auditReportWithHostileFinding())
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")

	annotation := lines[0]
	wantPrefix := "::warning file=stacks/a%3Ab%2Cc.yaml,line=7,title=portcullis audit%3A unknown-origin::"
	if !strings.HasPrefix(annotation, wantPrefix) {
		t.Errorf("annotation = %q, want prefix %q", annotation, wantPrefix)
	}
	wantMessage := `service "web|evil": origin | *bold* @team [x](https://evil.example) 100%25 sure%0A::error::forged%0Afix: see www.example.com, then%0D%0Arun ` + "`rm` | done"
	if message := strings.TrimPrefix(annotation, wantPrefix); message != wantMessage {
		t.Errorf("annotation message = %q, want %q", message, wantMessage)
	}

	if !strings.HasPrefix(lines[1], "::stop-commands::portcullis-audit-") {
		t.Fatalf("line 2 = %q, want the stop-commands marker", lines[1])
	}
	token := strings.TrimPrefix(lines[1], "::stop-commands::")
	if last := lines[len(lines)-1]; last != "::"+token+"::" {
		t.Errorf("last line = %q, want %q to resume commands", last, "::"+token+"::")
	}
	fenced := strings.Join(lines[2:len(lines)-1], "\n")
	if !strings.Contains(fenced, "\n::error::forged") {
		t.Errorf("the text report lost the forged line it is fenced against:\n%s", fenced)
	}
	if strings.Contains(fenced, token) {
		t.Errorf("the fenced text contains the token %q", token)
	}
}

func TestAuditGitHubAnnotationLevels(t *testing.T) {
	got := renderAuditFormat(t, "github", auditReportWithFindings())
	lines := strings.Split(got, "\n")
	wantPrefixes := []string{
		"::error file=compose.yaml,line=42,title=portcullis audit%3A published-port::service \"db\": ",
		"::warning file=compose.override.yaml,title=portcullis audit%3A label-warning::service \"web\": label \"portcullis.path\": ",
		"::notice title=portcullis audit%3A live-undefined-service::live ingress[3]: ",
	}
	for i, want := range wantPrefixes {
		if !strings.HasPrefix(lines[i], want) {
			t.Errorf("line %d = %q, want prefix %q", i+1, lines[i], want)
		}
	}
	if !strings.Contains(lines[1], "(line unknown)%0Afix: start the path with ^") {
		t.Errorf("warning without a line = %q, want (line unknown) and the fix", lines[1])
	}
}

func TestAuditGitHubWithoutFindings(t *testing.T) {
	got := renderAuditFormat(t, "github", auditReportWithoutFindings())
	if !strings.HasPrefix(got, "::stop-commands::") {
		t.Errorf("output starts %q, want the stop-commands marker and no annotation", got)
	}
}
