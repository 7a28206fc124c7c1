package ingress

import (
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
)

func TestSecretValuesPicksSecretNames(t *testing.T) {
	got := SecretValues(map[string]string{
		"CLOUDFLARE_API_TOKEN": "made-up-token-value",
		"DB_PASSWORD":          "made-up-password",
		"N8N_HOST":             "n8n.example.com",
		"SHORT_SECRET":         "abc",
	})
	if got["made-up-token-value"] != "CLOUDFLARE_API_TOKEN" || got["made-up-password"] != "DB_PASSWORD" {
		t.Errorf("SecretValues = %v, want both secret-named values", got)
	}
	if _, ok := got["n8n.example.com"]; ok {
		t.Error("a variable whose name does not look secret was taken")
	}
	if _, ok := got["abc"]; ok {
		t.Error("a value shorter than the minimum was taken")
	}
}

func TestSecretValueThroughAnotherVariable(t *testing.T) {
	svc := types.ServiceConfig{Name: "web"}
	svc.Labels = types.Labels{
		"portcullis.hostname": "web.example.com",
		"portcullis.path":     "/made-up-token-value",
	}
	opts := ParseOptions{Target: "file", File: "compose.yaml",
		SecretValues: SecretValues(map[string]string{"CLOUDFLARE_API_TOKEN": "made-up-token-value"})}
	_, _, err := ParseService(svc, opts)
	if err == nil {
		t.Fatal("ParseService accepted a label holding a secret value")
	}
	if strings.Contains(err.Error(), "made-up-token-value") {
		t.Errorf("the error prints the secret: %v", err)
	}
	if !strings.Contains(err.Error(), "CLOUDFLARE_API_TOKEN") || !strings.Contains(err.Error(), "portcullis.path") {
		t.Errorf("the error does not name the label and the variable: %v", err)
	}
}
