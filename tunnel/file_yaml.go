package tunnel

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/portcullis-dev/portcullis/ingress"
)

// fileDocument is a parsed config.yml with the nodes the file target edits.
type fileDocument struct {
	root *yaml.Node // the DocumentNode
	top  *yaml.Node // the top-level mapping, nil when the document is empty
	// ingressKey and ingressValue are the "ingress" key and the node under
	// it, nil when absent.
	ingressKey, ingressValue *yaml.Node
	// ingress is the ingress sequence, nil when absent or null.
	ingress  *yaml.Node
	tunnelID string
}

// fileRuleFields is the YAML form of the fields portcullis models in an
// ingress rule, in the order it writes them.
type fileRuleFields struct {
	Hostname      string                `yaml:"hostname,omitempty"`
	Path          string                `yaml:"path,omitempty"`
	Service       string                `yaml:"service,omitempty"`
	OriginRequest ingress.OriginRequest `yaml:"originRequest,omitempty"`
}

// parseFileDocument parses data as a cloudflared config file: one YAML
// document whose top level is a mapping, with an optional "tunnel" scalar
// and an optional "ingress" list.
func parseFileDocument(path string, data []byte) (*fileDocument, error) {
	decoder := yaml.NewDecoder(bytes.NewReader(data))
	root := &yaml.Node{}
	err := decoder.Decode(root)
	if errors.Is(err, io.EOF) {
		// An empty file, or one with only comments, has no document node.
		return &fileDocument{root: &yaml.Node{}}, nil
	}
	if err != nil {
		return nil, &FileConfigError{Path: path, Err: fmt.Errorf("invalid YAML: %w", err)}
	}
	var next yaml.Node
	switch err := decoder.Decode(&next); {
	case err == nil:
		return nil, &FileConfigError{Path: path, Line: next.Line, Err: errors.New("a second YAML document starts here, but cloudflared reads only the first: remove the others")}
	case !errors.Is(err, io.EOF):
		return nil, &FileConfigError{Path: path, Err: fmt.Errorf("invalid YAML: %w", err)}
	}

	doc := &fileDocument{root: root}
	if len(root.Content) == 0 || isNullNode(root.Content[0]) {
		return doc, nil
	}
	top := root.Content[0]
	if top.Kind != yaml.MappingNode {
		return nil, &FileConfigError{Path: path, Line: top.Line, Err: fmt.Errorf("top level is a %s, expected a mapping of settings", nodeKindName(top))}
	}
	doc.top = top
	if err := doc.findKeys(path); err != nil {
		return nil, err
	}
	return doc, nil
}

// findKeys fills tunnelID and the ingress nodes from the top-level mapping.
func (d *fileDocument) findKeys(path string) error {
	seen := map[string]int{}
	for i := 0; i+1 < len(d.top.Content); i += 2 {
		key, value := d.top.Content[i], d.top.Content[i+1]
		if key.Value != "tunnel" && key.Value != "ingress" {
			continue
		}
		if line, dup := seen[key.Value]; dup {
			return &FileConfigError{Path: path, Line: key.Line, Err: fmt.Errorf("key %q is already defined on line %d: remove one of them", key.Value, line)}
		}
		seen[key.Value] = key.Line

		if key.Value == "tunnel" {
			if value.Kind != yaml.ScalarNode {
				return &FileConfigError{Path: path, Line: value.Line, Err: fmt.Errorf("tunnel is a %s, expected a tunnel UUID or name", nodeKindName(value))}
			}
			if !isNullNode(value) {
				d.tunnelID = value.Value
			}
			continue
		}

		d.ingressKey, d.ingressValue = key, value
		switch {
		case isNullNode(value):
		case value.Kind == yaml.SequenceNode:
			d.ingress = value
		default:
			return &FileConfigError{Path: path, Line: value.Line, Err: fmt.Errorf("ingress is a %s, expected a list of rules", nodeKindName(value))}
		}
	}
	return nil
}

// readFileRules decodes every rule of the ingress sequence, in order.
func readFileRules(path string, seq *yaml.Node) ([]LiveRule, error) {
	rules := []LiveRule{}
	if seq == nil {
		return rules, nil
	}
	for i, item := range seq.Content {
		mapping := item
		if mapping.Kind == yaml.AliasNode && mapping.Alias != nil {
			mapping = mapping.Alias
		}
		if mapping.Kind != yaml.MappingNode {
			return nil, &FileConfigError{Path: path, Line: item.Line, Err: fmt.Errorf("ingress rule %d is a %s, expected a mapping with hostname, path and service", i+1, nodeKindName(mapping))}
		}

		var fields fileRuleFields
		if err := mapping.Decode(&fields); err != nil {
			return nil, &FileConfigError{Path: path, Line: item.Line, Err: fmt.Errorf("ingress rule %d: %w", i+1, err)}
		}
		owner, err := ownerFromComment(item.HeadComment)
		if err != nil {
			return nil, &FileConfigError{Path: path, Line: item.Line, Err: fmt.Errorf("ingress rule %d: %w", i+1, err)}
		}

		rules = append(rules, LiveRule{
			Rule:  ingress.Rule{Hostname: fields.Hostname, Path: fields.Path, Service: fields.Service, OriginRequest: fields.OriginRequest},
			Owner: owner,
			Raw:   item,
		})
	}
	return rules, nil
}

// markerFromCommentLine returns the owner id when line, one line of a YAML
// comment, is exactly an ownership marker after its "#" and surrounding
// spaces are removed.
func markerFromCommentLine(line string) (string, bool) {
	text := strings.TrimSpace(line)
	if !strings.HasPrefix(text, "#") {
		return "", false
	}
	return ParseMarker(strings.TrimSpace(strings.TrimPrefix(text, "#")))
}

// ownerFromComment returns the owner named by the marker lines of a rule's
// head comment, or "" when there is none. Two markers naming different
// owners are an error, because either reading could delete a rule that is
// not ours.
func ownerFromComment(comment string) (string, error) {
	owner := ""
	for _, line := range strings.Split(comment, "\n") {
		found, ok := markerFromCommentLine(line)
		if !ok {
			continue
		}
		if owner != "" && found != owner {
			return "", fmt.Errorf("head comment has ownership markers for both %q and %q: keep one", owner, found)
		}
		owner = found
	}
	return owner, nil
}

// commentWithMarker returns comment without its marker lines, followed by
// the marker for owner when owner is not "".
func commentWithMarker(comment, owner string) string {
	var lines []string
	if comment != "" {
		for _, line := range strings.Split(comment, "\n") {
			if _, ok := markerFromCommentLine(line); !ok {
				lines = append(lines, line)
			}
		}
	}
	if owner != "" {
		lines = append(lines, "# "+Marker(owner))
	}
	return strings.Join(lines, "\n")
}

// buildFileIngress returns the sequence items for rules. A rule read from
// the file (Raw is a *yaml.Node) is written from Raw unless its modelled
// fields no longer match Raw, and only its marker line is changed when its
// owner changed. Other rules are encoded from their fields.
func buildFileIngress(rules []LiveRule) ([]*yaml.Node, error) {
	items := make([]*yaml.Node, 0, len(rules))
	for i, lr := range rules {
		if lr.Owner != "" && !OwnerIDPattern.MatchString(lr.Owner) {
			return nil, fmt.Errorf("ingress rule %d (%s): invalid owner id %q: it must match %s", i+1, lr.Hostname, lr.Owner, OwnerIDPattern)
		}
		item, err := fileRuleNode(lr)
		if err != nil {
			return nil, fmt.Errorf("encode ingress rule %d (%s): %w", i+1, lr.Hostname, err)
		}
		items = append(items, item)
	}
	return items, nil
}

// fileRuleNode returns the sequence item for one rule. It never modifies
// lr.Raw, which belongs to the caller's State.
func fileRuleNode(lr LiveRule) (*yaml.Node, error) {
	raw, _ := lr.Raw.(*yaml.Node)
	if raw != nil && rawMatchesRule(raw, lr.Rule) {
		owner, err := ownerFromComment(raw.HeadComment)
		if err == nil && owner == lr.Owner {
			return raw, nil
		}
		remarked := *raw
		remarked.HeadComment = commentWithMarker(raw.HeadComment, lr.Owner)
		return &remarked, nil
	}

	item := &yaml.Node{}
	fields := fileRuleFields{Hostname: lr.Hostname, Path: lr.Path, Service: lr.Service, OriginRequest: lr.OriginRequest}
	if err := item.Encode(fields); err != nil {
		return nil, err
	}
	// A changed rule keeps the comment lines that described it.
	comment := ""
	if raw != nil {
		comment = raw.HeadComment
	}
	item.HeadComment = commentWithMarker(comment, lr.Owner)
	return item, nil
}

// rawMatchesRule reports whether raw decodes to rule, so that writing raw
// back writes what the caller asked for.
func rawMatchesRule(raw *yaml.Node, rule ingress.Rule) bool {
	mapping := raw
	if mapping.Kind == yaml.AliasNode && mapping.Alias != nil {
		mapping = mapping.Alias
	}
	if mapping.Kind != yaml.MappingNode {
		return false
	}
	var fields fileRuleFields
	if err := mapping.Decode(&fields); err != nil {
		return false
	}
	if fields.Hostname != rule.Hostname || fields.Path != rule.Path || fields.Service != rule.Service {
		return false
	}
	if len(fields.OriginRequest) == 0 && len(rule.OriginRequest) == 0 {
		return true
	}
	return reflect.DeepEqual(fields.OriginRequest, rule.OriginRequest)
}

// setNewMapping gives an empty document the keys a created file starts
// with: "tunnel" and "credentials-file" when set.
func (d *fileDocument) setNewMapping(tunnelID, credentialsFile string) {
	d.top = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	if tunnelID != "" {
		d.top.Content = append(d.top.Content, stringNode("tunnel"), stringNode(tunnelID))
	}
	if credentialsFile != "" {
		d.top.Content = append(d.top.Content, stringNode("credentials-file"), stringNode(credentialsFile))
	}
	d.root.Kind = yaml.DocumentNode
	d.root.Content = []*yaml.Node{d.top}
}

// setIngress replaces the items of the ingress sequence, keeping the
// sequence node and its comments, or appends an "ingress" key at the end of
// the top-level mapping when there is none.
func (d *fileDocument) setIngress(items []*yaml.Node) {
	switch {
	case d.ingress != nil:
		d.ingress.Content = items
	case d.ingressValue != nil:
		// "ingress:" with a null value: turn the value into the sequence.
		*d.ingressValue = yaml.Node{
			Kind:        yaml.SequenceNode,
			Tag:         "!!seq",
			HeadComment: d.ingressValue.HeadComment,
			LineComment: d.ingressValue.LineComment,
			FootComment: d.ingressValue.FootComment,
			Content:     items,
		}
		d.ingress = d.ingressValue
	default:
		d.ingressKey = stringNode("ingress")
		d.ingress = &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: items}
		d.ingressValue = d.ingress
		d.top.Content = append(d.top.Content, d.ingressKey, d.ingress)
		return
	}

	if len(items) == 0 {
		return
	}
	// Rules are written one per block item. The comment after "ingress: []"
	// or "ingress: ~" belongs to the value, but in block style yaml.v3 keeps
	// a comment on that line only when the key carries it.
	d.ingress.Style &^= yaml.FlowStyle
	if comment := d.ingress.LineComment; comment != "" {
		d.ingress.LineComment = ""
		if d.ingressKey.LineComment != "" {
			comment = d.ingressKey.LineComment + " " + comment
		}
		d.ingressKey.LineComment = comment
	}
}

// encodeFileDocument encodes root with a two-space indent, the indent of
// the examples in cloudflared's documentation.
func encodeFileDocument(root *yaml.Node) ([]byte, error) {
	var buf bytes.Buffer
	encoder := yaml.NewEncoder(&buf)
	encoder.SetIndent(2)
	if err := encoder.Encode(root); err != nil {
		return nil, err
	}
	if err := encoder.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func stringNode(value string) *yaml.Node {
	node := &yaml.Node{}
	// Encode quotes a value such as "*.example.com" or "true" as YAML
	// requires, and encoding a Go string does not fail.
	_ = node.Encode(value)
	return node
}

func isNullNode(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func nodeKindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.DocumentNode:
		return "document"
	case yaml.SequenceNode:
		return "list"
	case yaml.MappingNode:
		return "mapping"
	case yaml.ScalarNode:
		return "scalar"
	case yaml.AliasNode:
		return "alias"
	}
	return "empty node"
}
