package ingress

import (
	"os"
	"strconv"

	"gopkg.in/yaml.v3"
)

// ComposePositions locates service keys (ports, network_mode, networks, ...)
// in compose files through the YAML node API, for findings that point at a
// line. It reads the files itself and decides nothing about their content,
// because compose-go has loaded the project already.
type ComposePositions struct {
	files []string
	roots map[string][]*yaml.Node
}

// LoadComposePositions parses files, given in merge order. A file that
// cannot be read or parsed is skipped, so its keys have no line.
//
// NOTE: keys written in included files or inherited through extends are not
// found; Find then returns the last file that defines the service, line 0.
func LoadComposePositions(files []string) *ComposePositions {
	c := &ComposePositions{files: files, roots: map[string][]*yaml.Node{}}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			continue
		}
		var doc yaml.Node
		if err := yaml.Unmarshal(data, &doc); err != nil {
			continue
		}
		if len(doc.Content) > 0 {
			c.roots[file] = append(c.roots[file], doc.Content[0])
		}
	}
	return c
}

// Find returns the file and line of services.SERVICE.PATH[0].PATH[1]...,
// where a numeric path element indexes a sequence. Later files win, as in
// compose's merge. When the path is not found it returns the last file that
// defines the service and line 0, and "" and 0 for an unknown service.
func (c *ComposePositions) Find(service string, path ...string) (file string, line int) {
	if c == nil {
		return "", 0
	}
	for i := len(c.files) - 1; i >= 0; i-- {
		f := c.files[i]
		for _, root := range c.roots[f] {
			svc := yamlMappingValue(yamlMappingValue(root, "services"), service)
			if svc == nil {
				continue
			}
			if file == "" {
				file = f
			}
			if n := walkComposeYAMLPath(svc, path); n != nil {
				return f, n.Line
			}
		}
	}
	return file, 0
}

// walkYAMLPath follows path from node and returns the key node of the last
// mapping step, or the item node of the last sequence step.
func walkComposeYAMLPath(node *yaml.Node, path []string) *yaml.Node {
	var found *yaml.Node
	for _, step := range path {
		if node == nil {
			return nil
		}
		switch node.Kind {
		case yaml.MappingNode:
			key, value := yamlMappingEntry(node, step)
			if key == nil {
				return nil
			}
			found, node = key, value
		case yaml.SequenceNode:
			i, err := strconv.Atoi(step)
			if err != nil || i < 0 || i >= len(node.Content) {
				return nil
			}
			found, node = node.Content[i], node.Content[i]
		default:
			return nil
		}
	}
	return found
}

// mappingEntry returns the key and value nodes of key in a mapping node.
func yamlMappingEntry(node *yaml.Node, key string) (*yaml.Node, *yaml.Node) {
	if node == nil || node.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(node.Content); i += 2 {
		if node.Content[i].Value == key {
			return node.Content[i], node.Content[i+1]
		}
	}
	return nil, nil
}

func yamlMappingValue(node *yaml.Node, key string) *yaml.Node {
	_, value := yamlMappingEntry(node, key)
	return value
}
