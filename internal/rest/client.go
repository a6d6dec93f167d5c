package rest

import (
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
)

// ClientIP is the caller's IP address (an `in: client` parameter): the
// address in r.RemoteAddr, which is the connection's peer unless
// ClientAddress put there what a trusted proxy forwarded. Empty when
// RemoteAddr holds no IP address.
func ClientIP(r *http.Request) string {
	if a, ok := parseAddr(r.RemoteAddr); ok {
		return a.String()
	}
	return ""
}

// ClientAddress returns a middleware that sets r.RemoteAddr to the client's
// IP address. The connection's peer is the client, unless it is one of the
// trusted proxies: then the client is the right-most X-Forwarded-For hop
// that is not a trusted proxy (X-Real-IP when there is no X-Forwarded-For).
// With no trusted proxies the forwarded headers are ignored, since any
// caller can send them: a host that registers itself by its address (as
// Commissaire's PUT /api/v0/host) must not be able to name another.
func ClientAddress(trusted []netip.Prefix) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if peer, ok := parseAddr(r.RemoteAddr); ok {
				if client := clientOf(peer, r.Header, trusted); client != peer {
					r.RemoteAddr = client.String()
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}

// clientOf walks the forwarded hops from the peer back while they are
// trusted proxies.
func clientOf(peer netip.Addr, h http.Header, trusted []netip.Prefix) netip.Addr {
	isTrusted := func(a netip.Addr) bool {
		return slices.ContainsFunc(trusted, func(p netip.Prefix) bool { return p.Contains(a) })
	}
	if !isTrusted(peer) {
		return peer
	}
	var hops []string
	for _, v := range h.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(v, ",")...)
	}
	if len(hops) == 0 {
		if a, ok := parseAddr(h.Get("X-Real-IP")); ok {
			return a
		}
		return peer
	}
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := parseAddr(hops[i])
		if !ok {
			return client // garbage from an untrusted hop: the last one we trust sent it
		}
		client = a
		if !isTrusted(a) {
			return a
		}
	}
	return client
}

// parseAddr reads an IP address, with or without a port.
func parseAddr(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if host, _, err := net.SplitHostPort(s); err == nil {
		s = host
	}
	a, err := netip.ParseAddr(strings.Trim(s, "[]"))
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap().WithZone(""), true
}
