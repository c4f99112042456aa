package clientaddr_test

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/parley-im/parley/platform/clientaddr"
)

func TestResolve(t *testing.T) {
	t.Parallel()
	trusted, err := clientaddr.Parse("10.0.0.0/8, 192.0.2.1")
	require.NoError(t, err)
	ip := netip.MustParseAddr
	for _, tc := range []struct {
		name         string
		peer         string
		peerForwards bool
		xff          []string
		want         string
	}{
		{"an untrusted peer is the client, whatever it claims", "203.0.113.5", false, []string{"198.51.100.1"}, "203.0.113.5"},
		{"a trusted proxy names the client", "10.1.2.3", false, []string{"198.51.100.1"}, "198.51.100.1"},
		{"trusted hops are skipped, the nearest untrusted wins", "10.1.2.3", false, []string{"6.6.6.6, 198.51.100.1, 192.0.2.1"}, "198.51.100.1"},
		{"the in-process gateway's appended address", "0.0.0.0", true, []string{"6.6.6.6, 203.0.113.9"}, "203.0.113.9"},
		{"a garbled hop stops the walk", "10.1.2.3", false, []string{"6.6.6.6, junk"}, "10.1.2.3"},
		{"no header", "10.1.2.3", false, nil, "10.1.2.3"},
		{"IPv4 in IPv6 is IPv4", "::ffff:203.0.113.5", false, nil, "203.0.113.5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, ip(tc.want), trusted.Resolve(ip(tc.peer), tc.peerForwards, tc.xff))
		})
	}
	_, err = clientaddr.Parse("10.0.0.0/8, not-an-address")
	require.Error(t, err)
}

func TestKeyGroupsIPv6ByItsPrefix(t *testing.T) {
	t.Parallel()
	require.Equal(t, clientaddr.Key(netip.MustParseAddr("2001:db8:1:2::1")), clientaddr.Key(netip.MustParseAddr("2001:db8:1:2:ffff::9")))
	require.NotEqual(t, clientaddr.Key(netip.MustParseAddr("2001:db8:1:2::1")), clientaddr.Key(netip.MustParseAddr("2001:db8:1:3::1")))
	require.Equal(t, "203.0.113.5", clientaddr.Key(netip.MustParseAddr("203.0.113.5")))
}
