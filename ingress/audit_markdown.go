package ingress

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
)

// AuditMarkdownTitle is the heading that starts every Markdown audit report.
// A CI script can search a pull request's comments for it to update its own
// comment.
const AuditMarkdownTitle = "### portcullis audit"

// auditMarkdownRenderer writes a compact GitHub-flavoured Markdown report
// for a pull-request comment or a job summary. Every value that comes from
// compose files or live state is escaped, so it cannot add formatting,
// links, mentions, HTML or table cells.
type auditMarkdownRenderer struct{}

func (auditMarkdownRenderer) Render(w io.Writer, r *AuditReport) error {
	var b strings.Builder
	b.WriteString(AuditMarkdownTitle + "\n\n")
	b.WriteString(markdownText(describeAuditScope(r)) + "\n\n")
	if len(r.Findings) == 0 {
		b.WriteString(markdownText(describeAuditSummary(r)) + "\n")
	} else {
		b.WriteString(auditMarkdownCounts(r.Summary) + "\n\n")
		writeAuditMarkdownTable(&b, r.Findings)
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write audit report as Markdown: %w", err)
	}
	return nil
}

// auditMarkdownCounts returns the line that counts errors, warnings, notes
// and exposures.
func auditMarkdownCounts(s AuditSummary) string {
	counts := fmt.Sprintf("**%s, %s, %s**", auditPlural(s.Errors, "error"), auditPlural(s.Warnings, "warning"), auditPlural(s.Notes, "note"))
	if s.Exposures == 0 {
		return counts + "; no finding exposes an internal-only service."
	}
	return counts + "; " + auditPlural(s.Exposures, "finding exposes", "findings expose") + " an internal-only service."
}

// writeAuditMarkdownTable writes one table row per finding, in the report's
// order.
func writeAuditMarkdownTable(b *strings.Builder, findings []AuditFinding) {
	b.WriteString("| Severity | Kind | Service | File:line | Message | What to do |\n")
	b.WriteString("| --- | --- | --- | --- | --- | --- |\n")
	for _, f := range findings {
		cells := []string{
			severitySymbols[f.Severity] + " " + markdownText(string(f.Severity)),
			markdownCellCode(string(f.Kind)),
			markdownCellCode(f.Service),
			auditMarkdownPosition(f.File, f.Line),
			auditMarkdownMessage(f),
			markdownText(f.Fix),
		}
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
}

// auditMarkdownPosition returns the table cell of a finding's compose file
// and line, or "" for a finding about live state.
func auditMarkdownPosition(file string, line int) string {
	switch {
	case file == "":
		return ""
	case line > 0:
		return markdownCellCode(file + ":" + strconv.Itoa(line))
	default:
		return markdownCellCode(file) + " (line unknown)"
	}
}

// auditMarkdownMessage returns the message cell of a finding, led by the
// label or live key the text format names too.
func auditMarkdownMessage(f AuditFinding) string {
	message := markdownText(f.Message)
	switch {
	case f.Key != "" && (f.Kind == KindInvalidLabel || f.Kind == KindLabelWarning):
		return "label " + markdownCellCode(f.Key) + ": " + message
	case f.File == "" && f.Key != "":
		return "live " + markdownCellCode(f.Key) + ": " + message
	}
	return message
}

// markdownSpecialChars are the characters markdownText escapes with a
// backslash. They start emphasis, code spans, links and images, HTML tags
// and entities, strikethrough, table cells, @mentions and #references.
const markdownSpecialChars = "\\`*_[]<>|~&@#"

// markdownText escapes text for Markdown prose and table cells. Control and
// format characters (newlines, bidirectional overrides, zero-width spaces)
// become Go escapes such as \n, so the text cannot start a line or a cell.
// The colon of "://" and the dot of "www." are escaped too, to break up
// GitHub's extended autolinks.
func markdownText(text string) string {
	text = escapeControlChars(text)
	var b strings.Builder
	for i, r := range text {
		switch {
		case strings.ContainsRune(markdownSpecialChars, r):
			b.WriteByte('\\')
		case r == ':' && strings.HasPrefix(text[i+1:], "//"):
			b.WriteByte('\\')
		case r == '.' && i >= 3 && strings.EqualFold(text[i-3:i], "www"):
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// markdownCellCode shows text as an inline code span for a table cell, or
// returns "" for empty text. The fence is one backtick longer than the
// longest backtick run in the text, and pipes are escaped, because GitHub
// splits table cells at a pipe even inside a code span.
func markdownCellCode(text string) string {
	text = escapeControlChars(text)
	if text == "" {
		return ""
	}
	longest, run := 0, 0
	for _, r := range text {
		if r != '`' {
			run = 0
			continue
		}
		run++
		longest = max(longest, run)
	}
	if strings.HasPrefix(text, "`") || strings.HasSuffix(text, "`") {
		text = " " + text + " "
	}
	fence := strings.Repeat("`", longest+1)
	return strings.ReplaceAll(fence+text+fence, "|", `\|`)
}

// escapeControlChars replaces every rune that is neither graphic nor a
// space with its Go escape, without quotes.
func escapeControlChars(text string) string {
	isPlain := func(r rune) bool { return r == ' ' || unicode.IsGraphic(r) }
	if !strings.ContainsFunc(text, func(r rune) bool { return !isPlain(r) }) {
		return text
	}
	var b strings.Builder
	for _, r := range text {
		if isPlain(r) {
			b.WriteRune(r)
			continue
		}
		quoted := strconv.QuoteRune(r)
		b.WriteString(quoted[1 : len(quoted)-1])
	}
	return b.String()
}
