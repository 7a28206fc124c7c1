package ingress

import (
	"errors"
	"strings"
	"testing"
)

func TestLabelErrorFormat(t *testing.T) {
	tests := []struct {
		name string
		err  LabelError
		want string
	}{
		{
			name: "full position",
			err: LabelError{File: "compose.yaml", Line: 12, Service: "n8n", Key: "portcullis.port", Value: "99999",
				Message: "port out of range", Hint: "use a port from 1 to 65535"},
			want: `compose.yaml:12: service "n8n": label "portcullis.port" = "99999": port out of range; use a port from 1 to 65535`,
		},
		{
			name: "unknown line and no hint",
			err:  LabelError{File: "compose.yaml", Service: "web", Key: "portcullis.dns", Value: "yes", Message: "not a boolean"},
			want: `compose.yaml: service "web": label "portcullis.dns" = "yes": not a boolean`,
		},
		{
			name: "secret value never printed",
			err: LabelError{File: "compose.yaml", Line: 3, Service: "app", Key: "portcullis.hostname", Value: "made-up-secret",
				SecretVar: "CLOUDFLARE_API_TOKEN", Message: "value interpolated from secret-looking variable CLOUDFLARE_API_TOKEN"},
			want: `compose.yaml:3: service "app": label "portcullis.hostname": value interpolated from secret-looking variable CLOUDFLARE_API_TOKEN`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() =\n%s\nwant\n%s", got, tt.want)
			}
			if !errors.Is(&tt.err, ErrInvalidLabel) {
				t.Errorf("error does not unwrap to ErrInvalidLabel")
			}
		})
	}
}

func TestSecretVariable(t *testing.T) {
	tests := []struct {
		raw  string
		want string
	}{
		{raw: "app.example.com", want: ""},
		{raw: "${APP_HOST}", want: ""},
		{raw: "$CLOUDFLARE_API_TOKEN", want: "CLOUDFLARE_API_TOKEN"},
		{raw: "${db_password}", want: "db_password"},
		{raw: "${HOST:-${APP_SECRET}}", want: "APP_SECRET"},
		{raw: "${API_KEY?must be set}", want: "API_KEY"},
		{raw: "${HOST:-x}.${MONKEY}", want: "MONKEY"},
		{raw: "$$TOKEN", want: ""},
		{raw: "price$", want: ""},
		{raw: "${", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			if got := secretVariable(tt.raw); got != tt.want {
				t.Errorf("secretVariable(%q) = %q, want %q", tt.raw, got, tt.want)
			}
		})
	}
}

func TestSuggestKey(t *testing.T) {
	tests := []struct {
		rest string
		want string
	}{
		{rest: "hostnmae", want: "hostname"},
		{rest: "prot", want: "port"},
		{rest: "origin.connecttimeout", want: "origin.connectTimeout"},
		{rest: "route.api.path", want: "routes.api.path"},
		{rest: "completely-unrelated", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.rest, func(t *testing.T) {
			if got := suggestKey(tt.rest); got != tt.want {
				t.Errorf("suggestKey(%q) = %q, want %q", tt.rest, got, tt.want)
			}
		})
	}
}

func TestWarningString(t *testing.T) {
	w := Warning{File: "compose.yaml", Line: 4, Service: "web", Key: "portcullis.hostname", Hostname: "*.example.com", Message: "m"}
	want := `compose.yaml:4: service "web": label "portcullis.hostname": hostname "*.example.com": m`
	if got := w.String(); got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if strings.Contains(Warning{Message: "m"}.String(), ":") {
		t.Errorf("a warning without position should print only its message")
	}
}
