package ingress

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"

	"gopkg.in/yaml.v3"
)

// originAccessKey is the originRequest key of the nested Access settings object.
const originAccessKey = "access"

// originAudTagKey is the key inside the access object that holds the audience tags.
const originAudTagKey = "audTag"

// MarshalJSON encodes the fields in the form the Cloudflare API and
// cloudflared's JSON config take: keys sorted, durations as integer seconds
// and the access object nested. A duration that is not a whole number of
// seconds is written as a Go duration string ("1.5s"), so that plan
// documents can carry it. Only the file target accepts such a duration from
// labels, so the API never receives one.
func (o OriginRequest) MarshalJSON() ([]byte, error) {
	out := make(map[string]any, len(o))
	for key, value := range o {
		encoded, err := originRequestJSONValue(key, value)
		if err != nil {
			return nil, err
		}
		out[key] = encoded
	}
	return json.Marshal(out)
}

// originRequestJSONValue converts one canonical value to its API JSON value.
func originRequestJSONValue(key string, value any) (any, error) {
	d, ok := value.(time.Duration)
	if !ok {
		return value, nil
	}
	if d%time.Second != 0 {
		return d.String(), nil
	}
	return int64(d / time.Second), nil
}

// UnmarshalJSON decodes API JSON into canonical values: duration fields from
// integer seconds, integral numbers as int64, other numbers as float64 and
// the access object as an OriginRequest whose audTag is a []string. Keys that
// portcullis does not model are kept with their decoded values.
func (o *OriginRequest) UnmarshalJSON(b []byte) error {
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		return nil
	}

	decoder := json.NewDecoder(bytes.NewReader(b))
	decoder.UseNumber()
	var raw map[string]any
	if err := decoder.Decode(&raw); err != nil {
		return fmt.Errorf("decode originRequest: %w", err)
	}

	result, err := canonicalOriginRequestFields(raw, originDurationFromJSON)
	if err != nil {
		return err
	}
	*o = result
	return nil
}

// originDurationFromJSON reads a duration field from JSON, where cloudflared accepts
// only an integer number of seconds. A Go duration string is accepted too,
// because plan documents carry sub-second file-target durations that way.
func originDurationFromJSON(key string, value any) (time.Duration, error) {
	if text, ok := value.(string); ok {
		d, err := time.ParseDuration(text)
		if err != nil {
			return 0, fmt.Errorf("decode originRequest.%s: expected integer seconds, got %q", key, text)
		}
		return d, nil
	}
	n, ok := value.(json.Number)
	if !ok {
		return 0, fmt.Errorf("decode originRequest.%s: expected integer seconds, got %v", key, value)
	}
	seconds, err := strconv.ParseInt(n.String(), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("decode originRequest.%s: expected integer seconds, got %s: %w", key, n, err)
	}
	return durationFromSeconds(key, seconds)
}

// durationFromSeconds converts whole seconds to a Duration, rejecting overflow.
func durationFromSeconds(key string, seconds int64) (time.Duration, error) {
	limit := int64(math.MaxInt64 / int64(time.Second))
	if seconds > limit || seconds < -limit {
		return 0, fmt.Errorf("decode originRequest.%s: %d seconds is out of range", key, seconds)
	}
	return time.Duration(seconds) * time.Second, nil
}

// originDurationReader turns the decoded value of a duration field into a Duration.
type originDurationReader func(key string, value any) (time.Duration, error)

// canonicalOriginRequestFields converts a generically decoded object into an
// OriginRequest with canonical value types.
func canonicalOriginRequestFields(raw map[string]any, readDuration originDurationReader) (OriginRequest, error) {
	result := make(OriginRequest, len(raw))
	for key, value := range raw {
		canonical, err := canonicalOriginRequestField(key, value, readDuration)
		if err != nil {
			return nil, err
		}
		result[key] = canonical
	}
	return result, nil
}

// canonicalOriginRequestField converts one top-level field value.
func canonicalOriginRequestField(key string, value any, readDuration originDurationReader) (any, error) {
	if DurationFields[key] {
		return readDuration(key, value)
	}
	if key != originAccessKey {
		return canonicalDecodedValue(value), nil
	}

	object, ok := value.(map[string]any)
	if !ok {
		// Not an object: cloudflared would reject it, so keep it untouched
		// for the validator to report.
		return canonicalDecodedValue(value), nil
	}
	return canonicalOriginAccess(object)
}

// canonicalOriginAccess converts the access object, whose audTag must be a list of
// strings.
func canonicalOriginAccess(object map[string]any) (OriginRequest, error) {
	access := make(OriginRequest, len(object))
	for key, value := range object {
		if key != originAudTagKey {
			access[key] = canonicalDecodedValue(value)
			continue
		}
		tags, err := decodeAudTagList(value)
		if err != nil {
			return nil, fmt.Errorf("decode originRequest.access.audTag: %w", err)
		}
		access[key] = tags
	}
	return access, nil
}

// decodeAudTagList converts a decoded list whose items must all be strings.
func decodeAudTagList(value any) ([]string, error) {
	switch list := value.(type) {
	case []string:
		return list, nil
	case []any:
		tags := make([]string, 0, len(list))
		for i, item := range list {
			text, ok := item.(string)
			if !ok {
				return nil, fmt.Errorf("item %d is %v, expected a string", i, item)
			}
			tags = append(tags, text)
		}
		return tags, nil
	default:
		return nil, fmt.Errorf("expected a list of strings, got %v", value)
	}
}

// canonicalDecodedValue normalises a generically decoded JSON or YAML value: every
// integral number becomes int64, other numbers float64, and maps and lists
// are normalised element by element.
func canonicalDecodedValue(value any) any {
	switch v := value.(type) {
	case json.Number:
		if n, err := strconv.ParseInt(v.String(), 10, 64); err == nil {
			return n
		}
		if f, err := v.Float64(); err == nil {
			return f
		}
		return v.String()
	case int:
		return int64(v)
	case uint64:
		if v <= math.MaxInt64 {
			return int64(v)
		}
		return float64(v)
	case map[string]any:
		out := make(map[string]any, len(v))
		for key, item := range v {
			out[key] = canonicalDecodedValue(item)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, item := range v {
			out[i] = canonicalDecodedValue(item)
		}
		return out
	default:
		return value
	}
}

// MarshalYAML encodes the fields in the form of cloudflared's config.yml:
// keys sorted, durations as Go duration strings ("30s", "1m30s").
func (o OriginRequest) MarshalYAML() (any, error) {
	node := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for _, key := range sortedOriginRequestKeys(o) {
		value := o[key]
		if d, ok := value.(time.Duration); ok {
			value = d.String()
		}

		keyNode := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}
		valueNode := &yaml.Node{}
		if err := valueNode.Encode(value); err != nil {
			return nil, fmt.Errorf("encode originRequest.%s as YAML: %w", key, err)
		}
		node.Content = append(node.Content, keyNode, valueNode)
	}
	return node, nil
}

// UnmarshalYAML decodes a config.yml originRequest mapping into canonical
// values. Duration fields take Go duration strings or integer seconds.
func (o *OriginRequest) UnmarshalYAML(n *yaml.Node) error {
	var raw map[string]any
	if err := n.Decode(&raw); err != nil {
		return fmt.Errorf("decode originRequest: %w", err)
	}
	if raw == nil {
		*o = nil
		return nil
	}

	result, err := canonicalOriginRequestFields(raw, originDurationFromYAML)
	if err != nil {
		return err
	}
	*o = result
	return nil
}

// originDurationFromYAML reads a duration field from YAML: a Go duration string or
// integer seconds.
func originDurationFromYAML(key string, value any) (time.Duration, error) {
	switch v := value.(type) {
	case string:
		d, err := time.ParseDuration(v)
		if err != nil {
			return 0, fmt.Errorf("decode originRequest.%s: %q is not a duration such as \"30s\" or \"1m30s\": %w", key, v, err)
		}
		return d, nil
	case int:
		return durationFromSeconds(key, int64(v))
	case int64:
		return durationFromSeconds(key, v)
	case uint64:
		if v > math.MaxInt64 {
			return 0, fmt.Errorf("decode originRequest.%s: %d seconds is out of range", key, v)
		}
		return durationFromSeconds(key, int64(v))
	default:
		return 0, fmt.Errorf("decode originRequest.%s: expected a duration such as \"30s\" or integer seconds, got %v", key, value)
	}
}

// Canonical returns the fields as JSON text with sorted keys, for comparisons
// and tie-breaks. Durations are integer seconds, except that a duration with
// a fractional second is its Go string ("1.5s"), so that it has a text form
// where MarshalJSON fails. A nil and an empty OriginRequest both give "{}".
func (o OriginRequest) Canonical() string {
	if len(o) == 0 {
		return "{}"
	}
	text, err := json.Marshal(originRequestCanonicalForm(o))
	if err != nil {
		// Only values no config can carry (channels, NaN) get here.
		return fmt.Sprintf("%#v", map[string]any(o))
	}
	return string(text)
}

// originRequestCanonicalForm rewrites durations for Canonical, descending into the access
// object.
func originRequestCanonicalForm(o OriginRequest) map[string]any {
	out := make(map[string]any, len(o))
	for key, value := range o {
		switch v := value.(type) {
		case time.Duration:
			if v%time.Second == 0 {
				out[key] = int64(v / time.Second)
			} else {
				out[key] = v.String()
			}
		case OriginRequest:
			out[key] = originRequestCanonicalForm(v)
		default:
			out[key] = value
		}
	}
	return out
}

// Equal reports whether two rules are the same rule: hostname, path and
// service equal, and originRequest equal after canonicalisation, so a nil
// and an empty originRequest are equal.
func (r Rule) Equal(o Rule) bool {
	return r.Hostname == o.Hostname &&
		r.Path == o.Path &&
		r.Service == o.Service &&
		r.OriginRequest.Canonical() == o.OriginRequest.Canonical()
}

// ruleYAMLLayout is the config.yml layout of one ingress rule.
type ruleYAMLLayout struct {
	Hostname      string        `yaml:"hostname,omitempty"`
	Path          string        `yaml:"path,omitempty"`
	Service       string        `yaml:"service"`
	OriginRequest OriginRequest `yaml:"originRequest,omitempty"`
}

// MarshalYAML encodes the rule with cloudflared's config.yml keys, omitting
// empty hostname, path and originRequest.
func (r Rule) MarshalYAML() (any, error) {
	return ruleYAMLLayout(r), nil
}

// UnmarshalYAML decodes one config.yml ingress rule.
func (r *Rule) UnmarshalYAML(n *yaml.Node) error {
	var decoded ruleYAMLLayout
	if err := n.Decode(&decoded); err != nil {
		return err
	}
	*r = Rule(decoded)
	return nil
}

// sortedOriginRequestKeys returns the keys of o in lexical order.
func sortedOriginRequestKeys(o OriginRequest) []string {
	keys := make([]string, 0, len(o))
	for key := range o {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	return keys
}
