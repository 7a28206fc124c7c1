package ingress

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/hashicorp/go-multierror"
	"gopkg.in/yaml.v3"
)

var update = flag.Bool("update", false, "rewrite golden files")

// labelCase is the optional options.json of a fixture.
type labelCase struct {
	Target    string            `json:"target"`
	Exclusive bool              `json:"exclusive"`
	Prefix    string            `json:"prefix"`
	Env       map[string]string `json:"env"`
	// Forbidden lists texts that must appear nowhere in the output, such as
	// the value of a secret variable.
	Forbidden []string `json:"forbidden"`
}

// TestParseProjectFixtures loads each testdata/labels/<case>/compose.yaml with
// compose-go and compares the routes, held routes, warnings and errors with
// want.txt.
func TestParseProjectFixtures(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("..", "testdata", "labels", "*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) == 0 {
		t.Fatal("no fixtures under testdata/labels")
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			runLabelFixture(t, dir)
		})
	}
}

func runLabelFixture(t *testing.T, dir string) {
	tc := readLabelCase(t, dir)
	composePath := filepath.Join(dir, "compose.yaml")
	project := loadFixtureProject(t, dir, tc.Env)
	raw, lines := indexFixtureLabels(t, composePath)

	opts := ParseOptions{
		Prefix:    tc.Prefix,
		Target:    tc.Target,
		Exclusive: tc.Exclusive,
		RawLabels: raw,
		File:      "compose.yaml",
		Sources: func(service, key string) (string, int) {
			return "compose.yaml", lines[service][key]
		},
	}
	result, err := ParseProject(project, opts)
	got := formatParseOutput(t, result, err)

	for _, text := range tc.Forbidden {
		if strings.Contains(got, text) {
			t.Errorf("output contains the forbidden text %q:\n%s", text, got)
		}
	}

	wantPath := filepath.Join(dir, "want.txt")
	if *update {
		if err := os.WriteFile(wantPath, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(wantPath)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (run go test -update to rewrite it)\n--- got\n%s\n--- want\n%s", wantPath, got, want)
	}
}

func readLabelCase(t *testing.T, dir string) labelCase {
	t.Helper()
	var tc labelCase
	data, err := os.ReadFile(filepath.Join(dir, "options.json"))
	if errors.Is(err, os.ErrNotExist) {
		return tc
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &tc); err != nil {
		t.Fatalf("options.json: %v", err)
	}
	return tc
}

// loadFixtureProject loads compose.yaml the way the config package does, with
// only the given environment so that the host's variables cannot leak in.
func loadFixtureProject(t *testing.T, dir string, env map[string]string) *types.Project {
	t.Helper()
	var envList []string
	for k, v := range env {
		envList = append(envList, k+"="+v)
	}
	opts, err := cli.NewProjectOptions(
		[]string{filepath.Join(dir, "compose.yaml")},
		cli.WithWorkingDirectory(dir),
		cli.WithEnv(envList),
		cli.WithName("fixture"),
	)
	if err != nil {
		t.Fatal(err)
	}
	project, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("load compose.yaml: %v", err)
	}
	return project
}

// indexFixtureLabels reads the uninterpolated label values and the line of
// each label key straight from the YAML, for both labels and deploy.labels,
// in map and list form.
func indexFixtureLabels(t *testing.T, path string) (map[string]map[string]string, map[string]map[string]int) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Services map[string]struct {
			Labels yaml.Node `yaml:"labels"`
			Deploy struct {
				Labels yaml.Node `yaml:"labels"`
			} `yaml:"deploy"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}

	raw := map[string]map[string]string{}
	lines := map[string]map[string]int{}
	for name, svc := range doc.Services {
		raw[name] = map[string]string{}
		lines[name] = map[string]int{}
		for _, node := range []*yaml.Node{&svc.Labels, &svc.Deploy.Labels} {
			addNodeLabels(node, raw[name], lines[name])
		}
	}
	return raw, lines
}

func addNodeLabels(node *yaml.Node, raw map[string]string, lines map[string]int) {
	switch node.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(node.Content); i += 2 {
			key := strings.TrimSpace(node.Content[i].Value)
			raw[key] = node.Content[i+1].Value
			lines[key] = node.Content[i].Line
		}
	case yaml.SequenceNode:
		for _, item := range node.Content {
			key, value, _ := strings.Cut(item.Value, "=")
			key = strings.TrimSpace(key)
			raw[key] = value
			lines[key] = item.Line
		}
	}
}

func formatParseOutput(t *testing.T, result ParseResult, err error) string {
	t.Helper()
	var b strings.Builder
	section := func(title string, routes []Route) {
		b.WriteString("# " + title + "\n")
		if len(routes) == 0 {
			return
		}
		data, err := json.MarshalIndent(plainRoutes(routes), "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		b.Write(data)
		b.WriteString("\n")
	}
	section("routes", result.Routes)
	section("held", result.Held)

	b.WriteString("# warnings\n")
	for _, w := range result.Warnings {
		b.WriteString(w.String() + "\n")
	}

	b.WriteString("# errors\n")
	if err != nil {
		var merr *multierror.Error
		if !errors.As(err, &merr) {
			t.Fatalf("error is %T, want *multierror.Error", err)
		}
		if !slices.IsSortedFunc(merr.Errors, func(a, b error) int {
			return compareLabelErrors(a.(*LabelError), b.(*LabelError))
		}) {
			t.Errorf("errors are not sorted by file, line, service and key")
		}
		for _, e := range merr.Errors {
			var le *LabelError
			if !errors.As(e, &le) {
				t.Fatalf("error %v is %T, want *LabelError", e, e)
			}
			if le.SecretVar != "" && le.Value != "" {
				t.Errorf("error for secret variable %s keeps the value in Value", le.SecretVar)
			}
			if !errors.Is(e, ErrInvalidLabel) {
				t.Errorf("error %v does not unwrap to ErrInvalidLabel", e)
			}
			b.WriteString(e.Error() + "\n")
		}
	}
	return b.String()
}

// plainRoute is a Route with its originRequest as plain JSON values, so the
// golden files show durations as Go durations ("1.5s") and do not depend on
// how OriginRequest encodes itself for a target.
type plainRoute struct {
	Route
	OriginRequest map[string]any `json:"originRequest,omitempty"`
}

func plainRoutes(routes []Route) []plainRoute {
	out := make([]plainRoute, 0, len(routes))
	for _, r := range routes {
		out = append(out, plainRoute{Route: r, OriginRequest: plainOriginRequest(r.OriginRequest)})
	}
	return out
}

func plainOriginRequest(req OriginRequest) map[string]any {
	if req == nil {
		return nil
	}
	out := map[string]any{}
	for k, v := range req {
		switch v := v.(type) {
		case OriginRequest:
			out[k] = plainOriginRequest(v)
		case time.Duration:
			out[k] = "time.Duration " + v.String()
		default:
			out[k] = fmt.Sprintf("%T %v", v, v)
		}
	}
	return out
}

func TestParseServiceWithoutDeploy(t *testing.T) {
	svc := types.ServiceConfig{Name: "web"}
	svc.Expose = types.StringOrNumberList{"8080"}
	svc.Labels = types.Labels{
		"portcullis.hostname":              "web.example.com",
		"portcullis.routes.again.hostname": "web.example.com",
		"portcullis.routes.docs.hostname":  "web.example.com",
		"portcullis.routes.docs.path":      "/docs",
	}
	routes, warnings, err := ParseService(svc, ParseOptions{File: "compose.yaml"})

	var merr *multierror.Error
	if !errors.As(err, &merr) || len(merr.Errors) != 1 {
		t.Fatalf("ParseService error = %v, want one duplicate error", err)
	}
	var le *LabelError
	if !errors.As(merr.Errors[0], &le) || le.Key != "portcullis.routes.again.hostname" || le.File != "compose.yaml" {
		t.Errorf("duplicate error = %#v, want it on portcullis.routes.again.hostname in compose.yaml", merr.Errors[0])
	}
	if len(warnings) != 0 {
		t.Errorf("warnings = %v, want none", warnings)
	}
	if len(routes) != 3 {
		t.Fatalf("got %d routes, want 3", len(routes))
	}
	if routes[0].Path != "" || routes[1].Path != "" || routes[2].Path != "^(?:/docs)" {
		t.Errorf("routes not sorted by hostname and path: %+v", routes)
	}
	if routes[0].Origin != "http://web:8080" {
		t.Errorf("origin = %q, want http://web:8080", routes[0].Origin)
	}
}

func TestParseProjectNoLabels(t *testing.T) {
	project := &types.Project{Services: types.Services{"db": {Name: "db"}}}
	result, err := ParseProject(project, ParseOptions{})
	if err != nil {
		t.Fatalf("ParseProject error: %v", err)
	}
	if len(result.Routes) != 0 || len(result.Held) != 0 || len(result.Warnings) != 0 {
		t.Errorf("ParseProject = %+v, want an empty result", result)
	}
}
