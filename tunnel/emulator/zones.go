package emulator

import (
	"sort"
	"strings"

	"golang.org/x/net/idna"
)

// Paging of the zone list, as the API documents it.
const (
	zonesDefaultPerPage = 20
	zonesMaxPerPage     = 50
)

// zoneJSON is the wire form of a zone.
type zoneJSON struct {
	ID          string         `json:"id"`
	Name        string         `json:"name"`
	Status      string         `json:"status"`
	Paused      bool           `json:"paused"`
	Type        string         `json:"type"`
	NameServers []string       `json:"name_servers"`
	Account     accountJSON    `json:"account"`
	Plan        planJSON       `json:"plan"`
	Meta        map[string]any `json:"meta"`
	CreatedOn   string         `json:"created_on"`
	ModifiedOn  string         `json:"modified_on"`
	ActivatedOn string         `json:"activated_on"`
}

type accountJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type planJSON struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	LegacyID  string `json:"legacy_id"`
	IsSubscr  bool   `json:"is_subscribed"`
	CanSubscr bool   `json:"can_subscribe"`
}

func (z *zoneState) toJSON() zoneJSON {
	ts := formatTime(z.createdAt)
	return zoneJSON{
		ID:     z.ID,
		Name:   z.Name,
		Status: "active",
		Type:   "full",
		// Names under .invalid (RFC 2606) can never resolve.
		NameServers: []string{"ns1.emulator.invalid", "ns2.emulator.invalid"},
		Account:     accountJSON{ID: z.AccountID, Name: "emulated account " + z.AccountID},
		Plan:        planJSON{ID: z.Plan, Name: z.Plan, LegacyID: z.Plan, IsSubscr: true},
		Meta:        map[string]any{},
		CreatedOn:   ts,
		ModifiedOn:  ts,
		ActivatedOn: ts,
	}
}

// listZones handles GET /zones with the filters name (exact, any case,
// Unicode or Punycode), account.id and status.
func (e *Emulator) listZones(req *request) response {
	if !req.allows(ZoneRead) {
		return errAuthentication
	}
	page, errResp := parsePage(req.query, zonesDefaultPerPage, zonesMaxPerPage)
	if errResp != nil {
		return *errResp
	}

	name, hasName := firstValue(req.query, "name")
	account, hasAccount := firstValue(req.query, "account.id")
	status, hasStatus := firstValue(req.query, "status")
	name = normalizeZoneName(name)

	var items []zoneJSON
	for _, z := range e.zones {
		switch {
		case hasName && z.Name != name:
			continue
		case hasAccount && z.AccountID != account:
			continue
		case hasStatus && status != "active":
			continue
		}
		items = append(items, z.toJSON())
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].Name < items[j].Name })
	return paginate(items, page)
}

func firstValue(q map[string][]string, key string) (string, bool) {
	v, ok := q[key]
	if !ok || len(v) == 0 {
		return "", false
	}
	return v[0], true
}

// normalizeZoneName returns a zone name in lower-case Punycode without a
// trailing dot.
func normalizeZoneName(name string) string {
	n, _ := toASCIIName(name)
	return n
}

// normalizeRecordName returns a record name as the API stores it: a
// lower-case Punycode FQDN inside the zone. "@" is the zone apex, and a name
// outside the zone gets the zone name appended.
func normalizeRecordName(name, zone string) string {
	n, _ := toASCIIName(name)
	switch {
	case n == "@" || n == "":
		return zone
	case n == zone || strings.HasSuffix(n, "."+zone):
		return n
	}
	return n + "." + zone
}

// toASCIIName lower-cases a name, drops a trailing dot and converts each
// non-ASCII label to Punycode. A label that cannot be converted is kept
// lower-cased and reported in the error.
func toASCIIName(name string) (string, error) {
	name = strings.TrimSuffix(strings.TrimSpace(name), ".")
	labels := strings.Split(strings.ToLower(name), ".")

	var firstErr error
	for i, label := range labels {
		if isASCII(label) {
			continue
		}
		ascii, err := idna.Lookup.ToASCII(label)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		labels[i] = ascii
	}
	return strings.Join(labels, "."), firstErr
}
