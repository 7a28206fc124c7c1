package emulator

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"testing"

	"github.com/cloudflare/cloudflare-go/v6"
	"github.com/cloudflare/cloudflare-go/v6/dns"
	"github.com/cloudflare/cloudflare-go/v6/option"
	"github.com/cloudflare/cloudflare-go/v6/zero_trust"
	"github.com/cloudflare/cloudflare-go/v6/zones"
)

// newSDKClient returns a cloudflare-go v6 client aimed at the fixture's
// emulator. The CLOUDFLARE_* variables the client reads are cleared, and a
// middleware rejects any request to a host other than 127.0.0.1 before it
// is sent.
func newSDKClient(t *testing.T, f fixture) *cloudflare.Client {
	t.Helper()
	for _, name := range []string{"CLOUDFLARE_BASE_URL", "CLOUDFLARE_API_TOKEN", "CLOUDFLARE_API_KEY", "CLOUDFLARE_EMAIL", "CLOUDFLARE_API_USER_SERVICE_KEY"} {
		t.Setenv(name, "")
		if err := os.Unsetenv(name); err != nil {
			t.Fatal(err)
		}
	}

	loopbackOnly := func(req *http.Request, next option.MiddlewareNext) (*http.Response, error) {
		if req.URL.Hostname() != "127.0.0.1" {
			return nil, fmt.Errorf("test client: request to %s rejected: only 127.0.0.1 is allowed", req.URL.Host)
		}
		return next(req)
	}
	return cloudflare.NewClient(
		option.WithBaseURL(f.base),
		option.WithAPIToken(testToken),
		option.WithMaxRetries(0),
		option.WithMiddleware(loopbackOnly),
	)
}

func TestSDKZonesAutoPaging(t *testing.T) {
	f := newFixture(t)
	for i := range 44 {
		f.emu.AddZone(testAccount, fmt.Sprintf("zone%02d.example", i))
	}
	client := newSDKClient(t, f)

	iter := client.Zones.ListAutoPaging(context.Background(), zones.ZoneListParams{
		Account: cloudflare.F(zones.ZoneListParamsAccount{ID: cloudflare.F(testAccount)}),
	})
	var names []string
	for iter.Next() {
		names = append(names, iter.Current().Name)
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	if len(names) != 45 {
		t.Errorf("zones = %d, want 45", len(names))
	}

	// 45 zones at the default 20 per page: pages 1 to 3, then the empty page 4.
	var pages []string
	for _, c := range f.emu.Calls() {
		pages = append(pages, c.Query)
	}
	want := fmt.Sprint([]string{"account.id=" + testAccount, "account.id=" + testAccount + "&page=2",
		"account.id=" + testAccount + "&page=3", "account.id=" + testAccount + "&page=4"})
	if fmt.Sprint(pages) != want {
		t.Errorf("queries = %v, want %v", pages, want)
	}
}

func TestSDKRecordsListCreateBatch(t *testing.T) {
	f := newFixture(t)
	for i := range 5 {
		f.emu.AddRecord(f.zone.ID, Record{Type: "A", Name: fmt.Sprintf("h%d", i), Content: "192.0.2.1"})
	}
	client := newSDKClient(t, f)
	ctx := context.Background()

	iter := client.DNS.Records.ListAutoPaging(ctx, dns.RecordListParams{ZoneID: cloudflare.F(f.zone.ID), PerPage: cloudflare.F(2.0)})
	count := 0
	for iter.Next() {
		count++
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	if count != 5 || f.emu.CallCount() != 4 {
		t.Errorf("listed %d records in %d calls, want 5 in 4", count, f.emu.CallCount())
	}

	created, err := client.DNS.Records.New(ctx, dns.RecordNewParams{
		ZoneID: cloudflare.F(f.zone.ID),
		Body: dns.CNAMERecordParam{
			Name:    cloudflare.F("app.example.com"),
			Type:    cloudflare.F(dns.CNAMERecordTypeCNAME),
			Content: cloudflare.F(f.tunnel.ID + ".cfargotunnel.com"),
			Proxied: cloudflare.F(true),
			TTL:     cloudflare.F(dns.TTL(1)),
			Comment: cloudflare.F("portcullis:v1 owner=pa"),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if created.Name != "app.example.com" || !created.Proxied || created.Comment != "portcullis:v1 owner=pa" {
		t.Errorf("created = %+v", created)
	}

	records := f.emu.Records(f.zone.ID)
	batch, err := client.DNS.Records.Batch(ctx, dns.RecordBatchParams{
		ZoneID:  cloudflare.F(f.zone.ID),
		Deletes: cloudflare.F([]dns.RecordBatchParamsDelete{{ID: cloudflare.F(records[1].ID)}, {ID: cloudflare.F(records[2].ID)}}),
		Posts: cloudflare.F([]dns.RecordBatchParamsPostUnion{dns.CNAMERecordParam{
			Name:    cloudflare.F("h0.example.com"),
			Type:    cloudflare.F(dns.CNAMERecordTypeCNAME),
			Content: cloudflare.F(f.tunnel.ID + ".cfargotunnel.com"),
			Proxied: cloudflare.F(true),
			TTL:     cloudflare.F(dns.TTL(1)),
		}}),
	})
	// records is sorted by name: app, h0, h1, ...; deleting h0's A record
	// first lets the CNAME take the name.
	if err != nil {
		t.Fatal(err)
	}
	if len(batch.Deletes) != 2 || len(batch.Posts) != 1 || batch.Posts[0].Name != "h0.example.com" {
		t.Errorf("batch = %d deletes, %d posts", len(batch.Deletes), len(batch.Posts))
	}
}

func TestSDKConfigGetUpdate(t *testing.T) {
	f := newFixture(t)
	client := newSDKClient(t, f)
	ctx := context.Background()
	tunnels := client.ZeroTrust.Tunnels.Cloudflared.Configurations

	got, err := tunnels.Get(ctx, f.tunnel.ID, zero_trust.TunnelCloudflaredConfigurationGetParams{AccountID: cloudflare.F(testAccount)})
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != 0 || len(got.Config.Ingress) != 0 {
		t.Errorf("first Get = version %v, %d rules", got.Version, len(got.Config.Ingress))
	}

	updated, err := tunnels.Update(ctx, f.tunnel.ID, zero_trust.TunnelCloudflaredConfigurationUpdateParams{
		AccountID: cloudflare.F(testAccount),
		Config: cloudflare.F(zero_trust.TunnelCloudflaredConfigurationUpdateParamsConfig{
			Ingress: cloudflare.F([]zero_trust.TunnelCloudflaredConfigurationUpdateParamsConfigIngress{
				{Hostname: cloudflare.F("a.example.com"), Service: cloudflare.F("http://web:80"), Path: cloudflare.F("^/api"),
					OriginRequest: cloudflare.F(zero_trust.TunnelCloudflaredConfigurationUpdateParamsConfigIngressOriginRequest{
						ConnectTimeout: cloudflare.F(int64(10)),
					})},
				{Service: cloudflare.F("http_status:404")},
			}),
		}),
	})
	if err != nil {
		t.Fatal(err)
	}
	if updated.Version != 1 || len(updated.Config.Ingress) != 2 || updated.Config.Ingress[0].OriginRequest.ConnectTimeout != 10 {
		t.Errorf("Update = %+v", updated)
	}
	if raw := updated.Config.JSON.ExtraFields["warp-routing"].Raw(); raw != `{"enabled":false}` {
		t.Errorf("warp-routing = %s", raw)
	}

	_, err = tunnels.Update(ctx, f.tunnel.ID, zero_trust.TunnelCloudflaredConfigurationUpdateParams{
		AccountID: cloudflare.F(testAccount),
		Config: cloudflare.F(zero_trust.TunnelCloudflaredConfigurationUpdateParamsConfig{
			Ingress: cloudflare.F([]zero_trust.TunnelCloudflaredConfigurationUpdateParamsConfigIngress{
				{Hostname: cloudflare.F("a.example.com"), Service: cloudflare.F("http://web:80")},
			}),
		}),
	})
	var apiErr *cloudflare.Error
	if !errors.As(err, &apiErr) {
		t.Fatalf("err = %v, want *cloudflare.Error", err)
	}
	if apiErr.StatusCode != http.StatusBadRequest || len(apiErr.Errors) != 1 || apiErr.Errors[0].Code != 1056 {
		t.Errorf("error = %d %+v, want 400 with code 1056", apiErr.StatusCode, apiErr.Errors)
	}
}

func TestSDKRateLimitError(t *testing.T) {
	f := newFixture(t)
	f.emu.Fail(Fault{PathSuffix: "/dns_records", Status: http.StatusTooManyRequests, RetryAfter: "0", Times: 1})
	client := newSDKClient(t, f)

	_, err := client.DNS.Records.List(context.Background(), dns.RecordListParams{ZoneID: cloudflare.F(f.zone.ID)})
	var apiErr *cloudflare.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("err = %v, want *cloudflare.Error with status 429", err)
	}

	if _, err := client.DNS.Records.List(context.Background(), dns.RecordListParams{ZoneID: cloudflare.F(f.zone.ID)}); err != nil {
		t.Errorf("second List: %v", err)
	}
}
