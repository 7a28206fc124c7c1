package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/portcullis-dev/portcullis/config"
	"github.com/portcullis-dev/portcullis/ingress"
	portsync "github.com/portcullis-dev/portcullis/sync"
	"github.com/portcullis-dev/portcullis/tunnel"
)

// statusFormatVersion is the version of the `status -o json` snapshot.
const statusFormatVersion = 1

// statusSnapshot is the JSON document `status -o json` writes. Later
// commands read it back as a live-state snapshot.
type statusSnapshot struct {
	FormatVersion int           `json:"format_version"`
	OwnerID       string        `json:"owner_id,omitempty"`
	Tunnel        statusTunnel  `json:"tunnel"`
	Routes        []statusRoute `json:"routes"`
	// Revocations lists the live revocation rules with what the audit log
	// records about them. Hostname "" is revoke --all.
	Revocations []portsync.Revoked `json:"revocations"`
	State       tunnel.State       `json:"state"`
}

type statusTunnel struct {
	Target  string `json:"target"`
	ID      string `json:"id,omitempty"`
	Name    string `json:"name,omitempty"`
	Status  string `json:"status,omitempty"`
	Version int64  `json:"version"`
}

type statusRoute struct {
	Hostname string `json:"hostname"`
	Path     string `json:"path,omitempty"`
	Origin   string `json:"origin"`
	// Service is the compose service the origin reaches, when known.
	Service string `json:"service,omitempty"`
	// Ownership is "owned", "unmanaged", "owner:<id>" or "revocation".
	Ownership string `json:"ownership"`
	DNS       string `json:"dns"`
}

func newCmdStatus(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the live routes of the tunnel",
		Long: `status lists the live ingress rules with their origin, the compose service
the origin reaches (when the compose files load), who owns each hostname, and
its DNS state. -o json writes a snapshot that plan --live can read back.

` + exitCodeHelp,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.finish(outcome{}, runStatus(cmd, g))
		},
	}
	addPlanSettingsFlags(cmd)
	return cmd
}

func runStatus(cmd *cobra.Command, g *globalOptions) error {
	ctx := cmd.Context()
	settings, err := loadSettings(g, cmd.Flags())
	if err != nil {
		return err
	}
	var gate *ingress.Gate
	ownerID := settings.OwnerID
	if project, perr := config.LoadProject(ctx, settings); perr == nil {
		gate, _ = ingress.NewGate(project.Project, ingress.GateOptions{})
		if settings.ResolveOwnerID(project.Name) == nil {
			ownerID = settings.OwnerID
		}
	} else {
		fmt.Fprintf(g.streams.ErrOut, "note: compose files not loaded, so origins are not matched to services: %v\n", perr)
	}

	s := &session{g: g, settings: settings}
	if err := s.openTarget(ctx); err != nil {
		return err
	}
	live, err := s.readLive(ctx)
	if err != nil {
		return err
	}
	snap := buildStatus(live, gate, ownerID)
	snap.Revocations = statusRevocations(live, s.revocationDetails())
	if s.api != nil {
		if info, err := s.api.ResolveTunnel(ctx); err == nil {
			snap.Tunnel.Name, snap.Tunnel.Status = info.Name, connectorStatus(info.Status, info.Connections)
		}
	}

	if g.output == "json" {
		enc := json.NewEncoder(g.streams.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(snap)
	}
	printStatus(g, snap)
	return nil
}

func buildStatus(live tunnel.State, gate *ingress.Gate, ownerID string) statusSnapshot {
	snap := statusSnapshot{
		FormatVersion: statusFormatVersion,
		OwnerID:       ownerID,
		Tunnel:        statusTunnel{Target: live.Target, ID: live.TunnelID, Name: live.TunnelName, Version: live.Version},
		State:         live,
		Routes:        []statusRoute{},
	}
	if snap.State.Rules == nil {
		snap.State.Rules = []tunnel.LiveRule{}
	}
	records := map[string][]tunnel.DNSRecord{}
	for _, r := range live.Records {
		records[strings.ToLower(r.Name)] = append(records[strings.ToLower(r.Name)], r)
	}
	for _, r := range live.Rules {
		route := statusRoute{Hostname: r.Hostname, Path: r.Path, Origin: r.Service}
		if gate != nil {
			route.Service, _ = gate.ServiceFor(r.Service)
		}
		route.Ownership, route.DNS = describeOwnership(live, r, records[strings.ToLower(r.Hostname)], ownerID)
		snap.Routes = append(snap.Routes, route)
	}
	return snap
}

func describeOwnership(live tunnel.State, r tunnel.LiveRule, recs []tunnel.DNSRecord, ownerID string) (string, string) {
	if r.IsRevocation() {
		return "revocation", "-"
	}
	if !live.ManagesDNS {
		switch {
		case r.Owner == "":
			return "unmanaged", "not managed by the file target"
		case r.Owner == ownerID:
			return "owned", "not managed by the file target"
		}
		return "owner:" + r.Owner, "not managed by the file target"
	}
	if r.Hostname == "" || r.Hostname == "*" {
		return "unmanaged", "-"
	}
	var addresses []string
	for _, rec := range recs {
		switch rec.Type {
		case "CNAME":
			return describeCNAME(live, rec, ownerID)
		case "A", "AAAA":
			addresses = append(addresses, rec.Type+" "+rec.Content)
		}
	}
	if len(addresses) > 0 {
		return "unmanaged", strings.Join(addresses, ", ")
	}
	return "unmanaged", "no record"
}

// describeCNAME returns who owns a hostname with a CNAME, and where the
// CNAME points.
func describeCNAME(live tunnel.State, rec tunnel.DNSRecord, ownerID string) (string, string) {
	dns := "CNAME to " + rec.Content
	if strings.EqualFold(rec.Content, tunnel.TunnelTarget(live.TunnelID)) {
		dns = "CNAME to this tunnel"
	}
	if !rec.Proxied {
		dns += " (not proxied)"
	}
	owner, ok := tunnel.ParseMarker(rec.Comment)
	switch {
	case ok && owner == ownerID:
		return "owned", dns
	case ok:
		return "owner:" + owner, dns
	}
	return "unmanaged", dns
}

func printStatus(g *globalOptions, snap statusSnapshot) {
	w := g.streams.Out
	t := snap.Tunnel
	name := t.ID
	if t.Name != "" {
		name = t.Name + " " + t.ID
	}
	fmt.Fprintf(w, "Tunnel %s (target %s, version %d)", name, t.Target, t.Version)
	if t.Status != "" {
		fmt.Fprintf(w, ", connectors: %s", t.Status)
	}
	fmt.Fprintln(w)
	if len(snap.Routes) == 0 {
		fmt.Fprintln(w, "No ingress rules yet: run portcullis plan to see what apply would write.")
		printStatusRevocations(w, snap.Revocations)
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "HOSTNAME\tPATH\tORIGIN\tSERVICE\tOWNER\tDNS")
	for _, r := range snap.Routes {
		host := r.Hostname
		if host == "" {
			host = "*"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", host, dash(r.Path), r.Origin, dash(r.Service), r.Ownership, r.DNS)
	}
	tw.Flush()
	printStatusRevocations(w, snap.Revocations)
}

func connectorStatus(status string, connections int) string {
	if connections == 1 {
		return status + ", 1 connection"
	}
	return fmt.Sprintf("%s, %d connections", status, connections)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
