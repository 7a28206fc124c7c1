package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestCheckLoopback(t *testing.T) {
	tests := []struct {
		address      string
		wantErr      bool
		wantLoopback bool
	}{
		{"127.0.0.1:8787", false, false},
		{"127.0.0.2:0", false, false},
		{"[::1]:8787", false, false},
		{"localhost:8787", false, false},
		{":8787", true, true},
		{"0.0.0.0:8787", true, true},
		{"[::]:8787", true, true},
		{"192.0.2.1:8787", true, true},
		{"example.com:8787", true, true},
		{"127.0.0.1", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.address, func(t *testing.T) {
			err := checkLoopback(tt.address)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if errors.Is(err, errNotLoopback) != tt.wantLoopback {
				t.Errorf("errors.Is(err, errNotLoopback) = %v, want %v", errors.Is(err, errNotLoopback), tt.wantLoopback)
			}
		})
	}
}

func TestBuildEmulatorDemo(t *testing.T) {
	emu, demo, err := buildEmulator("")
	if err != nil || !demo {
		t.Fatalf("buildEmulator = demo %v, err %v", demo, err)
	}
	var out bytes.Buffer
	printSummary(&out, "http://127.0.0.1:8787/client/v4", emu, demo)

	tunnels := emu.Tunnels()
	if len(tunnels) != 1 || tunnels[0].Name != demoTunnel {
		t.Fatalf("tunnels = %+v", tunnels)
	}
	for _, want := range []string{"base_url:   http://127.0.0.1:8787/client/v4\n", "account_id: " + demoAccountID + "\n",
		"tunnel_id:  " + tunnels[0].ID + "\n", "api_token:  " + demoToken + "\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, out.String())
		}
	}
}

func TestBuildEmulatorSeed(t *testing.T) {
	emu, demo, err := buildEmulator("seed.example.json")
	if err != nil || demo {
		t.Fatalf("buildEmulator = demo %v, err %v", demo, err)
	}
	if n := len(emu.Zones()); n != 2 {
		t.Errorf("zones = %d, want 2", n)
	}
	if _, _, err := buildEmulator("testdata-missing.json"); err == nil {
		t.Error("missing seed file: no error")
	}
}

func TestParseFlags(t *testing.T) {
	opts, err := parseFlags([]string{"--listen", "localhost:0", "--seed", "s.json"})
	if err != nil || opts.listen != "localhost:0" || opts.seed != "s.json" {
		t.Errorf("parseFlags = %+v, %v", opts, err)
	}
	if _, err := parseFlags([]string{"extra"}); err == nil {
		t.Error("positional argument: no error")
	}
}
