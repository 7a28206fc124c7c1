package sync

import (
	"fmt"
	"strings"

	"github.com/portcullis-dev/portcullis/tunnel"
)

// hostState is the live state of one hostname as far as ownership goes.
type hostState struct {
	// owned means every live rule of the hostname is ours to update or
	// delete.
	owned bool
	// adopt means ownership comes from --adopt: the CNAME's comment is
	// rewritten to our marker.
	adopt bool
	// otherOwner is another owner id found in a marker.
	otherOwner string
	// cname is the hostname's CNAME record, if any.
	cname *tunnel.DNSRecord
	// cnameOurs is true when the CNAME carries our marker and points at
	// this tunnel, so it may be deleted with the hostname.
	cnameOurs bool
	// ruleConflict is the reason no rule of the hostname may be written.
	ruleConflict string
	// dnsConflict is the reason no CNAME may be created for the hostname.
	dnsConflict string
}

// ownership holds the hostState of every hostname seen in the live rules,
// the DNS records or the desired and held routes.
type ownership struct {
	hosts map[string]*hostState
	// unmanaged lists live ordinary rules that are not ours, in order.
	unmanaged []int
	// unmanagedByHost narrows unmanaged for the cover check of one route.
	unmanagedByHost *unmanagedIndex
}

func (o *ownership) get(host string) *hostState {
	if h, ok := o.hosts[host]; ok {
		return h
	}
	return &hostState{}
}

func classifyHosts(in Input, live *liveIndex) *ownership {
	o := &ownership{hosts: map[string]*hostState{}}
	adopt := map[string]bool{}
	for _, h := range in.Adopt {
		adopt[strings.ToLower(strings.TrimSuffix(h, "."))] = true
	}
	exclusive := in.Exclusive != "" && strings.EqualFold(in.Exclusive, in.Live.TunnelID)

	names := make(map[string]bool, len(live.byHost)+len(live.records)+len(in.Routes)+len(in.Held))
	for h := range live.byHost {
		names[h] = true
	}
	for h, recs := range live.records {
		for _, r := range recs {
			if isAddressOrCNAME(r.Type) {
				names[h] = true
			}
		}
	}
	for _, r := range in.Routes {
		names[r.Hostname] = true
	}
	for _, r := range in.Held {
		names[r.Hostname] = true
	}

	o.hosts = make(map[string]*hostState, len(names))
	for h := range names {
		var st *hostState
		if in.Live.ManagesDNS {
			st = classifyDNSHost(in, live, h, adopt[h], exclusive)
		} else {
			st = classifyFileHost(in, live, h, adopt[h], exclusive)
		}
		o.hosts[h] = st
	}
	for _, i := range live.ordinary {
		host := strings.ToLower(in.Live.Rules[i].Hostname)
		if !o.get(host).owned {
			o.unmanaged = append(o.unmanaged, i)
		}
	}
	o.unmanagedByHost = newUnmanagedIndex(func(i int) string { return in.Live.Rules[i].Hostname }, o.unmanaged)
	return o
}

func isAddressOrCNAME(t string) bool {
	return t == "A" || t == "AAAA" || t == "CNAME"
}

// classifyDNSHost decides ownership on the API target, where it lives in the
// marker comment of the hostname's CNAME.
func classifyDNSHost(in Input, live *liveIndex, host string, adopt, exclusive bool) *hostState {
	st := &hostState{}
	target := tunnel.TunnelTarget(in.Live.TunnelID)
	var addresses []string
	for i, r := range live.records[host] {
		switch r.Type {
		case "CNAME":
			st.cname = &live.records[host][i]
		case "A", "AAAA":
			addresses = append(addresses, r.Type+" "+r.Content)
		}
	}
	hasRules := len(live.byHost[host]) > 0

	switch {
	case st.cname != nil:
		content := strings.ToLower(strings.TrimSuffix(st.cname.Content, "."))
		owner, marked := tunnel.ParseMarker(st.cname.Comment)
		switch {
		case marked && owner == in.OwnerID && content == target:
			st.owned, st.cnameOurs = true, true
		case marked && owner == in.OwnerID:
			st.ruleConflict = fmt.Sprintf("its CNAME carries our marker but points at %s, not this tunnel; portcullis never repoints a CNAME, so fix or delete it by hand", content)
			st.dnsConflict = st.ruleConflict
		case marked:
			st.otherOwner = owner
			st.ruleConflict = fmt.Sprintf("owned by %q (marker on its CNAME)", owner)
			st.dnsConflict = st.ruleConflict
		case content == target && adopt:
			st.owned, st.adopt = true, true
		case content == target:
			st.owned = exclusive
			if !exclusive {
				st.ruleConflict = fmt.Sprintf("its CNAME points at this tunnel but carries no portcullis marker; run with --adopt %s to take it over", host)
				st.dnsConflict = st.ruleConflict
			}
		default:
			st.owned = exclusive
			st.dnsConflict = fmt.Sprintf("a CNAME to %s exists and is not ours", content)
			if !exclusive {
				st.ruleConflict = st.dnsConflict
			}
		}
	case len(addresses) > 0:
		st.owned = exclusive
		st.dnsConflict = fmt.Sprintf("an address record exists (%s) and is not ours", strings.Join(addresses, ", "))
		if !exclusive {
			st.ruleConflict = st.dnsConflict
		}
	case exclusive:
		st.owned = true
	case hasRules && adopt:
		st.owned, st.adopt = true, true
	case hasRules:
		st.ruleConflict = fmt.Sprintf("an unmanaged rule for %s exists in the tunnel; portcullis does not overwrite it (remove it, or use --adopt %s)", host, host)
	}
	return st
}

// classifyFileHost decides ownership on the file target, where it lives in
// the marker comment above each rule.
func classifyFileHost(in Input, live *liveIndex, host string, adopt, exclusive bool) *hostState {
	st := &hostState{}
	var ours, others, unmarked int
	for _, i := range live.byHost[host] {
		switch owner := in.Live.Rules[i].Owner; {
		case owner == in.OwnerID:
			ours++
		case owner != "":
			others++
			st.otherOwner = owner
		default:
			unmarked++
		}
	}
	switch {
	case ours > 0:
		st.owned = true
	case others > 0:
		st.ruleConflict = fmt.Sprintf("owned by %q (marker on its rule)", st.otherOwner)
	case exclusive || (unmarked > 0 && adopt):
		st.owned = true
		st.adopt = unmarked > 0 && adopt
	case unmarked > 0:
		st.ruleConflict = fmt.Sprintf("an unmanaged rule for %s exists in the config file; portcullis does not overwrite it (remove it, or use --adopt %s)", host, host)
	}
	return st
}
