package config

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
)

func TestExampleStack(t *testing.T) {
	dir := t.TempDir()
	copyDir(t, "../examples/pa-ecosystem", dir)
	s, err := Load(LoadOptions{ProjectDirectory: dir})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	p, err := LoadProject(context.Background(), s)
	if err != nil {
		t.Fatalf("LoadProject: %v", err)
	}

	t.Run("settings", func(t *testing.T) {
		checks := []struct{ name, got, want string }{
			{"target", s.Target, TargetFile},
			{"file.path", s.File.Path, filepath.Join(dir, "cloudflared/config.yml")},
			{"file.tunnel", s.File.Tunnel, "3f9a6c1e-7b2d-4e8f-a5c0-1d2e3f4a5b6c"},
			{"file.credentials_file", s.File.CredentialsFile, "/etc/cloudflared/3f9a6c1e-7b2d-4e8f-a5c0-1d2e3f4a5b6c.json"},
			{"project name", p.Name, "pa-ecosystem"},
		}
		for _, c := range checks {
			if c.got != c.want {
				t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
			}
		}
		if err := s.ResolveOwnerID(p.Name); err != nil || s.OwnerID != "pa-ecosystem" {
			t.Errorf("ResolveOwnerID: owner %q, error %v", s.OwnerID, err)
		}
	})

	t.Run("services", func(t *testing.T) {
		want := []string{"cloudflared", "gmail", "graphiti-mcp", "letta", "n8n", "neo4j", "open-webui",
			"slack-mcp-server", "supabase-auth", "supabase-db", "supabase-meta", "supabase-realtime",
			"supabase-rest", "supabase-studio"}
		got := p.ServiceNames()
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("services = %v, want %v", got, want)
		}
		for name, svc := range p.Services {
			if len(svc.Ports) > 0 {
				t.Errorf("service %s publishes ports; the example uses expose only", name)
			}
			if _, ok := svc.Networks["pa-internal"]; !ok {
				t.Errorf("service %s is not on pa-internal", name)
			}
		}
	})

	t.Run("internal-only", func(t *testing.T) {
		var internal []string
		for name, svc := range p.Services {
			if svc.Labels["security"] == "internal-only" {
				internal = append(internal, name)
			}
		}
		slices.Sort(internal)
		want := []string{"neo4j", "supabase-db", "supabase-meta", "supabase-studio"}
		if !slices.Equal(internal, want) {
			t.Errorf("internal-only services = %v, want %v", internal, want)
		}
	})

	t.Run("routes", func(t *testing.T) {
		labels := []struct{ service, key, want string }{
			{"n8n", "portcullis.hostname", "n8n.example.com"},
			{"n8n", "portcullis.routes.webhook.hostname", "n8n.example.com"},
			{"n8n", "portcullis.routes.webhook.path", "^/webhook(-test)?/"},
			{"n8n", "portcullis.routes.webhook.origin.connectTimeout", "60s"},
			{"open-webui", "portcullis.hostname", "chat.example.com"},
			{"letta", "portcullis.hostname", "letta.example.com,agents.example.com"},
			{"graphiti-mcp", "portcullis.hostname", "graphiti.example.com"},
			{"graphiti-mcp", "portcullis.origin.access.required", "true"},
		}
		for _, l := range labels {
			if got := p.Services[l.service].Labels[l.key]; got != l.want {
				t.Errorf("%s label %s = %q, want %q", l.service, l.key, got, l.want)
			}
		}
		file, line := p.Sources("n8n", "portcullis.routes.webhook.path")
		if file != filepath.Join(dir, "compose.yaml") || line == 0 {
			t.Errorf("Sources(n8n, webhook path) = %s:%d, want a line of compose.yaml", file, line)
		}
	})

	t.Run("network", func(t *testing.T) {
		network := p.Networks["pa-internal"]
		if network.Driver != "bridge" {
			t.Errorf("driver = %q, want bridge", network.Driver)
		}
		if len(network.Ipam.Config) != 1 || network.Ipam.Config[0].Subnet != "172.20.0.0/16" || network.Ipam.Config[0].Gateway != "172.20.0.1" {
			t.Errorf("ipam = %+v, want subnet 172.20.0.0/16 with gateway 172.20.0.1", network.Ipam.Config)
		}
		if network.Labels["security"] != "internal-only" {
			t.Errorf("network labels = %v, want security=internal-only", network.Labels)
		}
	})

	t.Run("cloudflared mounts the directory", func(t *testing.T) {
		volumes := p.Services["cloudflared"].Volumes
		if len(volumes) != 1 || volumes[0].Type != types.VolumeTypeBind ||
			volumes[0].Source != filepath.Join(dir, "cloudflared") || volumes[0].Target != "/etc/cloudflared" {
			t.Errorf("cloudflared volumes = %+v, want ./cloudflared bound at /etc/cloudflared", volumes)
		}
	})

	t.Run("env example has no unset variables", func(t *testing.T) {
		if len(p.Warnings) != 0 {
			t.Errorf("Warnings = %q, want none", p.Warnings)
		}
	})
}

func TestRefusedAliasFixture(t *testing.T) {
	dir := t.TempDir()
	copyDir(t, "../testdata/refused-alias", dir)
	s, err := Load(LoadOptions{ProjectDirectory: dir})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	p, err := LoadProject(context.Background(), s)
	if err != nil {
		t.Fatalf("LoadProject: %v", err)
	}
	db := p.Services["supabase-db"]
	if db.Labels["security"] != "internal-only" {
		t.Errorf("supabase-db is not labelled internal-only")
	}
	network := db.Networks["pa-internal"]
	if network == nil || !slices.Contains(network.Aliases, "pgdb") {
		t.Errorf("supabase-db has no alias pgdb on pa-internal: %+v", network)
	}
	if got := p.Services["db-console"].Labels["portcullis.service"]; got != "http://pgdb:5432" {
		t.Errorf("db-console origin = %q, want http://pgdb:5432", got)
	}
	if s.Target != TargetFile || !strings.HasPrefix(s.File.Path, dir) {
		t.Errorf("target %q writing %q, want the file target inside the copy %s", s.Target, s.File.Path, dir)
	}
}

// TestRealWorldStacks loads unchanged compose files that self-hosters run,
// kept in a folder beside the repository.
func TestRealWorldStacks(t *testing.T) {
	const root = "../../shared/realworld"
	if _, err := os.Stat(root); err != nil {
		t.Skipf("real-world stacks not available at %s: %v", root, err)
	}
	tests := []struct {
		name     string
		environ  []string
		dotEnv   string
		services []string
		project  string
		wantErr  string
	}{
		{name: "supabase", services: []string{"db", "kong", "studio"}},
		{name: "n8n-with-postgres", services: []string{"n8n", "postgres"}},
		{name: "graphiti-mcp-neo4j", services: []string{"graphiti-mcp", "neo4j"}},
		{name: "immich", services: []string{"database", "immich-server"}},
		{name: "paperless-ngx-postgres-tika", services: []string{"webserver", "db"}, project: "paperless"},
		{name: "authentik", dotEnv: "PG_PASS=made-up-password\nAUTHENTIK_SECRET_KEY=made-up-key\n",
			services: []string{"server", "worker"}},
		{name: "coolify-cloudflared", services: []string{"cloudflared"}},
		{name: "dockflare"},
		{name: "nextcloud-aio"},
		// letta's upstream .env.example does not parse; the error names it.
		{name: "letta", wantErr: ".env: line 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			copyDir(t, filepath.Join(root, tt.name), dir)
			if data, err := os.ReadFile(filepath.Join(dir, ".env.example")); err == nil {
				if err := os.WriteFile(filepath.Join(dir, ".env"), data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if tt.dotEnv != "" {
				if err := os.WriteFile(filepath.Join(dir, ".env"), []byte(tt.dotEnv), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			s, err := Load(LoadOptions{ProjectDirectory: dir, Environ: tt.environ})
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			p, err := LoadProject(context.Background(), s)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("LoadProject error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("LoadProject: %v", err)
			}
			for _, name := range tt.services {
				if _, ok := p.Services[name]; !ok {
					t.Errorf("service %s missing; loaded %v", name, p.ServiceNames())
				}
			}
			if tt.project != "" && p.Name != tt.project {
				t.Errorf("project name = %q, want %q", p.Name, tt.project)
			}
			if p.RawLabels == nil {
				t.Errorf("RawLabels is nil; warnings: %q", p.Warnings)
			}
		})
	}
}
