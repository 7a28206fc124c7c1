package ingress

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/hashicorp/go-multierror"
)

// validationProblem is the part of a RuleError a validation case checks.
type validationProblem struct {
	Index       int
	Cloudflared string
}

func TestValidateRules(t *testing.T) {
	web := func(host string) Rule { return Rule{Hostname: host, Service: "http://web:80"} }
	catchAll := Rule{Service: "http_status:404"}
	lastNotCatchAll := "The last ingress rule must match all URLs (i.e. it should not have a hostname or path filter)"
	badWildcard := `Hostname patterns can have at most one wildcard character ("*") and it can only be used for subdomains, e.g. "*.example.com"`
	access := func(fields OriginRequest) Rule {
		return Rule{Hostname: "a.example.com", Service: "http://web:80", OriginRequest: OriginRequest{"access": fields}}
	}

	tests := []struct {
		name  string
		rules []Rule
		want  []validationProblem
	}{
		{"valid list", []Rule{web("a.example.com"), web("*.example.com"), catchAll}, nil},
		{"catch-all alone", []Rule{catchAll}, nil},
		{"star catch-all", []Rule{web("a.example.com"), {Hostname: "*", Service: "http_status:404"}}, nil},
		{"empty list", nil, []validationProblem{{0, "The config file doesn't contain any ingress rules"}}},
		{"hostname with port", []Rule{web("a.example.com:8080"), catchAll}, []validationProblem{{1, "Hostname cannot contain a port"}}},
		{"ipv6 hostname with port", []Rule{web("[::1]:80"), catchAll}, []validationProblem{{1, "Hostname cannot contain a port"}}},
		{"wildcard inside", []Rule{web("a.*.example.com"), catchAll}, []validationProblem{{1, badWildcard}}},
		{"two wildcards", []Rule{web("*.*.example.com"), catchAll}, []validationProblem{{1, badWildcard}}},
		{"wildcard at end", []Rule{web("example.*"), catchAll}, []validationProblem{{1, badWildcard}}},
		{"star without dot passes", []Rule{web("*example.com"), catchAll}, nil},
		{"last rule has hostname", []Rule{web("a.example.com")}, []validationProblem{{1, lastNotCatchAll}}},
		{"last rule has path", []Rule{web("a.example.com"), {Path: "^/", Service: "http_status:404"}}, []validationProblem{{2, lastNotCatchAll}}},
		{"last rule star with path", []Rule{{Hostname: "*", Path: "^/", Service: "http_status:404"}}, []validationProblem{{1, lastNotCatchAll}}},
		{"catch-all first", []Rule{catchAll, web("a.example.com"), catchAll}, []validationProblem{
			{1, "Rule #1 is matching the hostname '', but this will match every hostname, meaning the rules which follow it will never be triggered."}}},
		{"star catch-all in the middle", []Rule{web("a.example.com"), {Hostname: "*", Service: "http://web:80"}, catchAll}, []validationProblem{
			{2, "Rule #2 is matching the hostname '*', but this will match every hostname, meaning the rules which follow it will never be triggered."}}},
		{"path without hostname in the middle", []Rule{{Path: "^/health", Service: "http_status:204"}, catchAll}, nil},
		{"invalid path", []Rule{{Hostname: "a.example.com", Path: "*", Service: "http://web:80"}, catchAll}, []validationProblem{
			{1, "Rule #1 has an invalid regex: error parsing regexp: missing argument to repetition operator: `*`"}}},
		{"invalid path later", []Rule{web("a.example.com"), {Hostname: "b.example.com", Path: "(", Service: "http://web:80"}, catchAll}, []validationProblem{
			{2, "Rule #2 has an invalid regex: error parsing regexp: missing closing ): `(`"}}},
		{"nested repetition", []Rule{{Hostname: "a.example.com", Path: "^/a**", Service: "http://web:80"}, catchAll}, []validationProblem{
			{1, "Rule #1 has an invalid regex: error parsing regexp: invalid nested repetition operator: `**`"}}},
		{"status not numeric", []Rule{{Service: "http_status:abc"}}, []validationProblem{
			{1, `invalid HTTP status code: strconv.Atoi: parsing "abc": invalid syntax`}}},
		{"status empty", []Rule{{Service: "http_status:"}}, []validationProblem{{1, `invalid HTTP status code: strconv.Atoi: parsing "": invalid syntax`}}},
		{"status too low", []Rule{{Service: "http_status:99"}}, []validationProblem{{1, "invalid HTTP status code: 99"}}},
		{"status too high", []Rule{{Service: "http_status:1000"}}, []validationProblem{{1, "invalid HTTP status code: 1000"}}},
		{"status bounds", []Rule{{Hostname: "a.example.com", Service: "http_status:100"}, {Service: "http_status:999"}}, nil},
		{"service forms", []Rule{
			{Hostname: "a.example.com", Service: "https://web:8443"},
			{Hostname: "b.example.com", Service: "ws://web"},
			{Hostname: "c.example.com", Service: "wss://web:443"},
			{Hostname: "d.example.com", Service: "tcp://db:5432"},
			{Hostname: "e.example.com", Service: "ssh://host:22"},
			{Hostname: "f.example.com", Service: "unix:/run/app.sock"},
			{Hostname: "g.example.com", Service: "unix+tls:/run/app.sock"},
			{Hostname: "h.example.com", Service: "hello_world"},
			{Hostname: "i.example.com", Service: "hello-world"},
			{Hostname: "j.example.com", Service: "bastion"},
			{Hostname: "k.example.com", Service: "socks-proxy"},
			{Hostname: "l.example.com", Service: "http://[::1]:8080"},
			catchAll,
		}, nil},
		{"bastion mode ignores service", []Rule{{Hostname: "a.example.com", Service: "anything", OriginRequest: OriginRequest{"bastionMode": true}}, catchAll}, nil},
		{"service with path", []Rule{{Hostname: "a.example.com", Service: "https://localhost:8000/static/"}, catchAll}, []validationProblem{
			{1, "https://localhost:8000/static/ is an invalid address, ingress rules don't support proxying to a different path on the origin service. The path will be the same as the eyeball request's path"}}},
		{"service with trailing slash", []Rule{{Hostname: "a.example.com", Service: "http://web:80/"}, catchAll}, []validationProblem{
			{1, "http://web:80/ is an invalid address, ingress rules don't support proxying to a different path on the origin service. The path will be the same as the eyeball request's path"}}},
		{"service without scheme", []Rule{{Hostname: "a.example.com", Service: "localhost:8000"}, catchAll}, []validationProblem{
			{1, "localhost:8000 is an invalid address, please make sure it has a scheme and a hostname"}}},
		{"service without host", []Rule{{Hostname: "a.example.com", Service: "http://:80"}, catchAll}, []validationProblem{
			{1, "http://:80 is an invalid address, please make sure it has a scheme and a hostname"}}},
		{"empty service", []Rule{{Hostname: "a.example.com"}, catchAll}, []validationProblem{
			{1, " is an invalid address, please make sure it has a scheme and a hostname"}}},
		{"service with trailing space", []Rule{{Hostname: "a.example.com", Service: "http://127.0.0.1:2333 "}, catchAll}, []validationProblem{
			{1, `parse "http://127.0.0.1:2333 ": invalid port ":2333 " after host`}}},
		{"service with space in host", []Rule{{Hostname: "a.example.com", Service: "http://we b:80"}, catchAll}, []validationProblem{
			{1, `parse "http://we b:80": invalid character " " in host name`}}},
		{"access required with tags needs team", []Rule{access(OriginRequest{"required": true, "audTag": []string{"aud"}}), catchAll}, []validationProblem{
			{1, "access.TeamName cannot be blank when access.audTags are present"}}},
		{"access from generic map", []Rule{
			{Hostname: "a.example.com", Service: "http://web:80", OriginRequest: OriginRequest{"access": map[string]any{"required": true, "audTag": []any{"aud"}}}},
			catchAll}, []validationProblem{{1, "access.TeamName cannot be blank when access.audTags are present"}}},
		{"access with team", []Rule{access(OriginRequest{"required": true, "audTag": []string{"aud"}, "teamName": "team"}), catchAll}, nil},
		{"access required without tags", []Rule{access(OriginRequest{"required": true}), catchAll}, nil},
		{"access not required", []Rule{access(OriginRequest{"audTag": []string{"aud"}}), catchAll}, nil},
		{"unicode hostname", []Rule{web("bücher.example.com"), catchAll}, nil},
		{"unicode wildcard", []Rule{web("*.bücher.example.com"), catchAll}, nil},
		{"underscore hostname", []Rule{web("_acme.example.com"), catchAll}, nil},
		{"invalid punycode", []Rule{web("xn--zz.example.com"), catchAll}, []validationProblem{
			{1, `Hostname xn--zz.example.com is not a valid internationalized domain name: idna: invalid label "zz"`}}},
		{"disallowed rune", []Rule{web("a\u2028b.example.com"), catchAll}, []validationProblem{
			{1, "Hostname a\u2028b.example.com is not a valid internationalized domain name: idna: disallowed rune U+2028"}}},
		{"several problems in one rule", []Rule{{Hostname: "a.*.example.com:80", Path: "(", Service: "http_status:1"}}, []validationProblem{
			{1, "invalid HTTP status code: 1"},
			{1, "Hostname cannot contain a port"},
			{1, badWildcard},
			{1, lastNotCatchAll},
			{1, "Rule #1 has an invalid regex: error parsing regexp: missing closing ): `(`"},
		}},
		{"problems in rule order", []Rule{catchAll, web("a.example.com:1"), web("b.example.com")}, []validationProblem{
			{1, "Rule #1 is matching the hostname '', but this will match every hostname, meaning the rules which follow it will never be triggered."},
			{2, "Hostname cannot contain a port"},
			{3, lastNotCatchAll},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateRules(tt.rules)
			got := validationProblemsOf(t, err)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ValidateRules() problems:\n got %+v\nwant %+v\nerror: %v", got, tt.want, err)
			}
		})
	}
}

// validationProblemsOf unpacks the *multierror.Error that ValidateRules returns.
func validationProblemsOf(t *testing.T, err error) []validationProblem {
	t.Helper()
	if err == nil {
		return nil
	}
	var merr *multierror.Error
	if !errors.As(err, &merr) {
		t.Fatalf("error %v is a %T, want *multierror.Error", err, err)
	}

	var got []validationProblem
	for _, e := range merr.Errors {
		var ruleErr *RuleError
		if !errors.As(e, &ruleErr) {
			t.Fatalf("error %v is a %T, want *RuleError", e, e)
		}
		if !errors.Is(e, ErrInvalidRule) {
			t.Errorf("error %v does not wrap ErrInvalidRule", e)
		}
		got = append(got, validationProblem{Index: ruleErr.Index, Cloudflared: CloudflaredText(ruleErr)})
	}
	return got
}

func TestRuleErrorText(t *testing.T) {
	rules := []Rule{
		{Hostname: "api.example.com", Path: "*", Service: "http://api:80"},
		{Hostname: "b.example.com:80", Service: "http://b:80"},
		{Path: "^/x", Service: "http_status:404"},
	}
	err := ValidateRules(rules)
	if err == nil {
		t.Fatal("ValidateRules: no error")
	}

	var merr *multierror.Error
	if !errors.As(err, &merr) || len(merr.Errors) != 3 {
		t.Fatalf("ValidateRules() = %v, want three errors", err)
	}
	wantPrefixes := []string{
		"rule #1 (api.example.com, path *): path is not a valid regular expression: ",
		`rule #2 (b.example.com:80): hostname "b.example.com:80" contains a port`,
		"rule #3 (any hostname, path ^/x): the last rule must match every request",
	}
	for i, want := range wantPrefixes {
		if got := merr.Errors[i].Error(); !strings.HasPrefix(got, want) {
			t.Errorf("error %d = %q, want prefix %q", i, got, want)
		}
	}

	wantFirst := "Rule #1 has an invalid regex: error parsing regexp: missing argument to repetition operator: `*`"
	if got := CloudflaredText(err); got != wantFirst {
		t.Errorf("CloudflaredText() = %q, want %q", got, wantFirst)
	}
}

func TestRuleErrorWholeList(t *testing.T) {
	err := ValidateRules(nil)
	var ruleErr *RuleError
	if !errors.As(err, &ruleErr) {
		t.Fatalf("ValidateRules(nil) = %v, want a *RuleError", err)
	}
	if !strings.HasPrefix(ruleErr.Error(), "ingress: ") {
		t.Errorf("Error() = %q, want prefix %q", ruleErr.Error(), "ingress: ")
	}
}

func TestCloudflaredTextOther(t *testing.T) {
	if got := CloudflaredText(nil); got != "" {
		t.Errorf("CloudflaredText(nil) = %q, want empty", got)
	}
	plain := errors.New("plain failure")
	if got := CloudflaredText(plain); got != "plain failure" {
		t.Errorf("CloudflaredText(plain) = %q, want %q", got, "plain failure")
	}
	built := &RuleError{Index: 1, Message: "built by hand"}
	if got := CloudflaredText(built); got != "built by hand" {
		t.Errorf("CloudflaredText(built) = %q, want the message", got)
	}
}
