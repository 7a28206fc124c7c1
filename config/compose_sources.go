package config

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
)

// maxSourceDepth bounds how deep include and extends chains are followed
// when locating labels; compose-go has already rejected cycles.
const maxSourceDepth = 16

// Sources returns where the label key of service is written: the absolute
// path of the compose file and the line of the label. Later files win, as
// in compose's merge, and labels inherited through extends are found in
// the base service. When the label is not found (for example because it
// comes from a label_file), it returns the last file that defines the
// service and line 0; for an unknown service it returns "" and 0.
func (p *Project) Sources(service, key string) (file string, line int) {
	if p.sources == nil {
		return "", 0
	}
	return p.sources.lookup(service, key)
}

// serviceLabels is the label positions of one service in one compose file.
type serviceLabels struct {
	// lines maps label key to line; labels wins over deploy.labels.
	lines map[string]int
	// values maps label key to its text as written, before interpolation;
	// a key in both labels and deploy.labels holds both texts.
	values  map[string]string
	extends *extendsRef
}

type extendsRef struct {
	file    string
	service string
}

// labelSources indexes the label positions of the compose files of a
// project, parsed with the YAML node API. It decides nothing about the
// project's content: compose-go has loaded the files already.
type labelSources struct {
	// order lists the files in merge order, included files before the file
	// that includes them.
	order []string
	files map[string]map[string]*serviceLabels
}

func indexLabelSources(workingDir string, files []string) *labelSources {
	ls := &labelSources{files: map[string]map[string]*serviceLabels{}}
	for _, f := range files {
		ls.visit(f, workingDir, 0)
	}
	return ls
}

// visit indexes file after the files it includes. Relative include and
// extends paths resolve against baseDir: the project directory for the
// files given to compose, and an included file's project directory (by
// default its own directory) for included files.
func (ls *labelSources) visit(file, baseDir string, depth int) {
	if _, done := ls.files[file]; done || depth > maxSourceDepth {
		return
	}
	roots := parseYAMLDocuments(file)
	ls.files[file] = map[string]*serviceLabels{}

	for _, root := range roots {
		for _, inc := range includeEntries(root, baseDir) {
			ls.visit(inc.file, inc.projectDir, depth+1)
		}
	}
	for _, root := range roots {
		ls.indexServices(file, baseDir, root)
	}
	ls.order = append(ls.order, file)
}

func (ls *labelSources) indexServices(file, baseDir string, root *yaml.Node) {
	services := mappingValue(root, "services")
	if services == nil || services.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(services.Content); i += 2 {
		name := services.Content[i].Value
		svc := resolveAlias(services.Content[i+1])
		entry := &serviceLabels{lines: map[string]int{}, values: map[string]string{}}

		if deploy := mappingValue(svc, "deploy"); deploy != nil {
			addLabelLines(entry.lines, entry.values, mappingValue(deploy, "labels"))
		}
		addLabelLines(entry.lines, entry.values, mappingValue(svc, "labels"))
		entry.extends = extendsOf(svc, file, baseDir, name)
		ls.files[file][name] = entry
	}
}

func (ls *labelSources) lookup(service, key string) (string, int) {
	fallback := ""
	for i := len(ls.order) - 1; i >= 0; i-- {
		file := ls.order[i]
		if _, ok := ls.files[file][service]; ok && fallback == "" {
			fallback = file
		}
		if f, line, ok := ls.find(file, service, key, 0); ok {
			return f, line
		}
	}
	return fallback, 0
}

func (ls *labelSources) find(file, service, key string, depth int) (string, int, bool) {
	entry := ls.files[file][service]
	if entry == nil || depth > maxSourceDepth {
		return "", 0, false
	}
	if line, ok := entry.lines[key]; ok {
		return file, line, true
	}
	if entry.extends == nil {
		return "", 0, false
	}
	if _, parsed := ls.files[entry.extends.file]; !parsed {
		ls.indexExtendsFile(entry.extends.file)
	}
	return ls.find(entry.extends.file, entry.extends.service, key, depth+1)
}

// indexExtendsFile indexes a file that is only referenced by extends, so
// it is not part of the merge order.
func (ls *labelSources) indexExtendsFile(file string) {
	ls.files[file] = map[string]*serviceLabels{}
	for _, root := range parseYAMLDocuments(file) {
		ls.indexServices(file, filepath.Dir(file), root)
	}
}

// addLabelLines records the line and the text of each label, in map form
// (key: value) or list form (- key=value).
func addLabelLines(lines map[string]int, values map[string]string, labels *yaml.Node) {
	if labels == nil {
		return
	}
	add := func(key, value string, line int) {
		key = strings.TrimSpace(key)
		lines[key] = line
		if previous, ok := values[key]; ok && previous != value {
			value = previous + " " + value
		}
		values[key] = value
	}
	switch labels.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(labels.Content); i += 2 {
			add(labels.Content[i].Value, resolveAlias(labels.Content[i+1]).Value, labels.Content[i].Line)
		}
	case yaml.SequenceNode:
		for _, item := range labels.Content {
			item = resolveAlias(item)
			key, value, _ := strings.Cut(item.Value, "=")
			add(key, value, item.Line)
		}
	}
}

// rawLabels returns every service's label texts before interpolation, as
// compose merges them: later files win, and a service's own labels win over
// those it extends.
func (ls *labelSources) rawLabels() map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, file := range ls.order {
		for service := range ls.files[file] {
			merged := out[service]
			if merged == nil {
				merged = map[string]string{}
				out[service] = merged
			}
			ls.collectValues(file, service, merged, 0)
		}
	}
	return out
}

// collectValues copies the label texts of service in file into dst, those
// of the service it extends first.
func (ls *labelSources) collectValues(file, service string, dst map[string]string, depth int) {
	entry := ls.files[file][service]
	if entry == nil || depth > maxSourceDepth {
		return
	}
	if entry.extends != nil {
		if _, parsed := ls.files[entry.extends.file]; !parsed {
			ls.indexExtendsFile(entry.extends.file)
		}
		ls.collectValues(entry.extends.file, entry.extends.service, dst, depth+1)
	}
	for key, value := range entry.values {
		dst[key] = value
	}
}

type includeEntry struct {
	file       string
	projectDir string
}

// includeEntries lists the local files of a top-level include section. The
// short form is a path; the long form has path (a string or a list, the
// first being the main file) and project_directory.
func includeEntries(root *yaml.Node, baseDir string) []includeEntry {
	include := mappingValue(root, "include")
	if include == nil || include.Kind != yaml.SequenceNode {
		return nil
	}
	var out []includeEntry
	for _, item := range include.Content {
		item = resolveAlias(item)
		var paths []string
		projectDir := ""
		switch item.Kind {
		case yaml.ScalarNode:
			paths = []string{item.Value}
		case yaml.MappingNode:
			paths = scalarList(mappingValue(item, "path"))
			if pd := mappingValue(item, "project_directory"); pd != nil {
				projectDir = resolvePath(baseDir, pd.Value)
			}
		}
		if len(paths) == 0 {
			continue
		}
		if projectDir == "" {
			projectDir = filepath.Dir(resolvePath(baseDir, paths[0]))
		}
		for _, p := range paths {
			out = append(out, includeEntry{file: resolvePath(baseDir, p), projectDir: projectDir})
		}
	}
	return out
}

func extendsOf(svc *yaml.Node, file, baseDir, service string) *extendsRef {
	ext := mappingValue(svc, "extends")
	if ext == nil {
		return nil
	}
	if ext.Kind == yaml.ScalarNode {
		return &extendsRef{file: file, service: ext.Value}
	}
	base := mappingValue(ext, "service")
	if base == nil {
		return nil
	}
	ref := &extendsRef{file: file, service: base.Value}
	if f := mappingValue(ext, "file"); f != nil && f.Value != "" {
		ref.file = resolvePath(baseDir, f.Value)
	}
	if ref.file == file && ref.service == service {
		return nil
	}
	return ref
}

func scalarList(node *yaml.Node) []string {
	if node == nil {
		return nil
	}
	if node.Kind == yaml.ScalarNode {
		return []string{node.Value}
	}
	var out []string
	for _, item := range node.Content {
		out = append(out, resolveAlias(item).Value)
	}
	return out
}

// mappingValue returns the value of key in a mapping node, following
// aliases and YAML merge keys (<<); nil when absent.
func mappingValue(node *yaml.Node, key string) *yaml.Node {
	node = resolveAlias(node)
	if node == nil || node.Kind != yaml.MappingNode {
		return nil
	}
	var merged []*yaml.Node
	for i := 0; i+1 < len(node.Content); i += 2 {
		k, v := node.Content[i], node.Content[i+1]
		if k.Value == key {
			return resolveAlias(v)
		}
		if k.Tag == "!!merge" {
			merged = append(merged, v)
		}
	}
	for _, m := range merged {
		m = resolveAlias(m)
		candidates := []*yaml.Node{m}
		if m.Kind == yaml.SequenceNode {
			candidates = m.Content
		}
		for _, c := range candidates {
			if v := mappingValue(c, key); v != nil {
				return v
			}
		}
	}
	return nil
}

func resolveAlias(node *yaml.Node) *yaml.Node {
	for i := 0; node != nil && node.Kind == yaml.AliasNode && i < maxSourceDepth; i++ {
		node = node.Alias
	}
	return node
}

// parseYAMLDocuments returns the root mapping of each YAML document of
// file. A file that cannot be read or parsed gives what was parsed so far:
// compose-go has loaded the file, so positions are only a help.
func parseYAMLDocuments(file string) []*yaml.Node {
	f, err := os.Open(file)
	if err != nil {
		return nil
	}
	defer f.Close()

	var roots []*yaml.Node
	decoder := yaml.NewDecoder(f)
	for {
		var doc yaml.Node
		err := decoder.Decode(&doc)
		if errors.Is(err, io.EOF) || err != nil {
			return roots
		}
		if len(doc.Content) > 0 {
			roots = append(roots, doc.Content[0])
		}
	}
}
