package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/portcullis-dev/portcullis/tunnel/emulator"
)

// revokeBenchLatency is the emulated latency of every API call.
const revokeBenchLatency = 50 * time.Millisecond

// revokeBenchConfig returns a configuration with n hostnames and the
// catch-all.
func revokeBenchConfig(n int) json.RawMessage {
	var b strings.Builder
	b.WriteString(`{"ingress":[`)
	for i := range n {
		fmt.Fprintf(&b, `{"hostname":"svc%d.example.com","service":"http://svc%d:8080"},`, i, i)
	}
	b.WriteString(`{"service":"http_status:404"}]}`)
	return json.RawMessage(b.String())
}

// BenchmarkRevoke runs the built binary's revoke against the emulator with
// 50 ms per call, and reports the calls made and the position of the
// cutting write among them.
func BenchmarkRevoke(b *testing.B) {
	cases := []struct {
		name string
		size int
		args []string
	}{
		{"all/hosts=10", 10, []string{"--all"}},
		{"all/hosts=10000", 10000, []string{"--all"}},
		{"host/hosts=10", 10, []string{"svc3.example.com"}},
		{"host/hosts=10000", 10000, []string{"svc3.example.com"}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			e := emulator.New()
			e.AddToken(revokeToken, emulator.AllPermissions()...)
			zone := e.AddZone(revokeAccount, "example.com")
			tun := e.AddTunnel(revokeAccount, "bench", "cloudflare")
			e.AddRecord(zone.ID, emulator.Record{Type: "CNAME", Name: "svc3.example.com", Content: tun.ID + ".cfargotunnel.com", Proxied: true})
			config := revokeBenchConfig(c.size)
			base := e.Start(b)
			e.SetLatency(revokeBenchLatency)
			env := []string{
				"PATH=" + os.Getenv("PATH"), "HOME=" + b.TempDir(), "XDG_STATE_HOME=" + b.TempDir(),
				"PORTCULLIS_TARGET=api", "PORTCULLIS_CLOUDFLARE_API_BASE_URL=" + base,
				"CLOUDFLARE_ACCOUNT_ID=" + revokeAccount, "PORTCULLIS_CLOUDFLARE_TUNNEL=" + tun.ID,
				"CLOUDFLARE_API_TOKEN=" + revokeToken,
			}
			args := append([]string{"revoke", "--yes", "--watch", "0"}, c.args...)
			dir := b.TempDir()

			var calls, cutAt int
			b.ResetTimer()
			for b.Loop() {
				b.StopTimer()
				e.SetConfig(tun.ID, config)
				e.ResetCalls()
				b.StartTimer()

				cmd := exec.Command(binary, args...)
				cmd.Dir, cmd.Env = dir, env
				var out bytes.Buffer
				cmd.Stdout, cmd.Stderr = &out, &out
				if err := cmd.Run(); err != nil {
					b.Fatalf("revoke: %v\n%s", err, out.String())
				}

				b.StopTimer()
				got := e.Calls()
				calls, cutAt = len(got), 0
				for i, call := range got {
					if call.Method == "PUT" {
						cutAt = i + 1
						break
					}
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(calls), "calls/op")
			b.ReportMetric(float64(cutAt), "cut-call")
		})
	}
}
