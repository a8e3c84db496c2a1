package web

import (
	"net/netip"
	"strings"
)

// clientIP works out the address of the client that sent a request.
//
// The peer address (remote) is the answer unless the peer is one of the
// trusted proxies. Only then are forwarding headers believed: X-Forwarded-For
// is walked from the right (each proxy appends the address it received the
// request from), skipping trusted proxies, and the right-most untrusted entry
// is the client; everything left of it was written by the client and may be
// forged. When every entry is trusted, the left-most one is the answer. An
// entry that is not an address stops the walk: nothing left of it can be
// trusted, so the last address walked over is the answer. X-Real-IP is used
// only when a trusted peer sent no X-Forwarded-For at all.
//
// xff holds every X-Forwarded-For header line (they are one list, in order).
// An unparseable remote gives the zero Addr.
func clientIP(remote string, xff []string, xRealIP string, trusted []netip.Prefix) netip.Addr {
	peer, ok := parseHostAddr(remote)
	if !ok {
		return netip.Addr{}
	}
	if !isTrusted(peer, trusted) {
		return peer
	}
	last := peer
	sawEntry := false
	for i := len(xff) - 1; i >= 0; i-- {
		line := xff[i]
		for line != "" {
			var entry string
			if j := strings.LastIndexByte(line, ','); j >= 0 {
				entry, line = line[j+1:], line[:j]
			} else {
				entry, line = line, ""
			}
			entry = strings.Trim(entry, " \t")
			if entry == "" {
				continue
			}
			sawEntry = true
			a, ok := parseHostAddr(entry)
			if !ok {
				return last
			}
			if !isTrusted(a, trusted) {
				return a
			}
			last = a
		}
	}
	if sawEntry {
		return last
	}
	if a, ok := parseHostAddr(strings.Trim(xRealIP, " \t")); ok {
		return a
	}
	return peer
}

// parseHostAddr reads "1.2.3.4", "1.2.3.4:80", "::1", "[::1]" or "[::1]:80",
// unmapping IPv4-in-IPv6 and dropping IPv6 zones so the result compares and
// prints the same way however a proxy wrote it.
func parseHostAddr(s string) (netip.Addr, bool) {
	if s == "" || len(s) > 64 {
		return netip.Addr{}, false
	}
	norm := func(a netip.Addr) (netip.Addr, bool) { return a.Unmap().WithZone(""), true }
	// One colon is IPv4 with a port (the usual peer address); trying it as
	// a bare address first would only build an error to throw away.
	if strings.Count(s, ":") != 1 {
		if a, err := netip.ParseAddr(s); err == nil {
			return norm(a)
		}
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return norm(ap.Addr())
	}
	if len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']' {
		if a, err := netip.ParseAddr(s[1 : len(s)-1]); err == nil {
			return norm(a)
		}
	}
	return netip.Addr{}, false
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
