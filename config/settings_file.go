package config

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"gopkg.in/yaml.v3"
)

// ErrUnknownSettingsKey is wrapped by the error for a key of portcullis.yaml
// that portcullis does not know.
var ErrUnknownSettingsKey = errors.New("unknown settings key")

// SettingsFileError is a problem at one key of the settings file.
type SettingsFileError struct {
	File string
	Line int
	Key  string
	// Suggestion is the nearest known key for an unknown key, or "".
	Suggestion string
	Err        error
}

func (e *SettingsFileError) Error() string {
	msg := fmt.Sprintf("%s:%d: key %q: %v", e.File, e.Line, e.Key, e.Err)
	if e.Suggestion != "" {
		msg += fmt.Sprintf(": did you mean %q?", e.Suggestion)
	}
	return msg
}

func (e *SettingsFileError) Unwrap() error { return e.Err }

// checkSettingsFile reports unknown keys (with the nearest known key), keys
// of the wrong shape and keys that may not be written in the file. It walks
// the YAML nodes so that it can give line numbers.
func checkSettingsFile(path string, data []byte) []error {
	decoder := yaml.NewDecoder(strings.NewReader(string(data)))
	var doc yaml.Node
	if err := decoder.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil
		}
		return []error{fmt.Errorf("invalid settings file %s: %w", path, err)}
	}
	if len(doc.Content) == 0 {
		return nil
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return nil
	}
	if root.Kind != yaml.MappingNode {
		return []error{fmt.Errorf("invalid settings file %s: the top level must be a mapping of keys", path)}
	}
	return checkMapping(path, "", root)
}

func checkMapping(path, prefix string, node *yaml.Node) []error {
	var errs []error
	for i := 0; i+1 < len(node.Content); i += 2 {
		keyNode, valueNode := node.Content[i], node.Content[i+1]
		key := prefix + keyNode.Value
		fail := func(err error, suggestion string) {
			errs = append(errs, &SettingsFileError{File: path, Line: keyNode.Line, Key: key, Suggestion: suggestion, Err: err})
		}

		if isSection(key) {
			if valueNode.Kind == yaml.MappingNode {
				errs = append(errs, checkMapping(path, key+".", valueNode)...)
			} else if !isNull(valueNode) {
				fail(errors.New("expected a mapping of keys"), "")
			}
			continue
		}

		k, known := findKey(key)
		if !known {
			fail(ErrUnknownSettingsKey, nearestKey(key))
			continue
		}
		if k.envOnly {
			fail(errors.New("a token may not be written in the settings file: set CLOUDFLARE_API_TOKEN (or "+EnvVar(k.name)+") in the environment, or put the token in a file named by cloudflare.api_token_file"), "")
			continue
		}
		if err := checkShape(k, valueNode); err != nil {
			fail(err, "")
		}
	}
	return errs
}

func checkShape(k settingKey, node *yaml.Node) error {
	if isNull(node) {
		return nil
	}
	switch {
	case node.Kind == yaml.ScalarNode:
		return nil
	case node.Kind == yaml.SequenceNode && k.kind == kindList:
		for _, item := range node.Content {
			if item.Kind != yaml.ScalarNode {
				return errors.New("expected a list of strings")
			}
		}
		return nil
	case k.kind == kindList:
		return errors.New("expected a list of strings")
	case k.kind == kindInt:
		return errors.New("expected a whole number")
	}
	return errors.New("expected a string")
}

func isNull(node *yaml.Node) bool {
	return node.Kind == yaml.ScalarNode && node.Tag == "!!null"
}

func isSection(name string) bool {
	prefix := name + "."
	for _, k := range settingKeys {
		if strings.HasPrefix(k.name, prefix) {
			return true
		}
	}
	return false
}

func findKey(name string) (settingKey, bool) {
	for _, k := range settingKeys {
		if k.name == name {
			return k, true
		}
	}
	return settingKey{}, false
}

// nearestKey returns the known key or section closest to name by edit
// distance; the first in settingKeys order wins a tie.
func nearestKey(name string) string {
	var candidates []string
	seen := map[string]bool{}
	for _, k := range settingKeys {
		if k.envOnly {
			continue
		}
		if section, _, ok := strings.Cut(k.name, "."); ok && !seen[section] {
			seen[section] = true
			candidates = append(candidates, section)
		}
		candidates = append(candidates, k.name)
	}

	best, bestDistance := "", -1
	for _, c := range candidates {
		d := editDistance(name, c)
		if bestDistance < 0 || d < bestDistance {
			best, bestDistance = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	previous := make([]int, len(b)+1)
	current := make([]int, len(b)+1)
	for j := range previous {
		previous[j] = j
	}
	for i := 1; i <= len(a); i++ {
		current[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			current[j] = min(previous[j]+1, current[j-1]+1, previous[j-1]+cost)
		}
		previous, current = current, previous
	}
	return previous[len(b)]
}
