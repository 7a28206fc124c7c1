package ingress

import (
	"fmt"
	"strings"
)

// Node identifiers and captions shared by the Mermaid and DOT renderers.
const (
	graphInternetID    = "internet"
	graphTunnelID      = "tunnel"
	graphFenceCaption  = "internal-only: never routed"
	graphBypassCaption = "bypasses the tunnel"
	graphHostCaption   = "from the docker host only"
	graphRefusedLabel  = "refused by the security gate"
)

func (x *ExposureGraph) tunnelLines() []string {
	if x.Tunnel == "" {
		return []string{"Cloudflare Tunnel", "no cloudflared service found"}
	}
	return []string{"Cloudflare Tunnel", "via service " + x.Tunnel}
}

// Mermaid renders the map as a Mermaid flowchart. Internal-only services sit
// in a dashed red subgraph, and published host ports are drawn as a second
// way in from the internet.
func (x *ExposureGraph) Mermaid() string {
	var b strings.Builder
	b.WriteString("flowchart LR\n")
	fmt.Fprintf(&b, "  %s((%s))\n", graphInternetID, mermaidText("Internet"))
	fmt.Fprintf(&b, "  %s{{%s}}\n", graphTunnelID, mermaidText(x.tunnelLines()...))
	fmt.Fprintf(&b, "  %s --> %s\n", graphInternetID, graphTunnelID)

	b.WriteString("  subgraph public[" + mermaidText("Public hostnames") + "]\n")
	for _, h := range x.Hostnames {
		fmt.Fprintf(&b, "    %s[%s]\n", h.ID, mermaidText(h.lines()...))
	}
	b.WriteString("  end\n")

	b.WriteString("  subgraph project[" + mermaidText("compose project "+x.Project) + "]\n")
	for _, s := range x.Services {
		if !s.Internal {
			fmt.Fprintf(&b, "    %s[%s]\n", s.ID, mermaidText(s.Name))
		}
	}
	b.WriteString("    subgraph fenced[" + mermaidText(graphFenceCaption) + "]\n")
	for _, s := range x.Services {
		if s.Internal {
			fmt.Fprintf(&b, "      %s[%s]\n", s.ID, mermaidText(s.Name))
		}
	}
	b.WriteString("    end\n")
	for _, n := range x.Networks {
		fmt.Fprintf(&b, "    %s[/%s/]\n", n.ID, mermaidText(networkCaption(n)))
	}
	b.WriteString("  end\n")

	x.writeMermaidEdges(&b)
	x.writeMermaidStyles(&b)
	return b.String()
}

func (x *ExposureGraph) writeMermaidEdges(b *strings.Builder) {
	tunnelID, hasTunnelService := x.serviceID(x.Tunnel)
	if hasTunnelService {
		fmt.Fprintf(b, "  %s -.- %s\n", graphTunnelID, tunnelID)
	}
	for _, h := range x.Hostnames {
		fmt.Fprintf(b, "  %s --> %s\n", graphTunnelID, h.ID)
		label := h.Origin
		if h.Refused {
			label += ": " + graphRefusedLabel
		}
		if id, ok := x.serviceID(h.Service); ok {
			arrow := "-->"
			if h.Refused {
				arrow = "-.->"
			}
			fmt.Fprintf(b, "  %s %s|%s| %s\n", h.ID, arrow, mermaidText(label), id)
			continue
		}
		fmt.Fprintf(b, "  %s_origin[%s]\n", h.ID, mermaidText(h.Origin))
		fmt.Fprintf(b, "  %s --> %s_origin\n", h.ID, h.ID)
	}
	for _, s := range x.Services {
		for _, n := range s.Networks {
			fmt.Fprintf(b, "  %s --- %s\n", s.ID, x.networkID(n))
		}
	}
	for _, p := range x.Ports {
		id, _ := x.serviceID(p.Service)
		fmt.Fprintf(b, "  %s[%s]\n", p.ID, mermaidText(p.Label))
		fmt.Fprintf(b, "  %s -->|%s| %s\n", graphInternetID, mermaidText(p.caption()), p.ID)
		fmt.Fprintf(b, "  %s --> %s\n", p.ID, id)
	}
}

func (x *ExposureGraph) writeMermaidStyles(b *strings.Builder) {
	b.WriteString("  classDef internal fill:#fde8e8,stroke:#c00,stroke-width:2px\n")
	b.WriteString("  classDef bypass fill:#fff4e5,stroke:#c60,stroke-dasharray:4 3\n")
	b.WriteString("  style fenced fill:#fff5f5,stroke:#c00,stroke-width:2px,stroke-dasharray:6 4\n")
	var internal, ports []string
	for _, s := range x.Services {
		if s.Internal {
			internal = append(internal, s.ID)
		}
	}
	for _, p := range x.Ports {
		ports = append(ports, p.ID)
	}
	if len(internal) > 0 {
		fmt.Fprintf(b, "  class %s internal\n", strings.Join(internal, ","))
	}
	if len(ports) > 0 {
		fmt.Fprintf(b, "  class %s bypass\n", strings.Join(ports, ","))
	}
}

// caption labels the edge into a published port.
func (p GraphPort) caption() string {
	if p.LoopbackOnly {
		return graphHostCaption
	}
	return graphBypassCaption
}

func networkCaption(n GraphNetwork) string {
	if n.Internal {
		return "network " + n.Name + " (internal: no route out)"
	}
	return "network " + n.Name
}

// mermaidText quotes lines as one Mermaid label. Characters that Mermaid
// reads as markup are written as entity codes (#quot; and friends), and
// lines are joined with <br/>.
func mermaidText(lines ...string) string {
	escaped := make([]string, len(lines))
	for i, line := range lines {
		var b strings.Builder
		for _, r := range line {
			switch r {
			case '#':
				b.WriteString("#35;")
			case '"':
				b.WriteString("#quot;")
			case '<':
				b.WriteString("#lt;")
			case '>':
				b.WriteString("#gt;")
			default:
				b.WriteRune(r)
			}
		}
		escaped[i] = b.String()
	}
	return `"` + strings.Join(escaped, "<br/>") + `"`
}

// DOT renders the map as a Graphviz digraph. Internal-only services sit in
// a dashed red cluster, and published host ports are drawn as a second way
// in from the internet.
func (x *ExposureGraph) DOT() string {
	var b strings.Builder
	b.WriteString("digraph exposure {\n")
	b.WriteString("  rankdir=LR;\n")
	b.WriteString("  node [shape=box, fontname=\"Helvetica\"];\n")
	b.WriteString("  edge [fontname=\"Helvetica\", fontsize=10];\n")
	fmt.Fprintf(&b, "  %s [label=%s, shape=ellipse];\n", graphInternetID, dotText("Internet"))
	fmt.Fprintf(&b, "  %s [label=%s, shape=hexagon];\n", graphTunnelID, dotText(x.tunnelLines()...))
	fmt.Fprintf(&b, "  %s -> %s;\n", graphInternetID, graphTunnelID)

	fmt.Fprintf(&b, "  subgraph cluster_public {\n    label=%s;\n", dotText("Public hostnames"))
	for _, h := range x.Hostnames {
		fmt.Fprintf(&b, "    %s [label=%s];\n", h.ID, dotText(h.lines()...))
	}
	b.WriteString("  }\n")

	fmt.Fprintf(&b, "  subgraph cluster_project {\n    label=%s;\n", dotText("compose project "+x.Project))
	for _, s := range x.Services {
		if !s.Internal {
			fmt.Fprintf(&b, "    %s [label=%s];\n", s.ID, dotText(s.Name))
		}
	}
	fmt.Fprintf(&b, "    subgraph cluster_fenced {\n      label=%s;\n      style=dashed;\n      color=red;\n", dotText(graphFenceCaption))
	for _, s := range x.Services {
		if s.Internal {
			fmt.Fprintf(&b, "      %s [label=%s, color=red, style=filled, fillcolor=\"#fde8e8\"];\n", s.ID, dotText(s.Name))
		}
	}
	b.WriteString("    }\n")
	for _, n := range x.Networks {
		fmt.Fprintf(&b, "    %s [label=%s, shape=parallelogram];\n", n.ID, dotText(networkCaption(n)))
	}
	b.WriteString("  }\n")

	x.writeDOTEdges(&b)
	b.WriteString("}\n")
	return b.String()
}

func (x *ExposureGraph) writeDOTEdges(b *strings.Builder) {
	if id, ok := x.serviceID(x.Tunnel); ok {
		fmt.Fprintf(b, "  %s -> %s [style=dotted, arrowhead=none];\n", graphTunnelID, id)
	}
	for _, h := range x.Hostnames {
		fmt.Fprintf(b, "  %s -> %s;\n", graphTunnelID, h.ID)
		id, ok := x.serviceID(h.Service)
		if !ok {
			id = h.ID + "_origin"
			fmt.Fprintf(b, "  %s [label=%s, shape=note];\n", id, dotText(h.Origin))
		}
		if h.Refused {
			fmt.Fprintf(b, "  %s -> %s [label=%s, style=dashed, color=red];\n", h.ID, id, dotText(h.Origin+": "+graphRefusedLabel))
			continue
		}
		fmt.Fprintf(b, "  %s -> %s [label=%s];\n", h.ID, id, dotText(h.Origin))
	}
	for _, s := range x.Services {
		for _, n := range s.Networks {
			fmt.Fprintf(b, "  %s -> %s [arrowhead=none, style=dashed, color=gray];\n", s.ID, x.networkID(n))
		}
	}
	for _, p := range x.Ports {
		id, _ := x.serviceID(p.Service)
		fmt.Fprintf(b, "  %s [label=%s, color=orange, style=dashed];\n", p.ID, dotText(p.Label))
		fmt.Fprintf(b, "  %s -> %s [label=%s, color=orange];\n", graphInternetID, p.ID, dotText(p.caption()))
		fmt.Fprintf(b, "  %s -> %s [color=orange];\n", p.ID, id)
	}
}

// dotText quotes lines as one DOT string, escaping backslashes and quotes
// and joining lines with \n.
func dotText(lines ...string) string {
	escaped := make([]string, len(lines))
	for i, line := range lines {
		line = strings.ReplaceAll(line, `\`, `\\`)
		escaped[i] = strings.ReplaceAll(line, `"`, `\"`)
	}
	return `"` + strings.Join(escaped, `\n`) + `"`
}
