// Package connlimit caps how many connections one remote address may hold
// open on a listener, so a single client cannot exhaust the server's
// connections (and the memory each holds) by opening more.
package connlimit

import (
	"net"
	"net/netip"
	"sync"

	"github.com/parley-im/parley/platform/clientaddr"
	"github.com/parley-im/parley/platform/ratelimit"
)

// Listen wraps inner: a connection from an address that holds perAddr open
// already is closed as soon as it is accepted. perAddr ≤ 0 means no limit.
func Listen(inner net.Listener, perAddr int) net.Listener {
	if perAddr <= 0 {
		return inner
	}
	return &listener{Listener: inner, open: ratelimit.NewHolds[string](perAddr)}
}

type listener struct {
	net.Listener
	open *ratelimit.Holds[string] // remote host → connections open
}

func (l *listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		host := hostOf(c.RemoteAddr())
		if l.open.Take(host) {
			return &conn{Conn: c, release: func() { l.open.Release(host) }}, nil
		}
		_ = c.Close()
	}
}

// conn gives its address's slot back when it is closed, once.
type conn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *conn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// hostOf is the key an address counts under: its host, an IPv6 one by
// its /64 (clientaddr.Key), which one client usually holds whole.
func hostOf(addr net.Addr) string {
	if tcp, ok := addr.(*net.TCPAddr); ok {
		if ip, ok := netip.AddrFromSlice(tcp.IP); ok {
			return clientaddr.Key(ip.Unmap())
		}
		return tcp.IP.String()
	}
	host, _, err := net.SplitHostPort(addr.String())
	if err != nil {
		return addr.String()
	}
	return host
}
