package ingress

import (
	"errors"
	"strings"
	"testing"
)

func TestNormalizeHostname(t *testing.T) {
	tests := []struct {
		in     string
		want   string
		reason string // substring of HostnameError.Reason when an error is expected
	}{
		{in: "app.example.com", want: "app.example.com"},
		{in: "  App.Example.COM.  ", want: "app.example.com"},
		{in: "bücher.example.com", want: "xn--bcher-kva.example.com"},
		{in: "xn--bcher-kva.example.com", want: "xn--bcher-kva.example.com"},
		{in: "*.example.com", want: "*.example.com"},
		{in: "*.Bücher.example.com", want: "*.xn--bcher-kva.example.com"},
		{in: "", reason: "empty hostname"},
		{in: "https://app.example.com", reason: "contains a scheme"},
		{in: "app.example.com:8443", reason: "contains a port"},
		{in: "app.example.com/api", reason: "contains a path"},
		{in: "a..example.com", reason: "empty label"},
		{in: ".example.com", reason: "empty label"},
		{in: "example.com..", reason: "empty label"},
		{in: strings.Repeat("a", 64) + ".example.com", reason: "more than 63"},
		{in: strings.Repeat("abcdefghi.", 25) + "example.com", reason: "more than 253"},
		{in: "a.*.example.com", reason: "misplaced wildcard"},
		{in: "*foo.example.com", reason: "misplaced wildcard"},
		{in: "**.example.com", reason: "misplaced wildcard"},
		{in: "*", reason: "lone wildcard"},
		{in: "*.", reason: "lone wildcard"},
		{in: "a_b.example.com", reason: "not a valid DNS name"},
		{in: "-a.example.com", reason: "not a valid DNS name"},
		{in: "192.0.2.1", reason: "IP address"},
		{in: "localhost", reason: "single label"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := NormalizeHostname(tt.in)
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("NormalizeHostname(%q) error: %v", tt.in, err)
				}
				if got != tt.want {
					t.Errorf("NormalizeHostname(%q) = %q, want %q", tt.in, got, tt.want)
				}
				return
			}
			var herr *HostnameError
			if !errors.As(err, &herr) {
				t.Fatalf("NormalizeHostname(%q) = %q, %v; want a *HostnameError", tt.in, got, err)
			}
			if !strings.Contains(herr.Reason, tt.reason) {
				t.Errorf("reason = %q, want it to contain %q", herr.Reason, tt.reason)
			}
			if !errors.Is(err, ErrInvalidHostname) {
				t.Errorf("error does not unwrap to ErrInvalidHostname")
			}
		})
	}
}

func TestNormalizeZoneRejectsWildcard(t *testing.T) {
	if _, err := normalizeZone("*.example.com"); err == nil {
		t.Fatal("normalizeZone accepted a wildcard")
	}
	got, err := normalizeZone("Example.COM.")
	if err != nil || got != "example.com" {
		t.Errorf("normalizeZone(Example.COM.) = %q, %v; want example.com", got, err)
	}
}
