package sync

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// textWriter collects the lines of the text format. It escapes control
// characters in every line, because hostnames, comments and reasons come from
// live state that someone else may have written, and wraps lines to
// opts.Width.
type textWriter struct {
	opts    RenderOptions
	builder strings.Builder
}

// paragraph writes text after a blank line, unless it is the first output.
func (t *textWriter) paragraph(text string) {
	t.blankLine()
	t.line("", "", text)
}

// heading starts a section.
func (t *textWriter) heading(text string) {
	t.paragraph(text)
}

// item writes one entry of a section, with an action symbol or none.
func (t *textWriter) item(symbol, text string) {
	t.line("  ", symbol, text)
}

// detail writes a line that belongs to the item above it.
func (t *textWriter) detail(text string) {
	t.line("      ", "", text)
}

func (t *textWriter) blankLine() {
	if t.builder.Len() > 0 {
		t.builder.WriteString("\n")
	}
}

// line writes indent, the symbol (coloured when opts.Color is set) and text,
// wrapping text at spaces so that no line is longer than opts.Width runes
// unless one word is. Continuation lines are indented four more columns.
func (t *textWriter) line(indent, symbol, text string) {
	prefix := indent
	if symbol != "" {
		prefix += t.colored(symbol) + " "
	}
	prefixWidth := utf8.RuneCountInString(indent)
	if symbol != "" {
		prefixWidth += utf8.RuneCountInString(symbol) + 1
	}
	continuation := strings.Repeat(" ", prefixWidth+4)

	for i, part := range wrapWords(escapeControl(text), t.opts.Width-prefixWidth, t.opts.Width-prefixWidth-4) {
		if i == 0 {
			t.builder.WriteString(prefix)
		} else {
			t.builder.WriteString(continuation)
		}
		t.builder.WriteString(part)
		t.builder.WriteString("\n")
	}
}

func (t *textWriter) colored(symbol string) string {
	color, ok := symbolColors[symbol]
	if !t.opts.Color || !ok {
		return symbol
	}
	return color + symbol + ansiReset
}

func (t *textWriter) String() string {
	return t.builder.String()
}

// wrapWords splits text at spaces into lines of at most first runes for the
// first line and rest runes after it. A width below 1 means no wrapping, and
// a word longer than the width gets a line of its own.
//
// NOTE: widths count runes, not terminal columns, so text with wide
// characters (CJK, most emoji) can run past the width.
func wrapWords(text string, first, rest int) []string {
	if first < 1 || utf8.RuneCountInString(text) <= first {
		return []string{text}
	}
	width := first

	var lines []string
	current := ""
	for _, word := range strings.Split(text, " ") {
		switch {
		case current == "":
			current = word
		case utf8.RuneCountInString(current)+1+utf8.RuneCountInString(word) <= width:
			current += " " + word
		default:
			lines = append(lines, current)
			current = word
			width = max(rest, 1)
		}
	}
	return append(lines, current)
}

// escapeControl replaces every control or other non-printable character
// with its Go escape, so text from live state cannot move the cursor, clear
// the screen or forge extra lines.
func escapeControl(text string) string {
	printable := func(r rune) bool { return r == ' ' || unicode.IsGraphic(r) }
	if strings.IndexFunc(text, func(r rune) bool { return !printable(r) }) < 0 {
		return text
	}

	var b strings.Builder
	for _, r := range text {
		if printable(r) {
			b.WriteRune(r)
			continue
		}
		quoted := strconv.QuoteRune(r)
		b.WriteString(quoted[1 : len(quoted)-1])
	}
	return b.String()
}
