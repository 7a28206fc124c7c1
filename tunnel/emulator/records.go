package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"unicode/utf8"
)

// Paging of the DNS record list, as the API documents it.
const (
	recordsDefaultPerPage = 100
	recordsMaxPerPage     = 5000000
)

// recordJSON is the wire form of a DNS record.
type recordJSON struct {
	ID         string          `json:"id"`
	ZoneID     string          `json:"zone_id"`
	ZoneName   string          `json:"zone_name"`
	Name       string          `json:"name"`
	Type       string          `json:"type"`
	Content    string          `json:"content"`
	Proxiable  bool            `json:"proxiable"`
	Proxied    bool            `json:"proxied"`
	TTL        int             `json:"ttl"`
	Settings   json.RawMessage `json:"settings"`
	Meta       map[string]any  `json:"meta"`
	Comment    *string         `json:"comment"`
	Tags       []string        `json:"tags"`
	CreatedOn  string          `json:"created_on"`
	ModifiedOn string          `json:"modified_on"`
}

func (z *zoneState) recordJSON(r *recordState) recordJSON {
	out := recordJSON{
		ID:         r.ID,
		ZoneID:     z.ID,
		ZoneName:   z.Name,
		Name:       r.Name,
		Type:       r.Type,
		Content:    r.Content,
		Proxiable:  proxiable(r.Type),
		Proxied:    r.Proxied,
		TTL:        r.TTL,
		Settings:   r.settings,
		Meta:       map[string]any{},
		Tags:       slices.Clone(r.Tags),
		CreatedOn:  formatTime(r.createdOn),
		ModifiedOn: formatTime(r.modifiedOn),
	}
	if out.Settings == nil {
		out.Settings = json.RawMessage("{}")
	}
	if out.Tags == nil {
		out.Tags = []string{}
	}
	if r.Comment != "" {
		c := r.Comment
		out.Comment = &c
	}
	return out
}

func proxiable(recordType string) bool {
	switch recordType {
	case "A", "AAAA", "CNAME":
		return true
	}
	return false
}

// recordZone returns the zone of a DNS request after checking the token's
// permissions: read needs DNSRead or DNSEdit, write needs DNSEdit.
func (e *Emulator) recordZone(req *request, zoneID string, write bool) (*zoneState, *response) {
	allowed := req.allows(DNSEdit)
	if !write {
		allowed = allowed || req.allows(DNSRead)
	}
	if !allowed {
		return nil, &errAuthentication
	}

	z := e.zoneByID(zoneID)
	if z == nil {
		resp := fail(http.StatusNotFound, codeNoRoute,
			fmt.Sprintf("No zone with identifier %s: check the zone id", zoneID))
		return nil, &resp
	}
	return z, nil
}

func recordNotFound() response {
	return fail(http.StatusNotFound, codeRecordNotFound, "Record does not exist.")
}

func (z *zoneState) recordIndex(id string) int {
	return slices.IndexFunc(z.records, func(r *recordState) bool { return r.ID == id })
}

// listRecords handles GET /zones/{z}/dns_records.
func (e *Emulator) listRecords(req *request, zoneID string) response {
	z, errResp := e.recordZone(req, zoneID, false)
	if errResp != nil {
		return *errResp
	}
	page, errResp := parsePage(req.query, recordsDefaultPerPage, recordsMaxPerPage)
	if errResp != nil {
		return *errResp
	}
	filter, errResp := parseRecordFilter(req.query, z.Name)
	if errResp != nil {
		return *errResp
	}
	records, errResp := orderRecords(req.query, z.records)
	if errResp != nil {
		return *errResp
	}

	var items []recordJSON
	for _, r := range records {
		if filter.matches(&r.Record) {
			items = append(items, z.recordJSON(r))
		}
	}
	return paginate(items, page)
}

// getRecord handles GET /zones/{z}/dns_records/{id}.
func (e *Emulator) getRecord(req *request, zoneID, id string) response {
	z, errResp := e.recordZone(req, zoneID, false)
	if errResp != nil {
		return *errResp
	}
	i := z.recordIndex(id)
	if i < 0 {
		return recordNotFound()
	}
	return ok(z.recordJSON(z.records[i]))
}

// createRecord handles POST /zones/{z}/dns_records.
func (e *Emulator) createRecord(req *request, zoneID string) response {
	z, errResp := e.recordZone(req, zoneID, true)
	if errResp != nil {
		return *errResp
	}
	in, errResp := parseRecordInput(req.body)
	if errResp != nil {
		return *errResp
	}
	r, errResp := e.postRecord(z, in)
	if errResp != nil {
		return *errResp
	}
	return ok(z.recordJSON(r))
}

// patchRecord handles PATCH /zones/{z}/dns_records/{id}: fields not sent
// keep their values.
func (e *Emulator) patchRecord(req *request, zoneID, id string) response {
	return e.changeRecord(req, zoneID, id, false)
}

// putRecord handles PUT /zones/{z}/dns_records/{id}: fields not sent
// return to their defaults.
func (e *Emulator) putRecord(req *request, zoneID, id string) response {
	return e.changeRecord(req, zoneID, id, true)
}

func (e *Emulator) changeRecord(req *request, zoneID, id string, overwrite bool) response {
	z, errResp := e.recordZone(req, zoneID, true)
	if errResp != nil {
		return *errResp
	}
	in, errResp := parseRecordInput(req.body)
	if errResp != nil {
		return *errResp
	}
	r, errResp := e.updateRecord(z, id, in, overwrite)
	if errResp != nil {
		return *errResp
	}
	return ok(z.recordJSON(r))
}

// deleteRecord handles DELETE /zones/{z}/dns_records/{id}.
func (e *Emulator) deleteRecord(req *request, zoneID, id string) response {
	z, errResp := e.recordZone(req, zoneID, true)
	if errResp != nil {
		return *errResp
	}
	if _, errResp := e.removeRecord(z, id); errResp != nil {
		return *errResp
	}
	return ok(map[string]string{"id": id})
}

// postRecord validates and stores a new record. Callers hold e.mu.
func (e *Emulator) postRecord(z *zoneState, in recordInput) (*recordState, *response) {
	r, errResp := in.apply(Record{}, true, z)
	if errResp != nil {
		return nil, errResp
	}
	if errResp := z.checkRecord(r, ""); errResp != nil {
		return nil, errResp
	}

	r.ID = e.newHexID()
	stored := &recordState{Record: r, settings: in.settingsOr(nil), createdOn: e.now, modifiedOn: e.now}
	z.records = append(z.records, stored)
	return stored, nil
}

// updateRecord validates and stores a change to a record. Callers hold
// e.mu.
func (e *Emulator) updateRecord(z *zoneState, id string, in recordInput, overwrite bool) (*recordState, *response) {
	i := z.recordIndex(id)
	if i < 0 {
		resp := recordNotFound()
		return nil, &resp
	}
	stored := z.records[i]

	r, errResp := in.apply(stored.Record, overwrite, z)
	if errResp != nil {
		return nil, errResp
	}
	r.ID = stored.ID
	if errResp := z.checkRecord(r, id); errResp != nil {
		return nil, errResp
	}

	stored.Record = r
	if overwrite {
		stored.settings = in.settingsOr(nil)
	} else {
		stored.settings = in.settingsOr(stored.settings)
	}
	stored.modifiedOn = e.now
	return stored, nil
}

// removeRecord deletes a record and returns it. Callers hold e.mu.
func (e *Emulator) removeRecord(z *zoneState, id string) (*recordState, *response) {
	i := z.recordIndex(id)
	if i < 0 {
		resp := recordNotFound()
		return nil, &resp
	}
	removed := z.records[i]
	z.records = slices.Delete(z.records, i, i+1)
	return removed, nil
}

// recordInput is a record body as sent. A nil pointer means the key was
// absent; clearComment and clearTags mean it was sent as null.
type recordInput struct {
	ID           *string
	Type         *string
	Name         *string
	Content      *string
	Comment      *string
	Proxied      *bool
	TTL          *int
	Tags         *[]string
	Settings     json.RawMessage
	clearComment bool
	clearTags    bool
}

// parseRecordInput decodes a record body. Read-only keys the clients send
// back (created_on, modified_on, proxiable, meta, zone_id, ...) and keys of
// other record types are ignored.
func parseRecordInput(body []byte) (recordInput, *response) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil || raw == nil {
		resp := fail(http.StatusBadRequest, codeMalformedJSON, "Malformed JSON in request body: send a JSON object")
		return recordInput{}, &resp
	}
	return recordInputFromMap(raw)
}

func recordInputFromMap(raw map[string]json.RawMessage) (recordInput, *response) {
	var in recordInput
	fields := []struct {
		key string
		dst any
	}{
		{"id", &in.ID}, {"type", &in.Type}, {"name", &in.Name}, {"content", &in.Content},
		{"comment", &in.Comment}, {"proxied", &in.Proxied}, {"ttl", &in.TTL}, {"tags", &in.Tags},
	}
	for _, f := range fields {
		v, present := raw[f.key]
		if !present {
			continue
		}
		if isNull(v) {
			in.clearComment = in.clearComment || f.key == "comment"
			in.clearTags = in.clearTags || f.key == "tags"
			continue
		}
		if err := json.Unmarshal(v, f.dst); err != nil {
			resp := dnsValidation(fmt.Sprintf("invalid %s %s: %v", f.key, v, err))
			return in, &resp
		}
	}
	if v, present := raw["settings"]; present && !isNull(v) {
		in.Settings = v
	}
	return in, nil
}

func (in recordInput) settingsOr(current json.RawMessage) json.RawMessage {
	if in.Settings != nil {
		return slices.Clone(in.Settings)
	}
	return current
}

// apply returns base changed by the input. With overwrite, base is ignored
// except for its id and every field not sent takes its default.
func (in recordInput) apply(base Record, overwrite bool, z *zoneState) (Record, *response) {
	r := base
	if overwrite {
		r = Record{ID: base.ID, TTL: 1}
		for key, v := range map[string]*string{"type": in.Type, "name": in.Name, "content": in.Content} {
			if v == nil || strings.TrimSpace(*v) == "" {
				resp := dnsValidation(key + " is required")
				return r, &resp
			}
		}
	}

	if in.Type != nil {
		r.Type = strings.ToUpper(strings.TrimSpace(*in.Type))
	}
	if in.Name != nil {
		name, err := toASCIIName(*in.Name)
		if err != nil {
			resp := dnsValidation(fmt.Sprintf("invalid name %q: %v", *in.Name, err))
			return r, &resp
		}
		r.Name = normalizeRecordName(name, z.Name)
	}
	if in.Content != nil {
		r.Content = strings.TrimSpace(*in.Content)
	}
	if in.Comment != nil {
		r.Comment = *in.Comment
	}
	if in.clearComment {
		r.Comment = ""
	}
	if in.Tags != nil {
		r.Tags = slices.Clone(*in.Tags)
	}
	if in.clearTags {
		r.Tags = nil
	}
	if in.Proxied != nil {
		r.Proxied = *in.Proxied
	}
	if in.TTL != nil {
		r.TTL = *in.TTL
	}
	if r.Proxied || r.TTL == 0 {
		r.TTL = 1
	}
	return r, nil
}

func dnsValidation(detail string) response {
	resp := fail(http.StatusBadRequest, codeDNSValidation, "DNS Validation Error")
	resp.errors[0].ErrorChain = []apiError{{Code: codeInvalidRequest, Message: detail}}
	return resp
}

// checkRecord checks a record against its own rules, the zone's plan and
// the other records of the zone; selfID is the record's id when it already
// exists. Callers hold e.mu.
func (z *zoneState) checkRecord(r Record, selfID string) *response {
	if errResp := checkRecordFields(r, plans[z.Plan]); errResp != nil {
		return errResp
	}

	for _, other := range z.records {
		if other.ID == selfID || other.Name != r.Name {
			continue
		}
		if other.Type == r.Type && strings.EqualFold(other.Content, r.Content) {
			resp := fail(http.StatusBadRequest, codeIdenticalRecord, "An identical record already exists.")
			return &resp
		}
		if r.Type == "CNAME" && (other.Type == "A" || other.Type == "AAAA" || other.Type == "CNAME") {
			resp := fail(http.StatusBadRequest, codeCNAMEConflict, "An A, AAAA, or CNAME record with that host already exists.")
			return &resp
		}
		if (r.Type == "A" || r.Type == "AAAA") && other.Type == "CNAME" {
			resp := fail(http.StatusBadRequest, codeCNAMEExists, "A CNAME record with that host already exists.")
			return &resp
		}
	}
	return nil
}

// checkRecordFields checks content, proxying, TTL, comment and tags.
func checkRecordFields(r Record, limits planLimits) *response {
	invalid := func(detail string) *response {
		resp := dnsValidation(detail)
		return &resp
	}

	switch r.Type {
	case "":
		return invalid("type is required")
	case "A":
		if a, err := netip.ParseAddr(r.Content); err != nil || !a.Is4() {
			return invalid(fmt.Sprintf("content %q of an A record must be an IPv4 address", r.Content))
		}
	case "AAAA":
		if a, err := netip.ParseAddr(r.Content); err != nil || !a.Is6() || a.Is4In6() {
			return invalid(fmt.Sprintf("content %q of an AAAA record must be an IPv6 address", r.Content))
		}
	case "CNAME":
		if strings.EqualFold(strings.TrimSuffix(r.Content, "."), r.Name) {
			return invalid(fmt.Sprintf("content of the CNAME %s must not be its own name", r.Name))
		}
	}
	if r.Content == "" {
		return invalid("content is required")
	}
	if r.Proxied && !proxiable(r.Type) {
		return invalid(fmt.Sprintf("a %s record cannot be proxied", r.Type))
	}
	if r.TTL != 1 && (r.TTL < limits.minTTL || r.TTL > 86400) {
		return invalid(fmt.Sprintf("ttl %d is invalid: use 1 (automatic) or %d to 86400 seconds", r.TTL, limits.minTTL))
	}
	return checkCommentAndTags(r, limits)
}

func checkCommentAndTags(r Record, limits planLimits) *response {
	if utf8.RuneCountInString(r.Comment) > limits.commentMaxLen {
		resp := fail(http.StatusBadRequest, codeCommentTooLong,
			fmt.Sprintf("DNS record comment exceeds the maximum length of %d characters.", limits.commentMaxLen))
		return &resp
	}
	if strings.ContainsAny(r.Comment, "\r\n") {
		resp := dnsValidation("comment must not contain line breaks")
		return &resp
	}

	if len(r.Tags) > 0 && !limits.tagsAllowed {
		resp := fail(http.StatusBadRequest, codeDNSValidation, "DNS Validation Error")
		resp.errors[0].ErrorChain = []apiError{{Code: codeTagQuota,
			Message: fmt.Sprintf("DNS record has %d tags, exceeding the quota of 0.", len(r.Tags))}}
		return &resp
	}
	for _, tag := range r.Tags {
		name, _, _ := strings.Cut(tag, ":")
		if name == "" || strings.ContainsAny(tag, "\r\n") {
			resp := dnsValidation(fmt.Sprintf("invalid tag %q: use name:value", tag))
			return &resp
		}
	}
	return nil
}
