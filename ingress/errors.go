package ingress

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// ErrInvalidLabel is the sentinel that every *LabelError unwraps to.
var ErrInvalidLabel = errors.New("invalid label")

// LabelError is one invalid portcullis label: where it is, what is wrong with
// it and what to do about it. When SecretVar is set, the label's value came
// from a secret-looking variable, so Value is empty and the value is never
// printed.
type LabelError struct {
	File      string
	Line      int
	Service   string
	Key       string
	Value     string
	Message   string
	Hint      string
	SecretVar string
}

// Error formats the error as
// `FILE:LINE: service "S": label "K" = "V": MESSAGE; HINT`, leaving out the
// parts that are unknown.
func (e *LabelError) Error() string {
	var b strings.Builder
	b.WriteString(formatPosition(e.File, e.Line))
	if e.Service != "" {
		fmt.Fprintf(&b, "service %q: ", e.Service)
	}
	if e.Key != "" {
		fmt.Fprintf(&b, "label %q", e.Key)
		if e.Value != "" && e.SecretVar == "" {
			fmt.Fprintf(&b, " = %q", e.Value)
		}
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	if e.Hint != "" {
		b.WriteString("; ")
		b.WriteString(e.Hint)
	}
	return b.String()
}

// Unwrap returns ErrInvalidLabel.
func (e *LabelError) Unwrap() error { return ErrInvalidLabel }

// Warning is a notice about a label that is valid but probably does not do
// what its author expects.
type Warning struct {
	File     string `json:"file,omitempty"`
	Line     int    `json:"line,omitempty"`
	Service  string `json:"service,omitempty"`
	Key      string `json:"key,omitempty"`
	Hostname string `json:"hostname,omitempty"`
	Message  string `json:"message"`
}

// String formats the warning like a LabelError, without a value.
func (w Warning) String() string {
	var b strings.Builder
	b.WriteString(formatPosition(w.File, w.Line))
	if w.Service != "" {
		fmt.Fprintf(&b, "service %q: ", w.Service)
	}
	if w.Key != "" {
		fmt.Fprintf(&b, "label %q: ", w.Key)
	}
	if w.Hostname != "" {
		fmt.Fprintf(&b, "hostname %q: ", w.Hostname)
	}
	b.WriteString(w.Message)
	return b.String()
}

func formatPosition(file string, line int) string {
	switch {
	case file == "":
		return ""
	case line > 0:
		return file + ":" + strconv.Itoa(line) + ": "
	default:
		return file + ": "
	}
}

// compareLabelErrors orders errors by file, line, service and key, then by
// the rest of their text so that the order is total.
func compareLabelErrors(a, b *LabelError) int {
	return cmp.Or(
		cmp.Compare(a.File, b.File),
		cmp.Compare(a.Line, b.Line),
		cmp.Compare(a.Service, b.Service),
		cmp.Compare(a.Key, b.Key),
		cmp.Compare(a.Error(), b.Error()),
	)
}

func compareWarnings(a, b Warning) int {
	return cmp.Or(
		cmp.Compare(a.File, b.File),
		cmp.Compare(a.Line, b.Line),
		cmp.Compare(a.Service, b.Service),
		cmp.Compare(a.Key, b.Key),
		cmp.Compare(a.Hostname, b.Hostname),
		cmp.Compare(a.Message, b.Message),
	)
}

// sortWarnings sorts warnings and drops exact repeats, such as the one notice
// per run about portcullis.dns on the file target.
func sortWarnings(warnings []Warning) []Warning {
	slices.SortFunc(warnings, compareWarnings)
	return slices.Compact(warnings)
}
