package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portcullis-dev/portcullis/ingress"
	portsync "github.com/portcullis-dev/portcullis/sync"
	"github.com/portcullis-dev/portcullis/tunnel"
	"github.com/portcullis-dev/portcullis/tunnel/emulator"
)

// The benchmarks in this file count the API calls and measure the wall time
// of the API target against the in-repo emulator, which adds a fixed latency
// to every call. docs/benchmarks.md records their results and the command
// that produced them.

const (
	apiBenchAccountID = "0b5e4c1d2a3f40e8a9b7c6d5e4f3a2b1"
	// apiBenchToken is made up; the emulator accepts any registered string.
	apiBenchToken = "made-up-bench-token"
	apiBenchOwner = "bench"
	// apiBenchLatency is the emulated round trip of every call.
	apiBenchLatency = 50 * time.Millisecond
	// apiBenchBatchSize is the Free plan's limit of operations per batch.
	apiBenchBatchSize = 200
)

// apiBenchZoneCounts are the numbers of zones the hostnames are spread over.
var apiBenchZoneCounts = []int{1, 5}

// apiBenchAccount is an emulated account: zones, one remotely-managed
// tunnel and a token that may do everything.
type apiBenchAccount struct {
	emu      *emulator.Emulator
	baseURL  string
	zones    []emulator.Zone
	tunnel   emulator.Tunnel
	recorder *apiCallRecorder
}

func newAPIBenchAccount(tb testing.TB, zoneCount int) *apiBenchAccount {
	tb.Helper()
	e := emulator.New()
	e.AddToken(apiBenchToken, emulator.AllPermissions()...)
	acc := &apiBenchAccount{emu: e, recorder: &apiCallRecorder{}}
	e.OnRequest(acc.recorder.record)
	for j := range zoneCount {
		acc.zones = append(acc.zones, e.AddZone(apiBenchAccountID, apiBenchZoneName(j)))
	}
	acc.tunnel = e.AddTunnel(apiBenchAccountID, "bench-tunnel", "cloudflare")
	acc.baseURL = e.Start(tb)
	return acc
}

func apiBenchZoneName(j int) string { return fmt.Sprintf("zone%d.example", j) }

// newAPI returns a new client with an empty tunnel cache, as each run of the
// command line has.
func (acc *apiBenchAccount) newAPI(tb testing.TB) *tunnel.API {
	tb.Helper()
	api, err := tunnel.NewAPI(tunnel.APIConfig{
		BaseURL:   acc.baseURL,
		Token:     apiBenchToken,
		AccountID: apiBenchAccountID,
		Tunnel:    acc.tunnel.ID,
	})
	if err != nil {
		tb.Fatalf("new api client: %v", err)
	}
	return api
}

// apiBenchRoutes returns n routes: service svc<i> reaches http://svc<i>:8080
// under the hostname svc<i>.zone<i mod zoneCount>.example.
func apiBenchRoutes(n, zoneCount int) []ingress.Route {
	routes := make([]ingress.Route, 0, n)
	for i := range n {
		service := fmt.Sprintf("svc%d", i)
		routes = append(routes, ingress.Route{
			Service:  service,
			Hostname: service + "." + apiBenchZoneName(i%zoneCount),
			Origin:   "http://" + service + ":8080",
			DNS:      true,
			Source:   ingress.Source{File: "compose.yaml", Service: service, Key: "portcullis.hostname"},
		})
	}
	return routes
}

// runAPIPlan reads the live state and plans routes against it, as plan does.
func runAPIPlan(ctx context.Context, api *tunnel.API, routes []ingress.Route) (tunnel.State, *portsync.Plan, error) {
	live, err := api.Read(ctx)
	if err != nil {
		return tunnel.State{}, nil, fmt.Errorf("read live state: %w", err)
	}

	p, err := computeAPIBenchPlan(routes, live)
	if err != nil {
		return live, nil, fmt.Errorf("compute plan: %w", err)
	}
	return live, p, nil
}

func computeAPIBenchPlan(routes []ingress.Route, live tunnel.State) (*portsync.Plan, error) {
	return portsync.Compute(portsync.Input{
		Routes:     routes,
		Live:       live,
		OwnerID:    apiBenchOwner,
		Policy:     portsync.PolicySync,
		MaxDeletes: 10,
	})
}

// runAPIApply reads, plans and applies routes, as apply --yes does.
func runAPIApply(ctx context.Context, api *tunnel.API, routes []ingress.Route) (*portsync.Result, error) {
	live, p, err := runAPIPlan(ctx, api, routes)
	if err != nil {
		return nil, err
	}

	applier := &portsync.Applier{
		Target:    &apiTarget{api: api},
		DNS:       api,
		BatchSize: apiBenchBatchSize,
		Replan: func(fresh tunnel.State) (*portsync.Plan, error) {
			return computeAPIBenchPlan(routes, fresh)
		},
	}
	res, err := applier.Apply(ctx, p, live)
	if err != nil {
		return res, fmt.Errorf("apply: %w", err)
	}
	return res, nil
}

// checkFirstApply fails tb unless the apply created every CNAME and wrote
// the configuration without a problem.
func checkFirstApply(tb testing.TB, res *portsync.Result, n int) {
	tb.Helper()
	if len(res.Problems) > 0 {
		tb.Fatalf("first apply of %d hostnames: problems %q", n, res.Problems)
	}
	if res.DNSCreated != n {
		tb.Fatalf("first apply of %d hostnames: created %d CNAMEs, want %d", n, res.DNSCreated, n)
	}
	if !res.Written {
		tb.Fatalf("first apply of %d hostnames: the configuration was not written", n)
	}
}

// apiBatchOps returns the number of operations in each batch POST of calls,
// empty preflight batches included, and fails tb when a batch was rejected.
func apiBatchOps(tb testing.TB, calls []emulator.Call) []int {
	tb.Helper()
	var ops []int
	for _, c := range calls {
		if c.Method != http.MethodPost || !strings.HasSuffix(c.Path, "/dns_records/batch") {
			continue
		}
		if c.Status != http.StatusOK {
			tb.Fatalf("batch POST %s: status %d, body %.200s", c.Path, c.Status, c.Body)
		}
		var body map[string][]json.RawMessage
		if err := json.Unmarshal(c.Body, &body); err != nil {
			tb.Fatalf("batch POST %s: decode body: %v", c.Path, err)
		}
		n := 0
		for _, list := range body {
			n += len(list)
		}
		ops = append(ops, n)
	}
	return ops
}

// checkCallsSucceeded fails tb when any call got an error status.
func checkCallsSucceeded(tb testing.TB, calls []emulator.Call) {
	tb.Helper()
	for _, c := range calls {
		if c.Status != http.StatusOK {
			tb.Fatalf("%s %s: status %d", c.Method, c.Path, c.Status)
		}
	}
}

// apiCallRecorder counts the requests that reach the emulator, from its
// request hook, and records when the DNS listings arrive.
//
// The emulator logs a call only after it has written the response, so the
// client can return before its last call is in the log. The hook runs
// before the response, so its count is exact once the client returns, and
// settledCalls waits for the log to reach it.
type apiCallRecorder struct {
	mu       sync.Mutex
	count    int
	listings []time.Time
}

func (r *apiCallRecorder) record(method, path string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.count++
	if method == http.MethodGet && strings.HasSuffix(path, "/dns_records") {
		r.listings = append(r.listings, time.Now())
	}
}

func (r *apiCallRecorder) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.count = 0
	r.listings = nil
}

// listingSpread returns the time between the first and the last arrival of
// a DNS listing request. It is near zero when the zones are listed
// concurrently and about (zones - 1) round trips when they are listed one
// after another. A second page of one zone adds a round trip too.
func (r *apiCallRecorder) listingSpread() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.listings) == 0 {
		return 0
	}
	return slices.MaxFunc(r.listings, time.Time.Compare).Sub(slices.MinFunc(r.listings, time.Time.Compare))
}

// settledCalls returns the emulator's call log once it holds every request
// the hook saw, waiting at most about 5 s.
func (acc *apiBenchAccount) settledCalls(tb testing.TB) []emulator.Call {
	tb.Helper()
	acc.recorder.mu.Lock()
	want := acc.recorder.count
	acc.recorder.mu.Unlock()
	for range 5000 {
		if acc.emu.CallCount() >= want {
			return acc.emu.Calls()
		}
		time.Sleep(time.Millisecond)
	}
	tb.Fatalf("the emulator logged %d calls, but %d requests reached it", acc.emu.CallCount(), want)
	return nil
}

// resetCalls clears the emulator's call log and the recorder.
func (acc *apiBenchAccount) resetCalls() {
	acc.emu.ResetCalls()
	acc.recorder.reset()
}

// BenchmarkAPIFirstApply reads, plans and applies n hostnames on an account
// with no records and a tunnel with no configuration, with the emulated
// latency on every call. Each iteration starts from a new emulator, outside
// the timer.
func BenchmarkAPIFirstApply(b *testing.B) {
	for _, n := range benchSizes {
		for _, zoneCount := range apiBenchZoneCounts {
			b.Run(fmt.Sprintf("hosts=%d/zones=%d", n, zoneCount), func(b *testing.B) {
				routes := apiBenchRoutes(n, zoneCount)
				ctx := context.Background()
				var calls []emulator.Call
				for range b.N {
					b.StopTimer()
					acc := newAPIBenchAccount(b, zoneCount)
					acc.emu.SetLatency(apiBenchLatency)
					api := acc.newAPI(b)
					b.StartTimer()

					res, err := runAPIApply(ctx, api, routes)

					b.StopTimer()
					if err != nil {
						b.Fatal(err)
					}
					checkFirstApply(b, res, n)
					calls = acc.settledCalls(b)
					b.StartTimer()
				}

				checkCallsSucceeded(b, calls)
				ops := apiBatchOps(b, calls)
				if largest := slices.Max(ops); largest > apiBenchBatchSize {
					b.Fatalf("a batch has %d operations, more than %d", largest, apiBenchBatchSize)
				}
				b.ReportMetric(float64(len(calls)), "calls/op")
				b.ReportMetric(float64(len(ops)), "batches/op")
			})
		}
	}
}

// BenchmarkAPINoopPlan reads and plans n hostnames right after they were
// applied, so the plan has no changes. It reports the calls and the spread
// between the first and the last DNS listing request.
func BenchmarkAPINoopPlan(b *testing.B) {
	for _, n := range benchSizes {
		for _, zoneCount := range apiBenchZoneCounts {
			b.Run(fmt.Sprintf("hosts=%d/zones=%d", n, zoneCount), func(b *testing.B) {
				routes := apiBenchRoutes(n, zoneCount)
				ctx := context.Background()
				acc := newAPIBenchAccount(b, zoneCount)
				res, err := runAPIApply(ctx, acc.newAPI(b), routes)
				if err != nil {
					b.Fatal(err)
				}
				checkFirstApply(b, res, n)
				acc.settledCalls(b)
				acc.emu.SetLatency(apiBenchLatency)

				var calls []emulator.Call
				var spread time.Duration
				b.ResetTimer()
				for range b.N {
					b.StopTimer()
					acc.resetCalls()
					api := acc.newAPI(b)
					b.StartTimer()

					_, p, err := runAPIPlan(ctx, api, routes)

					b.StopTimer()
					if err != nil {
						b.Fatal(err)
					}
					if p.HasChanges() {
						b.Fatalf("plan right after apply has changes: %d creates, %d DNS changes", len(p.Creates), len(p.DNS))
					}
					calls = acc.settledCalls(b)
					spread = acc.recorder.listingSpread()
					b.StartTimer()
				}

				checkCallsSucceeded(b, calls)
				b.ReportMetric(float64(len(calls)), "calls/op")
				b.ReportMetric(float64(spread.Milliseconds()), "listing-spread-ms")
			})
		}
	}
}

// BenchmarkAPIListingSequential lists the records of every zone one zone
// after another, after n hostnames were applied: the time the DNS listing
// phase of a read would take without concurrency, for comparison with the
// listing spread of BenchmarkAPINoopPlan.
func BenchmarkAPIListingSequential(b *testing.B) {
	const n = 1000
	for _, zoneCount := range apiBenchZoneCounts {
		b.Run(fmt.Sprintf("hosts=%d/zones=%d", n, zoneCount), func(b *testing.B) {
			routes := apiBenchRoutes(n, zoneCount)
			ctx := context.Background()
			acc := newAPIBenchAccount(b, zoneCount)
			res, err := runAPIApply(ctx, acc.newAPI(b), routes)
			if err != nil {
				b.Fatal(err)
			}
			checkFirstApply(b, res, n)
			api := acc.newAPI(b)
			zones := make([]tunnel.Zone, 0, len(acc.zones))
			for _, z := range acc.zones {
				zones = append(zones, tunnel.Zone{ID: z.ID, Name: z.Name})
			}
			acc.emu.SetLatency(apiBenchLatency)

			b.ResetTimer()
			for range b.N {
				listed := 0
				for _, z := range zones {
					records, err := api.ListRecords(ctx, z)
					if err != nil {
						b.Fatal(err)
					}
					listed += len(records)
				}
				if listed != n {
					b.Fatalf("listed %d records, want %d", listed, n)
				}
			}
		})
	}
}

// apiNaiveSizes are the sizes the naive client runs at, with the latency it
// runs them at. The largest runs with less latency, because 1,000 hostnames
// at 3 calls each and 50 ms a call would take 150 s; 10,000 is left out
// (about 25 minutes at 50 ms). The benchmark reports the estimate at 50 ms.
var apiNaiveSizes = []struct {
	hosts   int
	latency time.Duration
}{
	{10, apiBenchLatency},
	{100, apiBenchLatency},
	{1000, 5 * time.Millisecond},
}

// naiveClient is a client that changes one record at a time. For every
// hostname it looks the name up, creates the CNAME, and writes the tunnel
// configuration with one more rule. It uses plain net/http.
type naiveClient struct {
	http    *http.Client
	baseURL string
	tunnel  string
	zones   map[string]string // zone name to id
	rules   []ingress.Rule
}

func (c *naiveClient) do(ctx context.Context, method, path string, body any) (json.RawMessage, error) {
	var reader io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		reader = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.baseURL+path, reader)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+apiBenchToken)
	req.Header.Set("Content-Type", "application/json")

	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var env struct {
		Success bool            `json:"success"`
		Result  json.RawMessage `json:"result"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		return nil, fmt.Errorf("%s %s: decode response: %w", method, path, err)
	}
	if !env.Success {
		return nil, fmt.Errorf("%s %s: status %d", method, path, resp.StatusCode)
	}
	return env.Result, nil
}

// listZones makes the one zones listing the naive client needs to find zone
// ids.
func (c *naiveClient) listZones(ctx context.Context) error {
	result, err := c.do(ctx, http.MethodGet, "/zones?per_page=50&account.id="+apiBenchAccountID, nil)
	if err != nil {
		return err
	}
	var zones []struct{ ID, Name string }
	if err := json.Unmarshal(result, &zones); err != nil {
		return err
	}
	c.zones = map[string]string{}
	for _, z := range zones {
		c.zones[z.Name] = z.ID
	}
	return nil
}

// addRoute makes the three calls of one hostname: a lookup of its records,
// a CNAME creation when there is none, and a configuration PUT.
func (c *naiveClient) addRoute(ctx context.Context, r ingress.Route) error {
	zone := r.Hostname[strings.Index(r.Hostname, ".")+1:]
	zoneID, ok := c.zones[zone]
	if !ok {
		return fmt.Errorf("hostname %s: zone %s not listed", r.Hostname, zone)
	}

	records := "/zones/" + zoneID + "/dns_records"
	result, err := c.do(ctx, http.MethodGet, records+"?"+url.Values{"name": {r.Hostname}}.Encode(), nil)
	if err != nil {
		return err
	}
	if string(result) == "[]" {
		cname := map[string]any{"type": "CNAME", "name": r.Hostname, "content": tunnel.TunnelTarget(c.tunnel), "proxied": true, "ttl": 1}
		if _, err := c.do(ctx, http.MethodPost, records, cname); err != nil {
			return err
		}
	}

	c.rules = append(c.rules, r.Rule())
	ingressRules := append(slices.Clone(c.rules), ingress.Rule{Service: "http_status:404"})
	body := map[string]any{"config": map[string]any{"ingress": ingressRules}}
	_, err = c.do(ctx, http.MethodPut, "/accounts/"+apiBenchAccountID+"/cfd_tunnel/"+c.tunnel+"/configurations", body)
	return err
}

// BenchmarkAPINaiveClient applies n hostnames on an empty account with one
// call per record and one configuration write per hostname, for comparison
// with BenchmarkAPIFirstApply.
func BenchmarkAPINaiveClient(b *testing.B) {
	for _, size := range apiNaiveSizes {
		for _, zoneCount := range apiBenchZoneCounts {
			b.Run(fmt.Sprintf("hosts=%d/zones=%d", size.hosts, zoneCount), func(b *testing.B) {
				routes := apiBenchRoutes(size.hosts, zoneCount)
				ctx := context.Background()
				var calls []emulator.Call
				var elapsed time.Duration
				for range b.N {
					b.StopTimer()
					acc := newAPIBenchAccount(b, zoneCount)
					acc.emu.SetLatency(size.latency)
					client := &naiveClient{http: &http.Client{}, baseURL: acc.baseURL, tunnel: acc.tunnel.ID}
					start := time.Now()
					b.StartTimer()

					err := client.listZones(ctx)
					for i := 0; err == nil && i < len(routes); i++ {
						err = client.addRoute(ctx, routes[i])
					}

					b.StopTimer()
					elapsed = time.Since(start)
					if err != nil {
						b.Fatal(err)
					}
					calls = acc.settledCalls(b)
					if got := len(acc.emu.Records(acc.zones[0].ID)); got != (size.hosts+zoneCount-1)/zoneCount {
						b.Fatalf("zone %s has %d records after the naive client ran", acc.zones[0].Name, got)
					}
					b.StartTimer()
				}

				checkCallsSucceeded(b, calls)
				b.ReportMetric(float64(len(calls)), "calls/op")
				// Every call is sequential, so each one waits the whole latency.
				estimate := elapsed + time.Duration(len(calls))*(apiBenchLatency-size.latency)
				b.ReportMetric(estimate.Seconds(), "est-s-at-50ms/op")
			})
		}
	}
}

// apiCallLines returns calls as "METHOD path" lines.
func apiCallLines(calls []emulator.Call) []string {
	lines := make([]string, 0, len(calls))
	for _, c := range calls {
		lines = append(lines, c.Method+" "+c.Path)
	}
	return lines
}

// TestAPICallSequence pins the call budget: the exact calls of a first
// apply of 3 hostnames in 1 zone, and of a plan with no changes after it,
// each with a new client and the tunnel given by id.
func TestAPICallSequence(t *testing.T) {
	ctx := context.Background()
	acc := newAPIBenchAccount(t, 1)
	routes := apiBenchRoutes(3, 1)

	tunnelPath := "/accounts/" + apiBenchAccountID + "/cfd_tunnel/" + acc.tunnel.ID
	recordsPath := "/zones/" + acc.zones[0].ID + "/dns_records"
	// The tunnel is given by id, so it is not looked up.
	read := []string{
		"GET " + tunnelPath + "/configurations",
		"GET /zones",
		"GET " + recordsPath,
	}
	firstApply := append(slices.Clone(read),
		"PATCH "+tunnelPath,                 // preflight: may edit the tunnel
		"POST "+recordsPath+"/batch",        // the 3 CNAMEs, the first batch, which checks its own zone
		"GET "+tunnelPath+"/configurations", // re-read before the write
		"PUT "+tunnelPath+"/configurations",
	)

	res, err := runAPIApply(ctx, acc.newAPI(t), routes)
	if err != nil {
		t.Fatal(err)
	}
	checkFirstApply(t, res, len(routes))
	calls := acc.settledCalls(t)
	checkCallsSucceeded(t, calls)
	if got := apiCallLines(calls); !slices.Equal(got, firstApply) {
		t.Errorf("first apply calls:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(firstApply, "\n"))
	}
	if ops := apiBatchOps(t, calls); !slices.Equal(ops, []int{len(routes)}) {
		t.Errorf("first apply batch operations = %v, want [%d]", ops, len(routes))
	}

	acc.resetCalls()
	_, p, err := runAPIPlan(ctx, acc.newAPI(t), routes)
	if err != nil {
		t.Fatal(err)
	}
	if p.HasChanges() {
		t.Errorf("plan after apply has changes: %d creates, %d DNS changes", len(p.Creates), len(p.DNS))
	}
	if got := apiCallLines(acc.settledCalls(t)); !slices.Equal(got, read) {
		t.Errorf("no-op plan calls:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(read, "\n"))
	}
}
