package ingress

import (
	"net/netip"
	"slices"
	"testing"
)

func TestNormaliseGateHost(t *testing.T) {
	tests := []struct {
		host      string
		wantName  string
		wantAddrs []string
	}{
		{"DB.", "db", nil},
		{"db..", "db", nil},
		{"[::1]", "::1", []string{"::1"}},
		{"fe80::1%eth0", "fe80::1", []string{"fe80::1"}},
		{"::ffff:10.0.0.1", "10.0.0.1", []string{"10.0.0.1"}},
		{"::10.0.0.1", "::a00:1", []string{"::a00:1", "10.0.0.1"}},
		{"64:ff9b::10.0.0.1", "64:ff9b::a00:1", []string{"64:ff9b::a00:1", "10.0.0.1"}},
		{"::", "::", []string{"::"}},
		{"167772161", "167772161", []string{"10.0.0.1"}},
		{"0x0a000001", "0x0a000001", []string{"10.0.0.1"}},
		{"0x", "0x", []string{"0.0.0.0"}},
		{"10.1", "10.1", []string{"10.0.0.1"}},
		{"10.0.1", "10.0.1", []string{"10.0.0.1"}},
		{"010.0.0.1", "010.0.0.1", []string{"8.0.0.1", "10.0.0.1"}},
		{"08.0.0.1", "08.0.0.1", []string{"8.0.0.1"}},
		{"256.0.0.1", "256.0.0.1", nil},
		{"10.0.0.256", "10.0.0.256", nil},
		{"10.0.65536", "10.0.65536", nil},
		{"4294967296", "4294967296", nil},
		{"1.2.3.4.5", "1.2.3.4.5", nil},
		{"1..2", "1..2", nil},
		{"0x1g", "0x1g", nil},
		{"-1", "-1", nil},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			got := normaliseGateHost(tt.host)
			if got.name != tt.wantName {
				t.Errorf("name = %q, want %q", got.name, tt.wantName)
			}
			var addrs []string
			for _, a := range got.addrs {
				addrs = append(addrs, a.String())
			}
			if !slices.Equal(addrs, tt.wantAddrs) {
				t.Errorf("addrs = %q, want %q", addrs, tt.wantAddrs)
			}
		})
	}
}

func TestParseGateOrigin(t *testing.T) {
	tests := []struct {
		origin string
		want   gateOrigin
	}{
		{"http://web", gateOrigin{kind: gateOriginHost, host: "web", port: 80}},
		{"HTTPS://Web:8443", gateOrigin{kind: gateOriginHost, host: "Web", port: 8443}},
		{"ws://web", gateOrigin{kind: gateOriginHost, host: "web", port: 80}},
		{"wss://web", gateOrigin{kind: gateOriginHost, host: "web", port: 443}},
		{"ssh://web", gateOrigin{kind: gateOriginHost, host: "web", port: 22}},
		{"rdp://web", gateOrigin{kind: gateOriginHost, host: "web", port: 3389}},
		{"smb://web", gateOrigin{kind: gateOriginHost, host: "web", port: 445}},
		{"tcp://web", gateOrigin{kind: gateOriginHost, host: "web"}},
		{"tcp://web:0", gateOrigin{kind: gateOriginHost, host: "web"}},
		{"http://[::1]:8080", gateOrigin{kind: gateOriginHost, host: "::1", port: 8080}},
		{"http://web:80 ", gateOrigin{kind: gateOriginHost, host: "web", port: 80}},
		{"http://we b:80", gateOrigin{kind: gateOriginHost, host: "we b", port: 80}},
		{"http://[::1:80", gateOrigin{kind: gateOriginHost, host: "::1:80", port: 80}},
		{"http://x@web:81/path", gateOrigin{kind: gateOriginHost, host: "web", port: 81}},
		{"tcp://:22", gateOrigin{kind: gateOriginHost, host: "", port: 22}},
		{"bastion", gateOrigin{kind: gateOriginAnyHost}},
		{"socks-proxy", gateOrigin{kind: gateOriginAnyHost}},
		{"http_status:404", gateOrigin{kind: gateOriginNone}},
		{"hello_world", gateOrigin{kind: gateOriginNone}},
		{"hello-world", gateOrigin{kind: gateOriginNone}},
		{"unix:/run/app.sock", gateOrigin{kind: gateOriginNone}},
		{"unix:///run/app.sock", gateOrigin{kind: gateOriginNone}},
		{"unix+tls:/run/app.sock", gateOrigin{kind: gateOriginNone}},
		{"web:80", gateOrigin{kind: gateOriginNone}},
	}
	for _, tt := range tests {
		t.Run(tt.origin, func(t *testing.T) {
			if got := parseGateOrigin(tt.origin); got != tt.want {
				t.Errorf("parseGateOrigin(%q) = %+v, want %+v", tt.origin, got, tt.want)
			}
		})
	}
}

func TestIsHostLocalAddr(t *testing.T) {
	tests := []struct {
		addr string
		want bool
	}{
		{"127.0.0.1", true},
		{"127.255.0.9", true},
		{"::1", true},
		{"0.0.0.0", true},
		{"::", true},
		{"10.0.0.1", false},
		{"::2", false},
	}
	for _, tt := range tests {
		if got := isHostLocalAddr(netip.MustParseAddr(tt.addr)); got != tt.want {
			t.Errorf("isHostLocalAddr(%s) = %t, want %t", tt.addr, got, tt.want)
		}
	}
}
