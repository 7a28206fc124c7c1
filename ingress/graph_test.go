package ingress

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

// loadComposeFixture loads DIR/compose.yaml through compose-go with no
// environment and no profile active.
func loadComposeFixture(t *testing.T, dir string) *types.Project {
	t.Helper()
	return loadNamedComposeFixture(t, dir, "")
}

// loadNamedComposeFixture loads DIR/compose.yaml as loadComposeFixture does,
// under the project name given, or the directory's name when it is "".
func loadNamedComposeFixture(t *testing.T, dir, name string) *types.Project {
	t.Helper()
	options := []cli.ProjectOptionsFn{cli.WithWorkingDirectory(dir), cli.WithEnv([]string{}), cli.WithProfiles(nil)}
	if name != "" {
		options = append(options, cli.WithName(name))
	}
	opts, err := cli.NewProjectOptions([]string{filepath.Join(dir, "compose.yaml")}, options...)
	if err != nil {
		t.Fatalf("project options for %s: %v", dir, err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("load %s: %v", dir, err)
	}
	return p
}

// buildFixtureGraph draws the map of a fixture whose labels are valid.
func buildFixtureGraph(t *testing.T, dir string) *ExposureGraph {
	t.Helper()
	p := loadComposeFixture(t, dir)
	parsed, err := ParseProject(p, ParseOptions{File: "compose.yaml"})
	if err != nil {
		t.Fatalf("labels of %s: %v", dir, err)
	}
	gate, err := NewGate(p, GateOptions{File: "compose.yaml"})
	if err != nil {
		t.Fatalf("gate of %s: %v", dir, err)
	}
	x, err := BuildExposureGraph(p, gate, parsed.Routes, "")
	if err != nil {
		t.Fatal(err)
	}
	return x
}

var graphFixtures = []string{
	filepath.Join("..", "testdata", "graph", "exposed"),
	filepath.Join("..", "examples", "pa-ecosystem"),
}

func TestGraphGolden(t *testing.T) {
	for _, dir := range graphFixtures {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			x := buildFixtureGraph(t, dir)
			golden := filepath.Join("..", "testdata", "graph", filepath.Base(dir))
			compareGraphGolden(t, filepath.Join(golden, "want.mmd"), x.Mermaid())
			compareGraphGolden(t, filepath.Join(golden, "want.dot"), x.DOT())
		})
	}
}

func compareGraphGolden(t *testing.T, path, got string) {
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
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (run go test -update to accept):\n--- got\n%s--- want\n%s", path, got, want)
	}
}

func TestGraphDeterministic(t *testing.T) {
	dir := graphFixtures[0]
	first := buildFixtureGraph(t, dir)
	for range 5 {
		again := buildFixtureGraph(t, dir)
		if again.Mermaid() != first.Mermaid() || again.DOT() != first.DOT() {
			t.Fatal("two builds of the same project render differently")
		}
	}
}

func TestGraphFencesInternalServices(t *testing.T) {
	x := buildFixtureGraph(t, graphFixtures[0])
	mermaid := x.Mermaid()
	fence := mermaid[strings.Index(mermaid, "subgraph fenced"):]
	fence = fence[:strings.Index(fence, "\n    end\n")]
	for _, id := range []string{"s_db", "s_metrics"} {
		if !strings.Contains(fence, id+"[") {
			t.Errorf("internal-only node %s is not inside the fenced subgraph:\n%s", id, fence)
		}
	}
	if strings.Contains(fence, "s_web[") {
		t.Errorf("routed service web is inside the fenced subgraph:\n%s", fence)
	}
	for _, port := range []string{"p_db", "p_metrics", "p_web"} {
		if !strings.Contains(mermaid, "internet -->|") || !strings.Contains(mermaid, "| "+port+"\n") {
			t.Errorf("published port %s is not drawn as a way in from the internet", port)
		}
	}
	if !strings.Contains(mermaid, "refused by the security gate") {
		t.Error("the route to the internal-only database is not marked as refused")
	}
}

// mermaidNodeDecl matches a node declaration: an identifier followed by a
// shape opening bracket.
var mermaidNodeDecl = regexp.MustCompile(`^\s*([A-Za-z][A-Za-z0-9_]*)(\(\(|\{\{|\[/|\[|\()`)

// mermaidEdge matches an edge line: FROM ARROW [|label|] TO.
var mermaidEdge = regexp.MustCompile(`^\s*([A-Za-z][A-Za-z0-9_]*)\s+(-->|-\.->|-\.-|---)(\|"[^"]*"\|)?\s+([A-Za-z][A-Za-z0-9_]*)\s*$`)

// mermaidProblems lists what a Mermaid parser would reject or draw
// wrongly: unbalanced subgraph and end, edges between undeclared nodes,
// unbalanced label quotes and lines of no known form.
func mermaidProblems(text string) []string {
	var problems []string
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	if lines[0] != "flowchart LR" {
		problems = append(problems, fmt.Sprintf("first line %q, want flowchart LR", lines[0]))
	}
	declared := map[string]bool{}
	depth := 0
	var edges [][2]string
	for i, line := range lines[1:] {
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(trimmed, "subgraph "):
			depth++
		case trimmed == "end":
			depth--
			if depth < 0 {
				problems = append(problems, fmt.Sprintf("line %d: end without subgraph", i+2))
				depth = 0
			}
		case strings.HasPrefix(trimmed, "classDef "), strings.HasPrefix(trimmed, "class "), strings.HasPrefix(trimmed, "style "):
		case mermaidEdge.MatchString(line):
			m := mermaidEdge.FindStringSubmatch(line)
			edges = append(edges, [2]string{m[1], m[4]})
		case mermaidNodeDecl.MatchString(line):
			declared[mermaidNodeDecl.FindStringSubmatch(line)[1]] = true
			if strings.Count(trimmed, `"`) != 2 {
				problems = append(problems, fmt.Sprintf("line %d: label quotes not balanced: %s", i+2, line))
			}
		default:
			problems = append(problems, fmt.Sprintf("line %d is neither a node, an edge, a subgraph nor a style: %q", i+2, line))
		}
	}
	if depth != 0 {
		problems = append(problems, fmt.Sprintf("%d subgraphs are not closed", depth))
	}
	for _, e := range edges {
		for _, id := range e {
			if !declared[id] {
				problems = append(problems, fmt.Sprintf("edge %s → %s uses undeclared node %s", e[0], e[1], id))
			}
		}
	}
	return problems
}

func TestGraphMermaidStructure(t *testing.T) {
	for _, dir := range graphFixtures {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			for _, p := range mermaidProblems(buildFixtureGraph(t, dir).Mermaid()) {
				t.Error(p)
			}
		})
	}
}

func TestMermaidProblemsFindsBrokenChart(t *testing.T) {
	broken := "flowchart LR\n  a[\"A\"]\n  subgraph x[\"X\"]\n  a --> b\n"
	problems := mermaidProblems(broken)
	if len(problems) != 2 {
		t.Errorf("problems = %q, want an unclosed subgraph and an undeclared node", problems)
	}
}

func TestGraphDOTParsesWithGraphviz(t *testing.T) {
	dot, err := exec.LookPath("dot")
	if err != nil {
		t.Skip("Graphviz dot is not installed; install graphviz to check the DOT output")
	}
	for _, dir := range graphFixtures {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			cmd := exec.Command(dot, "-Tsvg")
			cmd.Stdin = strings.NewReader(buildFixtureGraph(t, dir).DOT())
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil || stderr.Len() > 0 {
				t.Fatalf("dot -Tsvg: %v\n%s", err, stderr.String())
			}
			if !bytes.Contains(out, []byte("<svg")) {
				t.Error("dot -Tsvg wrote no SVG")
			}
		})
	}
}

func TestMermaidTextEscapes(t *testing.T) {
	tests := []struct {
		lines []string
		want  string
	}{
		{[]string{"plain"}, `"plain"`},
		{[]string{`say "hi"`}, `"say #quot;hi#quot;"`},
		{[]string{"a<b>", "#x"}, `"a#lt;b#gt;<br/>#35;x"`},
	}
	for _, tt := range tests {
		if got := mermaidText(tt.lines...); got != tt.want {
			t.Errorf("mermaidText(%q) = %s, want %s", tt.lines, got, tt.want)
		}
	}
}

func TestDOTTextEscapes(t *testing.T) {
	if got, want := dotText(`a"b\c`, "d"), `"a\"b\\c\nd"`; got != want {
		t.Errorf("dotText = %s, want %s", got, want)
	}
}

func TestGraphIDsUnique(t *testing.T) {
	used := map[string]bool{}
	first := uniqueGraphID(used, "s_"+graphIDText("a-b"))
	second := uniqueGraphID(used, "s_"+graphIDText("a_b"))
	if first == second {
		t.Errorf("services a-b and a_b share the node id %s", first)
	}
}
