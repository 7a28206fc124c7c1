package sync

import (
	"slices"
	"strings"
	"testing"
)

// coverScanned is the filter coverConflict applied to every unmanaged rule
// before the index existed: the rules it goes on to compare with Covers.
func coverScanned(hostnames []string, unmanaged []int, want string) []int {
	var out []int
	for _, i := range unmanaged {
		u := hostnames[i]
		if u != "" && u != "*" && !strings.HasPrefix(u, "*") && !strings.HasPrefix(want, "*") && !strings.EqualFold(u, want) {
			continue
		}
		out = append(out, i)
	}
	return out
}

func TestUnmanagedIndexCandidates(t *testing.T) {
	// Live document hostnames by index; index 3 is an owned rule, so it is
	// missing from the unmanaged list.
	hostnames := []string{
		"app.example.com",
		"",
		"*.example.com",
		"owned.example.com",
		"APP.example.com",
		"*",
		"other.example.com",
		"xn--bcher-kva.example.com",
		"bücher.example.com",
		"ſhop.example.com",
		"app.example.com",
	}
	unmanaged := []int{0, 1, 2, 4, 5, 6, 7, 8, 9, 10}
	x := newUnmanagedIndex(func(i int) string { return hostnames[i] }, unmanaged)

	tests := []struct {
		name string
		want string
	}{
		{"exact with duplicates", "app.example.com"},
		{"exact upper case", "App.Example.com"},
		{"exact without rules", "new.example.com"},
		{"wildcard", "*.example.com"},
		{"deeper wildcard", "*.a.example.com"},
		{"punycode", "xn--bcher-kva.example.com"},
		{"ascii folding of long s", "shop.example.com"},
		{"non-ascii route", "bücher.example.com"},
		{"every host", "*"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := coverScanned(hostnames, x.candidates(tt.want, unmanaged), tt.want)
			want := coverScanned(hostnames, unmanaged, tt.want)
			if !slices.Equal(got, want) {
				t.Errorf("candidates(%q) then filter = %v, want %v", tt.want, got, want)
			}
			if !slices.IsSorted(x.candidates(tt.want, unmanaged)) {
				t.Errorf("candidates(%q) = %v, not in live order", tt.want, x.candidates(tt.want, unmanaged))
			}
		})
	}
}

func TestUnmanagedIndexNoRules(t *testing.T) {
	x := newUnmanagedIndex(func(int) string { return "" }, nil)
	if got := x.candidates("app.example.com", nil); len(got) != 0 {
		t.Errorf("candidates with no unmanaged rules = %v, want none", got)
	}
}
