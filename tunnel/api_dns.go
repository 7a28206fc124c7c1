package tunnel

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/net/idna"
)

const (
	// apiZonesPerPage is the largest page size the zones listing accepts.
	apiZonesPerPage = 50
	// apiRecordsPerPage keeps most zones to one page of records.
	apiRecordsPerPage = 5000
	// apiZoneListConcurrency bounds the record listings in flight at once.
	apiZoneListConcurrency = 8
	// apiMaxPages bounds every paginated listing.
	apiMaxPages = 10000
)

// apiZone is a zone object of the API.
type apiZone struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// apiRecord is a DNS record object of the API.
type apiRecord struct {
	ID       string  `json:"id"`
	ZoneID   string  `json:"zone_id"`
	ZoneName string  `json:"zone_name"`
	Type     string  `json:"type"`
	Name     string  `json:"name"`
	Content  string  `json:"content"`
	Proxied  bool    `json:"proxied"`
	TTL      int     `json:"ttl"`
	Comment  *string `json:"comment"`
}

func (r apiRecord) toDNSRecord(zoneID, zoneName string) DNSRecord {
	rec := DNSRecord{
		ID:       r.ID,
		ZoneID:   cmp.Or(zoneID, r.ZoneID),
		ZoneName: apiCanonicalName(cmp.Or(zoneName, r.ZoneName)),
		Type:     r.Type,
		Name:     apiCanonicalName(r.Name),
		Content:  r.Content,
		Proxied:  r.Proxied,
		TTL:      r.TTL,
	}
	if r.Comment != nil {
		rec.Comment = *r.Comment
	}
	return rec
}

// apiReadPages reads every page of a listing at path with query, asking for
// perPage items a page, and decodes the items. It stops at an empty page, at
// a page whose number reaches total_pages, or at a page shorter than the
// per_page the server reports.
func apiReadPages[T any](ctx context.Context, a *API, r apiRequest, query url.Values, perPage int) ([]T, error) {
	var items []T
	basePath := r.path
	for page := 1; page <= apiMaxPages; page++ {
		query.Set("page", strconv.Itoa(page))
		query.Set("per_page", strconv.Itoa(perPage))
		r.path = basePath + "?" + query.Encode()

		env, err := a.read(ctx, r)
		if err != nil {
			return nil, err
		}

		var pageItems []T
		if err := json.Unmarshal(env.Result, &pageItems); err != nil {
			return nil, fmt.Errorf("%s: decode page %d: %w", r.op, page, err)
		}
		items = append(items, pageItems...)

		info := env.ResultInfo
		switch {
		case len(pageItems) == 0:
			return items, nil
		case info != nil && info.TotalPages > 0 && page >= info.TotalPages:
			return items, nil
		case info != nil && info.PerPage > 0 && len(pageItems) < info.PerPage:
			return items, nil
		}
	}
	return nil, fmt.Errorf("%s: more than %d pages: the listing does not end", r.op, apiMaxPages)
}

// listZones returns the account's zones sorted by name, with names in
// punycode lower case.
func (a *API) listZones(ctx context.Context) ([]Zone, error) {
	listed, err := apiReadPages[apiZone](ctx, a, apiRequest{
		op:         "list zones of account " + a.accountID,
		permission: PermissionZoneRead,
		method:     http.MethodGet,
		path:       "zones",
	}, url.Values{"account.id": {a.accountID}}, apiZonesPerPage)
	if err != nil {
		return nil, err
	}

	zones := make([]Zone, 0, len(listed))
	for _, z := range listed {
		zones = append(zones, Zone{ID: z.ID, Name: apiCanonicalName(z.Name)})
	}
	slices.SortFunc(zones, func(x, y Zone) int {
		return cmp.Or(cmp.Compare(x.Name, y.Name), cmp.Compare(x.ID, y.ID))
	})

	a.mu.Lock()
	for _, z := range zones {
		a.zoneNames[z.ID] = z.Name
	}
	a.mu.Unlock()
	return zones, nil
}

// ListRecords returns every DNS record of zone, sorted by name, type and id,
// with names in punycode lower case.
func (a *API) ListRecords(ctx context.Context, zone Zone) ([]DNSRecord, error) {
	zoneName := apiCanonicalName(zone.Name)
	listed, err := apiReadPages[apiRecord](ctx, a, apiRequest{
		op:         "list dns records of zone " + cmp.Or(zoneName, zone.ID),
		permission: PermissionDNSEdit,
		method:     http.MethodGet,
		path:       apiZonePath(zone.ID) + "/dns_records",
	}, url.Values{}, apiRecordsPerPage)
	if err != nil {
		return nil, err
	}

	records := make([]DNSRecord, 0, len(listed))
	for _, r := range listed {
		records = append(records, r.toDNSRecord(zone.ID, zoneName))
	}
	apiSortRecords(records)
	return records, nil
}

// listRecordsOfZones lists the records of every zone, at most
// apiZoneListConcurrency zones at once, and stops the others at the first
// failure.
func (a *API) listRecordsOfZones(ctx context.Context, zones []Zone) ([]DNSRecord, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	results := make([][]DNSRecord, len(zones))
	errs := make([]error, len(zones))
	slots := make(chan struct{}, apiZoneListConcurrency)
	var wg sync.WaitGroup
	for i, zone := range zones {
		wg.Go(func() {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				errs[i] = ctx.Err()
				return
			}
			defer func() { <-slots }()

			results[i], errs[i] = a.ListRecords(ctx, zone)
			if errs[i] != nil {
				cancel()
			}
		})
	}
	wg.Wait()

	if err := apiFirstCause(errs); err != nil {
		return nil, err
	}

	var records []DNSRecord
	for _, r := range results {
		records = append(records, r...)
	}
	apiSortRecords(records)
	return records, nil
}

// apiFirstCause returns the first error in errs that is not a cancellation
// caused by another error, or the first error when all are cancellations.
func apiFirstCause(errs []error) error {
	var first error
	for _, err := range errs {
		if err == nil {
			continue
		}
		if !errors.Is(err, context.Canceled) {
			return err
		}
		if first == nil {
			first = err
		}
	}
	return first
}

func apiSortRecords(records []DNSRecord) {
	slices.SortFunc(records, func(x, y DNSRecord) int {
		return cmp.Or(
			cmp.Compare(x.ZoneName, y.ZoneName),
			cmp.Compare(x.ZoneID, y.ZoneID),
			cmp.Compare(x.Name, y.Name),
			cmp.Compare(x.Type, y.Type),
			cmp.Compare(x.ID, y.ID),
		)
	})
}

// DNSBatch is one batch of DNS changes in one zone. The API applies deletes,
// then patches, then posts, all or nothing.
type DNSBatch struct {
	// Deletes are record ids.
	Deletes []string
	Patches []DNSPatch
	// Posts are new records. Their ID, ZoneID and ZoneName are ignored, and a TTL
	// of 0 is sent as 1 (automatic).
	Posts []DNSRecord
}

// DNSPatch changes the fields that are not nil of one record.
type DNSPatch struct {
	ID      string
	Comment *string
	Proxied *bool
	Content *string
}

type apiBatchBody struct {
	Deletes []apiBatchDelete `json:"deletes,omitempty"`
	Patches []apiBatchPatch  `json:"patches,omitempty"`
	Posts   []apiBatchPost   `json:"posts,omitempty"`
}

type apiBatchDelete struct {
	ID string `json:"id"`
}

type apiBatchPatch struct {
	ID      string  `json:"id"`
	Comment *string `json:"comment,omitempty"`
	Proxied *bool   `json:"proxied,omitempty"`
	Content *string `json:"content,omitempty"`
}

type apiBatchPost struct {
	Type    string `json:"type"`
	Name    string `json:"name"`
	Content string `json:"content"`
	Proxied bool   `json:"proxied"`
	TTL     int    `json:"ttl"`
	Comment string `json:"comment,omitempty"`
}

type apiBatchResult struct {
	Deletes []apiRecord `json:"deletes"`
	Patches []apiRecord `json:"patches"`
	Puts    []apiRecord `json:"puts"`
	Posts   []apiRecord `json:"posts"`
}

// Batch sends b to the zone as one POST .../dns_records/batch and returns the
// patched records followed by the created ones, as the API returned them. It
// never retries, and an empty batch makes no call. A failure is an *APIError
// that carries the API's error codes, such as 81053 for a name that already
// has a record.
func (a *API) Batch(ctx context.Context, zoneID string, b DNSBatch) ([]DNSRecord, error) {
	if len(b.Deletes) == 0 && len(b.Patches) == 0 && len(b.Posts) == 0 {
		return nil, nil
	}

	op := "batch dns changes in zone " + a.zoneLabel(zoneID)
	body, err := json.Marshal(apiBatchBodyOf(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}

	env, err := a.send(ctx, apiRequest{
		op:         op,
		permission: PermissionDNSEdit,
		method:     http.MethodPost,
		path:       apiZonePath(zoneID) + "/dns_records/batch",
		body:       body,
	})
	if err != nil {
		return nil, err
	}

	var result apiBatchResult
	if err := json.Unmarshal(env.Result, &result); err != nil {
		return nil, fmt.Errorf("%s: the batch went through but its response is unreadable: %w", op, err)
	}

	zoneName := a.zoneName(zoneID)
	records := make([]DNSRecord, 0, len(result.Patches)+len(result.Posts))
	for _, r := range slices.Concat(result.Patches, result.Posts) {
		records = append(records, r.toDNSRecord(zoneID, zoneName))
	}
	return records, nil
}

func apiBatchBodyOf(b DNSBatch) apiBatchBody {
	var body apiBatchBody
	for _, id := range b.Deletes {
		body.Deletes = append(body.Deletes, apiBatchDelete{ID: id})
	}
	for _, p := range b.Patches {
		body.Patches = append(body.Patches, apiBatchPatch(p))
	}
	for _, r := range b.Posts {
		ttl := r.TTL
		if ttl == 0 {
			ttl = 1
		}
		body.Posts = append(body.Posts, apiBatchPost{
			Type:    r.Type,
			Name:    apiCanonicalName(r.Name),
			Content: r.Content,
			Proxied: r.Proxied,
			TTL:     ttl,
			Comment: r.Comment,
		})
	}
	return body
}

func apiZonePath(zoneID string) string {
	return "zones/" + url.PathEscape(zoneID)
}

// zoneName returns the name of a listed zone, or "".
func (a *API) zoneName(zoneID string) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.zoneNames[zoneID]
}

// zoneLabel names a zone in errors: its name when it was listed, else its id.
func (a *API) zoneLabel(zoneID string) string {
	if name := a.zoneName(zoneID); name != "" {
		return name + " (" + zoneID + ")"
	}
	return zoneID
}

// apiIDNProfile maps names as a lookup would (lower case, punycode) but
// allows the "*" and "_" labels that DNS records use.
var apiIDNProfile = idna.New(
	idna.MapForLookup(),
	idna.StrictDomainName(false),
	idna.BidiRule(),
	idna.Transitional(false),
)

// apiCanonicalName returns a zone or record name in punycode lower case,
// without a trailing dot, so names compare as strings. A name that IDNA
// rejects is only lower-cased.
func apiCanonicalName(name string) string {
	name = strings.TrimSuffix(strings.TrimSpace(name), ".")
	ascii, err := apiIDNProfile.ToASCII(name)
	if err != nil {
		return strings.ToLower(name)
	}
	return ascii
}
