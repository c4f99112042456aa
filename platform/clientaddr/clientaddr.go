// Package clientaddr tells the address a call came from, for limits kept
// per client: the connection's peer, or, when the peer is a proxy trusted
// to say (-trusted-proxies, or the REST gateway in this process), the
// nearest address in X-Forwarded-For that is not a trusted proxy's.
package clientaddr

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

type key struct{}

// With is ctx carrying addr as the caller's address.
func With(ctx context.Context, addr netip.Addr) context.Context {
	return context.WithValue(ctx, key{}, addr)
}

// From is the caller's address; false when it is not known.
func From(ctx context.Context) (netip.Addr, bool) {
	addr, ok := ctx.Value(key{}).(netip.Addr)
	return addr, ok && addr.IsValid()
}

// Trusted is a list of proxies allowed to say whom they forward for.
type Trusted []netip.Prefix

// Parse reads a comma-separated list of addresses and CIDR prefixes.
func Parse(list string) (Trusted, error) {
	var out Trusted
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if !strings.Contains(item, "/") {
			addr, err := netip.ParseAddr(item)
			if err != nil {
				return nil, err
			}
			item = netip.PrefixFrom(addr.Unmap(), addr.Unmap().BitLen()).String()
		}
		p, err := netip.ParsePrefix(item)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

func (t Trusted) contains(addr netip.Addr) bool {
	for _, p := range t {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// Resolve is the client's address: peer, unless peerForwards (the peer is
// trusted to forward, or is this process's REST gateway), in which case it
// walks forwardedFor (X-Forwarded-For values, oldest hop first) from the
// nearest hop back while the hops are trusted proxies.
func (t Trusted) Resolve(peer netip.Addr, peerForwards bool, forwardedFor []string) netip.Addr {
	addr := peer.Unmap()
	if !peerForwards && !t.contains(addr) {
		return addr
	}
	var hops []string
	for _, v := range forwardedFor {
		hops = append(hops, strings.Split(v, ",")...)
	}
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return addr // a garbled hop: trust nothing before it
		}
		addr = hop.Unmap()
		if !t.contains(addr) {
			return addr
		}
	}
	return addr
}

// FromRequest is the client's address of an HTTP request.
func (t Trusted) FromRequest(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return t.Resolve(peer, false, r.Header.Values("X-Forwarded-For"))
}

// Key is the address limits count by: an IPv6 address by its /64, which
// one client usually holds whole.
func Key(addr netip.Addr) string {
	if addr.Is6() && !addr.Is4In6() {
		p, _ := addr.Prefix(64)
		return p.String()
	}
	return addr.String()
}
