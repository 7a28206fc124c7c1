package sync

import (
	"fmt"
	"io"
	"strings"
)

// MarkdownTitle is the heading that starts every Markdown plan. CI scripts
// can search a pull request's comments for it to update their own comment.
const MarkdownTitle = "### portcullis plan"

// markdownRenderer writes a compact GitHub-flavoured Markdown summary of the
// plan, for a pull-request comment or a job summary. Like the text format it
// is built from the decoded JSON document. Every value is escaped, so text
// from live state cannot add formatting, links, mentions or table cells.
type markdownRenderer struct{}

// Render writes the plan as Markdown.
func (markdownRenderer) Render(w io.Writer, p *Plan) error {
	decoded, err := decodedCopy(p)
	if err != nil {
		return err
	}
	var out markdownWriter
	writePlanMarkdown(&out, decoded)
	if _, err := io.WriteString(w, out.String()); err != nil {
		return fmt.Errorf("write plan as Markdown: %w", err)
	}
	return nil
}

// decodedCopy returns p after a round trip through the JSON document, so
// every renderer prints the same values.
func decodedCopy(p *Plan) (*Plan, error) {
	document, err := MarshalPlan(p)
	if err != nil {
		return nil, err
	}
	return UnmarshalPlan(document)
}

func writePlanMarkdown(out *markdownWriter, p *Plan) {
	out.block(MarkdownTitle)
	out.block(markdownHeader(p))
	out.block(markdownStatus(p))
	if p.DeleteLimitExceeded {
		out.block("**Delete limit exceeded:** the plan deletes more owned hostnames than `--max-deletes` allows, so apply writes nothing.")
	}
	writeMarkdownViolations(out, p.Violations)
	writeMarkdownConflicts(out, p.Conflicts)
	writeMarkdownRouteChanges(out, p)
	writeMarkdownDNSChanges(out, p.DNS)
	writeMarkdownHeld(out, p.Held)
	writeMarkdownRevoked(out, p.Revoked)
	writeMarkdownSkipped(out, p.Policy, p.Skipped)
	writeMarkdownWarnings(out, p.Warnings)
	writeMarkdownDNSCommands(out, p.DNSCommands)
}

// markdownHeader names the tunnel, target, owner and policy, leaving out
// what the plan does not carry.
func markdownHeader(p *Plan) string {
	var parts []string
	if p.TunnelID != "" {
		parts = append(parts, "Tunnel "+mdCode(p.TunnelID))
	}
	if p.Target != "" {
		parts = append(parts, "target "+mdCode(p.Target))
	}
	if p.OwnerID != "" {
		parts = append(parts, "owner "+mdCode(p.OwnerID))
	}
	if p.Policy != "" {
		parts = append(parts, "policy "+mdCode(string(p.Policy)))
	}
	if len(parts) == 0 {
		return "Plan."
	}
	return strings.Join(parts, ", ") + "."
}

// markdownStatus returns the bold tally or no-changes sentence and the
// counts of what never counts as a change.
func markdownStatus(p *Plan) string {
	var text string
	switch {
	case p.HasChanges():
		text = "**" + tallyText(p) + "**"
	case len(p.Violations)+len(p.Conflicts)+len(p.Skipped) > 0:
		text = "**No changes to apply**, but the tunnel's routes do not match the compose files: see the sections below."
	default:
		text = "**No changes.** The tunnel's routes match the compose files."
	}
	if p.Reorder {
		text += " Apply only restores the order of the rules."
	}

	var counts []string
	for _, c := range []struct {
		n                int
		singular, plural string
	}{
		{len(p.Violations), "violation", "violations"},
		{len(p.Conflicts), "conflict", "conflicts"},
		{len(p.Held), "held", "held"},
		{len(p.Revoked), "revoked", "revoked"},
		{len(p.Skipped), "skipped", "skipped"},
		{len(p.Unmanaged), "unmanaged rule", "unmanaged rules"},
		{len(p.Warnings), "warning", "warnings"},
	} {
		if c.n > 0 {
			counts = append(counts, countNoun(c.n, c.singular, c.plural))
		}
	}
	if len(counts) > 0 {
		text += "\nAlso: " + strings.Join(counts, ", ") + "."
	}
	return text
}

func writeMarkdownViolations(out *markdownWriter, violations []Violation) {
	if len(violations) == 0 {
		return
	}
	out.block(fmt.Sprintf("#### Violations (%d)\n\nRoutes and live rules that reach an internal-only service. While one that is not neutralised remains, apply writes none of the route changes below.", len(violations)))
	rows := [][]string{{"", "Route", "Origin", "Internal service", "Matched name", "From"}}
	for _, v := range violations {
		how := mdCell(v.MatchedName)
		if v.How != "" {
			how = mdText(v.How) + " " + how
		}
		rows = append(rows, []string{"✗", mdRoute(v.Hostname, v.Path), mdCell(v.Origin), mdCell(v.InternalService), how, mdText(violationFrom(v))})
	}
	out.table(rows)
}

// violationFrom describes where a violation comes from: the requesting service
// and its label position, or the live rule.
func violationFrom(v Violation) string {
	var parts []string
	if v.Service != "" {
		parts = append(parts, "service "+v.Service)
	}
	if v.File != "" {
		if v.Line > 0 {
			parts = append(parts, fileLine(v.File, v.Line))
		} else {
			parts = append(parts, v.File+" (line unknown)")
		}
	}
	if v.Live {
		parts = append(parts, "live rule")
	}
	if v.Neutralised {
		parts = append(parts, "neutralised by a revocation")
	}
	return strings.Join(parts, ", ")
}

func writeMarkdownConflicts(out *markdownWriter, conflicts []Conflict) {
	if len(conflicts) == 0 {
		return
	}
	out.block(fmt.Sprintf("#### Conflicts (%d)\n\nRoutes not written, because something portcullis does not own holds the hostname.", len(conflicts)))
	rows := [][]string{{"Route", "Service", "Reason"}}
	for _, c := range conflicts {
		rows = append(rows, []string{mdRoute(c.Hostname, c.Path), mdText(c.Service), mdText(c.Reason)})
	}
	out.table(rows)
}

func writeMarkdownRouteChanges(out *markdownWriter, p *Plan) {
	count := len(p.Creates) + len(p.Updates) + len(p.Deletes) + len(p.Drift)
	if count == 0 {
		return
	}
	out.block(fmt.Sprintf("#### Route changes (%d)", count))
	rows := [][]string{{"", "Hostname", "Path", "Origin", "Details"}}
	for _, c := range p.Creates {
		var details []string
		if c.After != nil {
			for _, field := range flattenOriginRequest("originRequest", c.After.OriginRequest) {
				details = append(details, field.key+" = "+field.value)
			}
		}
		rows = append(rows, routeChangeRow(symbolCreate, c, details))
	}
	for _, c := range p.Updates {
		rows = append(rows, routeChangeRow(symbolUpdate, c, ruleDifferences(ruleOrZero(c.Before), ruleOrZero(c.After))))
	}
	for _, c := range p.Deletes {
		rows = append(rows, routeChangeRow(symbolDelete, c, nil))
	}
	for _, c := range p.Drift {
		rows = append(rows, routeChangeRow(symbolDelete, c, []string{"drift: not in compose, reverted by apply"}))
	}
	out.table(rows)
}

// routeChangeRow shows the origin of the rule after the change (before it,
// for a delete). The compose service that declares the route, when the
// change names one other than the origin, leads the details.
func routeChangeRow(symbol string, c RouteChange, details []string) []string {
	origin := changeOrigin(c)
	var escaped []string
	if c.Service != "" && c.Service != origin {
		escaped = append(escaped, "service "+mdText(c.Service))
	}
	for _, d := range details {
		escaped = append(escaped, mdText(d))
	}
	return []string{symbol, mdHostname(c.Hostname), mdCell(c.Path), mdCell(origin), strings.Join(escaped, "<br>")}
}

// changeOrigin returns the origin of the rule after a change, else before
// it, else the change's Service.
func changeOrigin(c RouteChange) string {
	switch {
	case c.After != nil:
		return c.After.Service
	case c.Before != nil:
		return c.Before.Service
	default:
		return c.Service
	}
}

func writeMarkdownDNSChanges(out *markdownWriter, changes []DNSChange) {
	if len(changes) == 0 {
		return
	}
	out.block(fmt.Sprintf("#### DNS changes (%d)", len(changes)))
	rows := [][]string{{"", "Type", "Name", "Content", "Proxied", "Comment"}}
	for _, c := range changes {
		comment := mdCell(c.Comment)
		if c.Action == DNSUpdate {
			comment = mdText(commentOrNone(c.BeforeComment)) + " → " + mdText(commentOrNone(c.Comment))
		}
		proxied := "no"
		if c.Proxied {
			proxied = "yes"
		}
		rows = append(rows, []string{dnsSymbol(c.Action), mdText(c.Type), mdCell(c.Name), mdCell(c.Content), proxied, comment})
	}
	out.table(rows)
}

func writeMarkdownHeld(out *markdownWriter, held []Held) {
	if len(held) == 0 {
		return
	}
	var items []string
	for _, h := range held {
		items = append(items, mdCode(h.Hostname)+mdServiceNote(h.Service)+": "+mdText(h.Reason))
	}
	out.list(fmt.Sprintf("#### Held (%d)\n\nLive routes left as they are.", len(held)), items)
}

func writeMarkdownRevoked(out *markdownWriter, revoked []Revoked) {
	if len(revoked) == 0 {
		return
	}
	var items []string
	for _, r := range revoked {
		items = append(items, symbolRevoked+" "+mdText(revokedText(r)))
	}
	out.list(fmt.Sprintf("#### Revoked (%d)\n\nTraffic cut until `portcullis restore`.", len(revoked)), items)
}

func writeMarkdownSkipped(out *markdownWriter, policy Policy, skipped []Skipped) {
	if len(skipped) == 0 {
		return
	}
	var items []string
	for _, s := range skipped {
		items = append(items, mdText(s.Action)+" "+mdRoute(s.Hostname, s.Path)+": "+mdText(s.Reason))
	}
	out.list(fmt.Sprintf("#### Skipped by policy %s (%d)", mdText(string(policy)), len(skipped)), items)
}

func writeMarkdownWarnings(out *markdownWriter, warnings []Warning) {
	if len(warnings) == 0 {
		return
	}
	var items []string
	for _, w := range warnings {
		subject := ""
		if w.Hostname != "" {
			subject = mdCode(w.Hostname)
		}
		if w.Service != "" {
			if subject == "" {
				subject = "service " + mdText(w.Service)
			} else {
				subject += mdServiceNote(w.Service)
			}
		}
		if subject != "" {
			subject += ": "
		}
		items = append(items, subject+mdText(w.Message))
	}
	out.list(fmt.Sprintf("#### Warnings (%d)", len(warnings)), items)
}

func writeMarkdownDNSCommands(out *markdownWriter, commands []string) {
	if len(commands) == 0 {
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "#### DNS records still needed (%d)\n\nThe file target manages no DNS, so run:\n\n```\n", len(commands))
	for _, command := range commands {
		b.WriteString(escapeControl(strings.ReplaceAll(command, "```", "` ` `")))
		b.WriteString("\n")
	}
	b.WriteString("```")
	out.block(b.String())
}

func mdServiceNote(service string) string {
	if service == "" {
		return ""
	}
	return " (service " + mdText(service) + ")"
}

// mdRoute shows a hostname and path for a table cell.
func mdRoute(hostname, path string) string {
	if path == "" {
		return mdHostname(hostname)
	}
	return mdHostname(hostname) + " path " + mdCell(path)
}

func mdHostname(hostname string) string {
	if hostname == "" {
		return "(every hostname)"
	}
	return mdCell(hostname)
}

// markdownWriter collects Markdown blocks separated by blank lines.
type markdownWriter struct {
	builder strings.Builder
}

func (m *markdownWriter) block(text string) {
	if m.builder.Len() > 0 {
		m.builder.WriteString("\n")
	}
	m.builder.WriteString(text)
	m.builder.WriteString("\n")
}

// list writes a heading block and a bullet list.
func (m *markdownWriter) list(heading string, items []string) {
	m.block(heading)
	m.block("- " + strings.Join(items, "\n- "))
}

// table writes rows as a table whose first row is the header. Cells must
// already be escaped for a table.
func (m *markdownWriter) table(rows [][]string) {
	var b strings.Builder
	for i, row := range rows {
		b.WriteString("| " + strings.Join(row, " | ") + " |")
		if i == 0 {
			b.WriteString("\n|" + strings.Repeat(" --- |", len(row)))
		}
		if i < len(rows)-1 {
			b.WriteString("\n")
		}
	}
	m.block(b.String())
}

func (m *markdownWriter) String() string {
	return m.builder.String()
}

// markdownSpecial lists the characters mdText escapes: those that start
// emphasis, code, links, HTML, entities, strikethrough, table cells,
// mentions and issue references.
const markdownSpecial = "\\`*_[]<>|~&@#"

// mdText escapes text for Markdown prose and table cells, and shows control
// characters as Go escapes, so the text cannot forge lines or cells.
func mdText(text string) string {
	text = escapeControl(text)
	var b strings.Builder
	for _, r := range text {
		if strings.ContainsRune(markdownSpecial, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// mdCode shows text as an inline code span outside tables, with a fence
// longer than any backtick run in the text.
func mdCode(text string) string {
	text = escapeControl(text)
	if text == "" {
		return ""
	}
	longest, run := 0, 0
	for _, r := range text {
		if r == '`' {
			run++
			longest = max(longest, run)
			continue
		}
		run = 0
	}
	fence := strings.Repeat("`", longest+1)
	if strings.HasPrefix(text, "`") || strings.HasSuffix(text, "`") {
		text = " " + text + " "
	}
	return fence + text + fence
}

// mdCell shows text as an inline code span inside a table cell, where a
// pipe must be escaped even inside code.
func mdCell(text string) string {
	return strings.ReplaceAll(mdCode(text), "|", `\|`)
}

// RenderMarkdownFailure writes the Markdown summary of a plan that failed
// before a plan existed, such as one with invalid labels: the title and one
// escaped bullet per problem.
func RenderMarkdownFailure(w io.Writer, problems []string) error {
	var out markdownWriter
	out.block(MarkdownTitle)
	items := make([]string, len(problems))
	for i, problem := range problems {
		items[i] = mdText(problem)
	}
	out.list(fmt.Sprintf("**Plan failed** (%s), so there is nothing to apply:", countNoun(len(problems), "problem", "problems")), items)
	if _, err := io.WriteString(w, out.String()); err != nil {
		return fmt.Errorf("write plan failure as Markdown: %w", err)
	}
	return nil
}
