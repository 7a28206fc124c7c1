package sync

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// ErrUnsupportedPlanVersion is returned by UnmarshalPlan for a document whose
// format_version this build cannot read.
var ErrUnsupportedPlanVersion = errors.New("unsupported plan format_version")

// jsonRenderer writes the JSON plan document.
type jsonRenderer struct{}

// Render writes the document MarshalPlan returns.
func (jsonRenderer) Render(w io.Writer, p *Plan) error {
	document, err := MarshalPlan(p)
	if err != nil {
		return err
	}
	if _, err := w.Write(document); err != nil {
		return fmt.Errorf("write plan as JSON: %w", err)
	}
	return nil
}

// MarshalPlan encodes p as the versioned JSON plan document: format_version
// first, two-space indentation, a trailing newline, and every empty bucket as
// [] rather than null, so consumers need no null checks. The document always
// carries this build's FormatVersion, because the layout is this package's.
// HTML characters are not escaped, so hostnames and paths stay readable.
// Durations are integer seconds, or a Go duration string when they are not
// whole seconds (possible on the file target only).
func MarshalPlan(p *Plan) ([]byte, error) {
	document := withEmptyBuckets(*p)
	document.FormatVersion = FormatVersion

	var buffer bytes.Buffer
	encoder := json.NewEncoder(&buffer)
	encoder.SetEscapeHTML(false)
	encoder.SetIndent("", "  ")
	if err := encoder.Encode(&document); err != nil {
		return nil, fmt.Errorf("encode plan as JSON: %w", err)
	}
	return buffer.Bytes(), nil
}

// UnmarshalPlan decodes a JSON plan document written by MarshalPlan. A
// document without format_version, or with a version other than
// FormatVersion, is rejected with an error wrapping
// ErrUnsupportedPlanVersion. Fields the document has and Plan lacks are
// ignored, because adding a field does not change the version. Empty buckets
// decode as nil slices, as a zero Plan has them.
func UnmarshalPlan(b []byte) (*Plan, error) {
	var header struct {
		FormatVersion *int `json:"format_version"`
	}
	if err := json.Unmarshal(b, &header); err != nil {
		return nil, fmt.Errorf("decode plan document: %w", err)
	}
	if header.FormatVersion == nil {
		return nil, fmt.Errorf("decode plan document: format_version is missing: %w: write the plan again with this portcullis", ErrUnsupportedPlanVersion)
	}
	if version := *header.FormatVersion; version != FormatVersion {
		return nil, fmt.Errorf("decode plan document: format_version %d, this portcullis reads %d: %w: run the portcullis version that wrote the plan, or plan again", version, FormatVersion, ErrUnsupportedPlanVersion)
	}

	var p Plan
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("decode plan document: %w", err)
	}
	nilEmptyBuckets(&p)
	return &p, nil
}

// withEmptyBuckets returns p with every nil bucket replaced by an empty
// slice. DNSCommands stays as it is, because its tag omits it when empty.
func withEmptyBuckets(p Plan) Plan {
	p.Creates = emptyIfNil(p.Creates)
	p.Updates = emptyIfNil(p.Updates)
	p.Deletes = emptyIfNil(p.Deletes)
	p.Drift = emptyIfNil(p.Drift)
	p.DNS = emptyIfNil(p.DNS)
	p.Held = emptyIfNil(p.Held)
	p.Skipped = emptyIfNil(p.Skipped)
	p.Unmanaged = emptyIfNil(p.Unmanaged)
	p.Revoked = emptyIfNil(p.Revoked)
	p.Conflicts = emptyIfNil(p.Conflicts)
	p.Violations = emptyIfNil(p.Violations)
	p.Warnings = emptyIfNil(p.Warnings)
	p.Document = emptyIfNil(p.Document)
	return p
}

// nilEmptyBuckets replaces every empty bucket of p with nil.
func nilEmptyBuckets(p *Plan) {
	p.Creates = nilIfEmpty(p.Creates)
	p.Updates = nilIfEmpty(p.Updates)
	p.Deletes = nilIfEmpty(p.Deletes)
	p.Drift = nilIfEmpty(p.Drift)
	p.DNS = nilIfEmpty(p.DNS)
	p.Held = nilIfEmpty(p.Held)
	p.Skipped = nilIfEmpty(p.Skipped)
	p.Unmanaged = nilIfEmpty(p.Unmanaged)
	p.Revoked = nilIfEmpty(p.Revoked)
	p.Conflicts = nilIfEmpty(p.Conflicts)
	p.Violations = nilIfEmpty(p.Violations)
	p.Warnings = nilIfEmpty(p.Warnings)
	p.DNSCommands = nilIfEmpty(p.DNSCommands)
	p.Document = nilIfEmpty(p.Document)
}

func emptyIfNil[T any](items []T) []T {
	if items == nil {
		return []T{}
	}
	return items
}

func nilIfEmpty[T any](items []T) []T {
	if len(items) == 0 {
		return nil
	}
	return items
}
