package sync

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/portcullis-dev/portcullis/ingress"
)

// Action symbols of the text format, as in Terraform's plan output.
const (
	symbolCreate    = "+"
	symbolUpdate    = "~"
	symbolDelete    = "-"
	symbolRevoked   = "!"
	symbolViolation = "✗"
)

// ANSI colour codes of the action symbols.
const (
	ansiReset   = "\x1b[0m"
	ansiRed     = "\x1b[31m"
	ansiGreen   = "\x1b[32m"
	ansiYellow  = "\x1b[33m"
	ansiMagenta = "\x1b[35m"
)

var symbolColors = map[string]string{
	symbolCreate:    ansiGreen,
	symbolUpdate:    ansiYellow,
	symbolDelete:    ansiRed,
	symbolRevoked:   ansiMagenta,
	symbolViolation: ansiRed,
}

// symbolLegend names each symbol in the legend line, in legend order.
var symbolLegend = []struct{ symbol, meaning string }{
	{symbolCreate, "create"},
	{symbolUpdate, "update"},
	{symbolDelete, "delete"},
	{symbolRevoked, "revoked"},
	{symbolViolation, "violation"},
}

// unsetValue stands for an originRequest key that one side of an update
// does not have.
const unsetValue = "(unset)"

// textRenderer writes the plan for people, built from the decoded JSON
// document so that the text and JSON formats cannot drift apart.
type textRenderer struct {
	opts RenderOptions
}

// Render writes the plan as text.
func (r textRenderer) Render(w io.Writer, p *Plan) error {
	document, err := MarshalPlan(p)
	if err != nil {
		return err
	}
	decoded, err := UnmarshalPlan(document)
	if err != nil {
		return err
	}

	out := &textWriter{opts: r.opts}
	writePlanText(out, decoded)

	if _, err := io.WriteString(w, out.String()); err != nil {
		return fmt.Errorf("write plan as text: %w", err)
	}
	return nil
}

// writePlanText writes every non-empty section in a fixed order, then the
// summary lines.
func writePlanText(out *textWriter, p *Plan) {
	out.paragraph(planHeader(p))
	writeViolations(out, p.Violations)
	writeConflicts(out, p.Conflicts)
	writeRouteChanges(out, p)
	writeDNSChanges(out, p.DNS)
	writeHeld(out, p.Held)
	writeSkipped(out, p.Policy, p.Skipped)
	writeRevoked(out, p.Revoked)
	writeUnmanaged(out, p.Unmanaged)
	writeWarnings(out, p.Warnings)
	writeDNSCommands(out, p.DNSCommands)
	writeSummary(out, p)
}

// planHeader names the tunnel, target, owner and policy of the plan,
// leaving out what the plan does not carry.
func planHeader(p *Plan) string {
	text := "Plan"
	if p.TunnelID != "" {
		text += " for tunnel " + p.TunnelID
	}
	if p.Target != "" {
		text += " on the " + p.Target + " target"
	}
	if p.OwnerID != "" {
		text += ", owner " + p.OwnerID
	}
	if p.Policy != "" {
		text += ", policy " + string(p.Policy)
	}
	return text + "."
}

func writeViolations(out *textWriter, violations []Violation) {
	if len(violations) == 0 {
		return
	}
	out.heading(fmt.Sprintf("Violations (%d), routes and live rules that reach an internal-only service:", len(violations)))
	for _, v := range violations {
		out.item(symbolViolation, violationSummary(v))
		out.detail(routeAddress(v.Hostname, v.Path) + " → " + v.Origin)
	}
}

// violationSummary names the requesting service (or, for a live rule no
// service declares, the rule), the internal-only service and the name that
// matched, then where the route comes from.
func violationSummary(v Violation) string {
	requester := v.Service
	if requester == "" {
		requester = "rule " + routeAddress(v.Hostname, v.Path)
	}
	via := strconv.Quote(v.MatchedName)
	if v.How != "" {
		via = v.How + " " + via
	}
	text := fmt.Sprintf("%s → %s via %s", requester, v.InternalService, via)

	var notes []string
	if v.File != "" {
		notes = append(notes, fileLine(v.File, v.Line))
	}
	if v.Live {
		notes = append(notes, "live")
	}
	if v.Neutralised {
		notes = append(notes, "neutralised by a revocation")
	}
	return text + parenthesised(notes)
}

func writeConflicts(out *textWriter, conflicts []Conflict) {
	if len(conflicts) == 0 {
		return
	}
	out.heading(fmt.Sprintf("Conflicts (%d), routes not written because something portcullis does not own holds the hostname:", len(conflicts)))
	for _, c := range conflicts {
		out.item("", withService(routeAddress(c.Hostname, c.Path), c.Service)+": "+c.Reason)
	}
}

func writeRouteChanges(out *textWriter, p *Plan) {
	count := len(p.Creates) + len(p.Updates) + len(p.Deletes) + len(p.Drift)
	if count == 0 {
		return
	}
	out.heading(fmt.Sprintf("Route changes (%d):", count))
	for _, c := range p.Creates {
		writeRouteCreate(out, c)
	}
	for _, c := range p.Updates {
		writeRouteUpdate(out, c)
	}
	for _, c := range p.Deletes {
		out.item(symbolDelete, routeAddress(c.Hostname, c.Path)+" → "+changeService(c))
	}
	for _, c := range p.Drift {
		out.item(symbolDelete, routeAddress(c.Hostname, c.Path)+" → "+changeService(c)+" (drift: not in compose, reverted by apply)")
	}
}

func writeRouteCreate(out *textWriter, c RouteChange) {
	out.item(symbolCreate, routeAddress(c.Hostname, c.Path)+" → "+changeService(c))
	if c.After == nil {
		return
	}
	for _, field := range flattenOriginRequest("originRequest", c.After.OriginRequest) {
		out.detail(field.key + " = " + field.value)
	}
}

func writeRouteUpdate(out *textWriter, c RouteChange) {
	out.item(symbolUpdate, routeAddress(c.Hostname, c.Path))
	for _, line := range ruleDifferences(ruleOrZero(c.Before), ruleOrZero(c.After)) {
		out.detail(line)
	}
}

// ruleDifferences lists "field: before → after" for the service, path and
// each originRequest key that differ between two rules.
func ruleDifferences(before, after ingress.Rule) []string {
	var lines []string
	if before.Service != after.Service {
		lines = append(lines, "service: "+before.Service+" → "+after.Service)
	}
	if before.Path != after.Path {
		lines = append(lines, "path: "+pathOrNone(before.Path)+" → "+pathOrNone(after.Path))
	}

	beforeFields := originFieldMap(flattenOriginRequest("originRequest", before.OriginRequest))
	afterFields := originFieldMap(flattenOriginRequest("originRequest", after.OriginRequest))
	for _, key := range unionOriginKeys(beforeFields, afterFields) {
		from, hadBefore := beforeFields[key]
		to, hasAfter := afterFields[key]
		if hadBefore && hasAfter && from == to {
			continue
		}
		lines = append(lines, key+": "+valueOrUnset(from, hadBefore)+" → "+valueOrUnset(to, hasAfter))
	}
	return lines
}

func writeDNSChanges(out *textWriter, changes []DNSChange) {
	if len(changes) == 0 {
		return
	}
	out.heading(fmt.Sprintf("DNS changes (%d):", len(changes)))
	for _, c := range changes {
		out.item(dnsSymbol(c.Action), dnsRecordText(c))
	}
}

// dnsRecordText shows a record as "CNAME name → content (proxied)" with its
// comment in brackets. An update also shows the comment it replaces.
func dnsRecordText(c DNSChange) string {
	proxy := "(DNS only)"
	if c.Proxied {
		proxy = "(proxied)"
	}
	text := fmt.Sprintf("%s %s → %s %s", c.Type, c.Name, c.Content, proxy)

	switch {
	case c.Action == DNSUpdate:
		return text + " [" + commentOrNone(c.BeforeComment) + " → " + commentOrNone(c.Comment) + "]"
	case c.Comment != "":
		return text + " [" + c.Comment + "]"
	default:
		return text
	}
}

// dnsSymbol returns the symbol of a DNS action. An action this build does not
// know is shown as an update.
func dnsSymbol(action DNSAction) string {
	switch action {
	case DNSCreate:
		return symbolCreate
	case DNSDelete:
		return symbolDelete
	default:
		return symbolUpdate
	}
}

func writeHeld(out *textWriter, held []Held) {
	if len(held) == 0 {
		return
	}
	out.heading(fmt.Sprintf("Held (%d), live routes left as they are:", len(held)))
	for _, h := range held {
		out.item("", withService(h.Hostname, h.Service)+": "+h.Reason)
	}
}

func writeSkipped(out *textWriter, policy Policy, skipped []Skipped) {
	if len(skipped) == 0 {
		return
	}
	out.heading(fmt.Sprintf("Skipped by policy %s (%d):", policy, len(skipped)))
	for _, s := range skipped {
		out.item("", s.Action+" "+routeAddress(s.Hostname, s.Path)+": "+s.Reason)
	}
}

func writeRevoked(out *textWriter, revoked []Revoked) {
	if len(revoked) == 0 {
		return
	}
	out.heading(fmt.Sprintf("Revoked (%d), traffic cut until portcullis restore:", len(revoked)))
	for _, r := range revoked {
		out.item(symbolRevoked, revokedText(r))
	}
}

func revokedText(r Revoked) string {
	subject := r.Hostname
	var notes []string
	if subject == "" {
		subject = "every hostname and the catch-all"
		notes = append(notes, "revoke --all")
	}
	if r.Reason != "" {
		notes = append(notes, "reason "+strconv.Quote(r.Reason))
	}
	if r.Actor != "" {
		notes = append(notes, "by "+r.Actor)
	}
	if r.Since != "" {
		notes = append(notes, "since "+r.Since)
	}
	return subject + parenthesised(notes)
}

func writeUnmanaged(out *textWriter, unmanaged []Unmanaged) {
	if len(unmanaged) == 0 {
		return
	}
	out.heading(fmt.Sprintf("Unmanaged (%s), kept verbatim in live order:", countNoun(len(unmanaged), "rule", "rules")))
	for _, u := range unmanaged {
		text := routeAddress(u.Hostname, u.Path) + " → " + u.Origin
		if u.Owner != "" {
			text += " (owner " + u.Owner + ")"
		}
		out.item("", text)
	}
}

func writeWarnings(out *textWriter, warnings []Warning) {
	if len(warnings) == 0 {
		return
	}
	out.heading(fmt.Sprintf("Warnings (%d):", len(warnings)))
	for _, w := range warnings {
		subject := withService(w.Hostname, w.Service)
		if subject == "" {
			out.item("", w.Message)
			continue
		}
		out.item("", subject+": "+w.Message)
	}
}

func writeDNSCommands(out *textWriter, commands []string) {
	if len(commands) == 0 {
		return
	}
	out.heading(fmt.Sprintf("DNS records still needed (%d). The file target manages no DNS, so run:", len(commands)))
	for _, command := range commands {
		out.item("", command)
	}
}

// writeSummary writes the delete-limit notice, the legend, and the tally or
// the no-changes sentence.
func writeSummary(out *textWriter, p *Plan) {
	if p.DeleteLimitExceeded {
		out.paragraph("Delete limit exceeded: the plan deletes more owned hostnames than --max-deletes allows, so apply writes nothing.")
	}
	if legend := legendText(p); legend != "" {
		out.paragraph(legend)
	}
	if p.HasChanges() {
		out.paragraph(tallyText(p))
		return
	}
	out.paragraph(noChangesText(p))
}

// legendText lists the symbols the plan uses, or returns "" when it uses
// none.
func legendText(p *Plan) string {
	present := map[string]bool{
		symbolCreate:    len(p.Creates) > 0 || hasDNSSymbol(p.DNS, symbolCreate),
		symbolUpdate:    len(p.Updates) > 0 || hasDNSSymbol(p.DNS, symbolUpdate),
		symbolDelete:    len(p.Deletes) > 0 || len(p.Drift) > 0 || hasDNSSymbol(p.DNS, symbolDelete),
		symbolRevoked:   len(p.Revoked) > 0,
		symbolViolation: len(p.Violations) > 0,
	}

	var entries []string
	for _, entry := range symbolLegend {
		if present[entry.symbol] {
			entries = append(entries, entry.symbol+" "+entry.meaning)
		}
	}
	if len(entries) == 0 {
		return ""
	}
	return "Symbols: " + strings.Join(entries, ", ") + "."
}

func hasDNSSymbol(changes []DNSChange, symbol string) bool {
	for _, c := range changes {
		if dnsSymbol(c.Action) == symbol {
			return true
		}
	}
	return false
}

func tallyText(p *Plan) string {
	return fmt.Sprintf("Plan: %d to create, %d to update, %d to delete, %d drift to revert, %s.",
		len(p.Creates), len(p.Updates), len(p.Deletes), len(p.Drift),
		countNoun(len(p.DNS), "DNS change", "DNS changes"))
}

// noChangesText returns the sentence for a plan without changes: whether
// the tunnel then matches the compose files, and the counts of items that
// never count as changes.
func noChangesText(p *Plan) string {
	var unresolved []string
	if len(p.Violations) > 0 {
		unresolved = append(unresolved, "violations")
	}
	if len(p.Conflicts) > 0 {
		unresolved = append(unresolved, "conflicts")
	}
	if len(p.Skipped) > 0 {
		unresolved = append(unresolved, "skipped changes")
	}

	text := "No changes. The tunnel's routes match the compose files."
	if len(unresolved) > 0 {
		text = "No changes to apply, but the tunnel's routes do not match the compose files because of the " + joinWords(unresolved) + " listed above."
	}

	var kept []string
	if len(p.Held) > 0 {
		kept = append(kept, fmt.Sprintf("%d held", len(p.Held)))
	}
	if len(p.Revoked) > 0 {
		kept = append(kept, fmt.Sprintf("%d revoked", len(p.Revoked)))
	}
	if len(p.Unmanaged) > 0 {
		kept = append(kept, fmt.Sprintf("%d unmanaged", len(p.Unmanaged)))
	}
	if len(kept) > 0 {
		text += " Not counted as changes: " + strings.Join(kept, ", ") + "."
	}
	return text
}

// originField is one flattened originRequest key, such as
// "originRequest.access.teamName", with its value as text.
type originField struct {
	key   string
	value string
}

// flattenOriginRequest lists the fields of o in key order, descending into
// nested objects such as access.
func flattenOriginRequest(prefix string, o map[string]any) []originField {
	keys := make([]string, 0, len(o))
	for key := range o {
		keys = append(keys, key)
	}
	slices.Sort(keys)

	var fields []originField
	for _, key := range keys {
		name := prefix + "." + key
		switch nested := o[key].(type) {
		case ingress.OriginRequest:
			fields = append(fields, flattenOriginRequest(name, nested)...)
		case map[string]any:
			fields = append(fields, flattenOriginRequest(name, nested)...)
		default:
			fields = append(fields, originField{key: name, value: originValueText(nested)})
		}
	}
	return fields
}

// originValueText formats one originRequest value: durations as Go
// durations ("30s"), strings quoted, other values as compact JSON.
func originValueText(value any) string {
	switch v := value.(type) {
	case time.Duration:
		return v.String()
	case string:
		return strconv.Quote(v)
	case bool:
		return strconv.FormatBool(v)
	case int64:
		return strconv.FormatInt(v, 10)
	}
	text, err := json.Marshal(value)
	if err != nil {
		return fmt.Sprintf("%v", value)
	}
	return string(text)
}

func originFieldMap(fields []originField) map[string]string {
	m := make(map[string]string, len(fields))
	for _, f := range fields {
		m[f.key] = f.value
	}
	return m
}

func unionOriginKeys(a, b map[string]string) []string {
	keys := make([]string, 0, len(a)+len(b))
	for key := range a {
		keys = append(keys, key)
	}
	for key := range b {
		if _, ok := a[key]; !ok {
			keys = append(keys, key)
		}
	}
	slices.Sort(keys)
	return keys
}

func valueOrUnset(value string, ok bool) string {
	if !ok {
		return unsetValue
	}
	return value
}

func ruleOrZero(r *ingress.Rule) ingress.Rule {
	if r == nil {
		return ingress.Rule{}
	}
	return *r
}

// changeService returns the origin a route change shows: its own Service,
// else the service of the rule after or before the change.
func changeService(c RouteChange) string {
	switch {
	case c.Service != "":
		return c.Service
	case c.After != nil:
		return c.After.Service
	case c.Before != nil:
		return c.Before.Service
	default:
		return ""
	}
}

// routeAddress names a rule by hostname and path. A rule without a hostname
// matches every hostname.
func routeAddress(hostname, path string) string {
	if hostname == "" {
		hostname = "(every hostname)"
	}
	if path == "" {
		return hostname
	}
	return hostname + " path " + path
}

func withService(subject, service string) string {
	switch {
	case service == "":
		return subject
	case subject == "":
		return "service " + service
	default:
		return subject + " (service " + service + ")"
	}
}

func pathOrNone(path string) string {
	if path == "" {
		return "(every path)"
	}
	return path
}

func commentOrNone(comment string) string {
	if comment == "" {
		return "(no comment)"
	}
	return comment
}

func fileLine(file string, line int) string {
	if line <= 0 {
		return file
	}
	return file + ":" + strconv.Itoa(line)
}

func parenthesised(notes []string) string {
	if len(notes) == 0 {
		return ""
	}
	return " (" + strings.Join(notes, ", ") + ")"
}

func countNoun(n int, singular, plural string) string {
	if n == 1 {
		return "1 " + singular
	}
	return strconv.Itoa(n) + " " + plural
}

// joinWords joins words as an English list: "a", "a and b", "a, b and c".
func joinWords(words []string) string {
	if len(words) <= 1 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}
