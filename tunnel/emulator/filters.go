package emulator

import (
	"slices"
	"sort"
	"strconv"
	"strings"
)

// recordFilter is the parsed filter set of a DNS record listing. Plain
// filters combine by "match" (all or any), and tag filters by "tag_match",
// also accepted as "tag-match" because cloudflare-go v0 spells it so. A
// record must pass both groups.
type recordFilter struct {
	plain    []func(*Record) bool
	matchAny bool
	tags     []func(*Record) bool
	tagAny   bool
}

func (f recordFilter) matches(r *Record) bool {
	return combine(f.plain, f.matchAny, r) && combine(f.tags, f.tagAny, r)
}

func combine(preds []func(*Record) bool, anyOf bool, r *Record) bool {
	if len(preds) == 0 {
		return true
	}
	for _, p := range preds {
		if p(r) == anyOf {
			return anyOf
		}
	}
	return !anyOf
}

// stringOps are the comparison suffixes of name, content and comment
// filters. All compare without regard to case.
var stringOps = map[string]func(value, operand string) bool{
	"exact":      strings.EqualFold,
	"contains":   func(v, o string) bool { return strings.Contains(strings.ToLower(v), strings.ToLower(o)) },
	"startswith": func(v, o string) bool { return strings.HasPrefix(strings.ToLower(v), strings.ToLower(o)) },
	"endswith":   func(v, o string) bool { return strings.HasSuffix(strings.ToLower(v), strings.ToLower(o)) },
}

// parseRecordFilter reads the filters of GET /zones/{z}/dns_records.
// Unknown query keys are ignored, as the API does with keys such as search.
func parseRecordFilter(q map[string][]string, zone string) (recordFilter, *response) {
	var f recordFilter
	for _, key := range sortedKeys(q) {
		value := q[key][0]
		field, op, hasOp := strings.Cut(key, ".")
		if !hasOp {
			op = "exact"
		}

		var errResp *response
		switch field {
		case "name", "content", "comment":
			errResp = f.addStringFilter(field, op, value, zone)
		case "type":
			f.plain = append(f.plain, func(r *Record) bool { return strings.EqualFold(r.Type, value) })
		case "proxied":
			errResp = f.addProxiedFilter(value)
		case "tag":
			errResp = f.addTagFilter(op, hasOp, value)
		case "match", "tag_match", "tag-match":
			errResp = f.setMatch(field, value)
		}
		if errResp != nil {
			return f, errResp
		}
	}
	return f, nil
}

func (f *recordFilter) addStringFilter(field, op, value, zone string) *response {
	get := func(r *Record) string {
		switch field {
		case "name":
			return r.Name
		case "content":
			return r.Content
		}
		return r.Comment
	}

	if field == "comment" && (op == "present" || op == "absent") {
		want := op == "present"
		f.plain = append(f.plain, func(r *Record) bool { return (r.Comment != "") == want })
		return nil
	}
	compare, known := stringOps[op]
	if !known {
		resp := invalidRequest("invalid filter %s.%s: use exact, contains, startswith or endswith", field, op)
		return &resp
	}
	if field == "name" {
		if ascii, err := toASCIIName(value); err == nil {
			value = ascii
		}
		if op == "exact" {
			value = normalizeRecordName(value, zone)
		}
	}
	f.plain = append(f.plain, func(r *Record) bool { return compare(get(r), value) })
	return nil
}

func (f *recordFilter) addProxiedFilter(value string) *response {
	want, valid := parseBool(value)
	if !valid {
		resp := invalidRequest("invalid proxied %q: use true or false", value)
		return &resp
	}
	f.plain = append(f.plain, func(r *Record) bool { return r.Proxied == want })
	return nil
}

// addTagFilter adds tag, tag.present, tag.absent, tag.exact, tag.contains,
// tag.startswith or tag.endswith. A bare "tag=name" means tag.present and
// "tag=name:value" means tag.exact.
func (f *recordFilter) addTagFilter(op string, hasOp bool, value string) *response {
	if !hasOp {
		op = "present"
		if strings.Contains(value, ":") {
			op = "exact"
		}
	}

	hasTag := func(r *Record, test func(name, tagValue string) bool) bool {
		return slices.ContainsFunc(r.Tags, func(tag string) bool {
			name, tagValue, _ := strings.Cut(tag, ":")
			return test(name, tagValue)
		})
	}
	wantName, wantValue, _ := strings.Cut(value, ":")

	var pred func(*Record) bool
	switch op {
	case "present":
		pred = func(r *Record) bool {
			return hasTag(r, func(n, _ string) bool { return strings.EqualFold(n, value) })
		}
	case "absent":
		pred = func(r *Record) bool {
			return !hasTag(r, func(n, _ string) bool { return strings.EqualFold(n, value) })
		}
	case "exact", "contains", "startswith", "endswith":
		compare := stringOps[op]
		pred = func(r *Record) bool {
			return hasTag(r, func(n, v string) bool { return strings.EqualFold(n, wantName) && compare(v, wantValue) })
		}
	default:
		resp := invalidRequest("invalid filter tag.%s: use present, absent, exact, contains, startswith or endswith", op)
		return &resp
	}
	f.tags = append(f.tags, pred)
	return nil
}

func (f *recordFilter) setMatch(key, value string) *response {
	var anyOf bool
	switch strings.ToLower(value) {
	case "any":
		anyOf = true
	case "all":
	default:
		resp := invalidRequest("invalid %s %q: use all or any", key, value)
		return &resp
	}
	if key == "match" {
		f.matchAny = anyOf
	} else {
		f.tagAny = anyOf
	}
	return nil
}

// orderRecords sorts records by the query's order and direction. Without
// order they come by name, type and id, which makes listings deterministic.
func orderRecords(q map[string][]string, records []*recordState) ([]*recordState, *response) {
	out := sortedRecords(records)
	order, hasOrder := firstValue(q, "order")
	direction, _ := firstValue(q, "direction")
	if direction != "" && direction != "asc" && direction != "desc" {
		resp := invalidRequest("invalid direction %q: use asc or desc", direction)
		return nil, &resp
	}
	if !hasOrder {
		if direction == "desc" {
			slices.Reverse(out)
		}
		return out, nil
	}

	keys := map[string]func(*recordState) string{
		"type":    func(r *recordState) string { return r.Type },
		"name":    func(r *recordState) string { return r.Name },
		"content": func(r *recordState) string { return r.Content },
		"ttl":     func(r *recordState) string { return strconv.Itoa(1e6 + r.TTL) },
		"proxied": func(r *recordState) string { return strconv.FormatBool(r.Proxied) },
	}
	key, known := keys[order]
	if !known {
		resp := invalidRequest("invalid order %q: use type, name, content, ttl or proxied", order)
		return nil, &resp
	}
	sort.SliceStable(out, func(i, j int) bool {
		if direction == "desc" {
			return key(out[i]) > key(out[j])
		}
		return key(out[i]) < key(out[j])
	})
	return out, nil
}

// sortedKeys returns a map's keys in order, so that checks run and report
// in a fixed order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
