package connlimit_test

import (
	"io"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/parley-im/parley/platform/connlimit"
)

// An address gets perAddr connections; the next is closed at once, and a
// closed one frees its slot.
func TestPerAddressLimit(t *testing.T) {
	t.Parallel()
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	lis := connlimit.Listen(inner, 2)
	t.Cleanup(func() { lis.Close() })
	accepted := make(chan net.Conn, 8)
	go func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	dial := func() net.Conn {
		c, err := net.Dial("tcp", inner.Addr().String())
		require.NoError(t, err)
		t.Cleanup(func() { c.Close() })
		return c
	}
	closedByServer := func(c net.Conn) bool {
		_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
		_, err := c.Read(make([]byte, 1))
		return err == io.EOF
	}

	dial()
	dial()
	first, second := <-accepted, <-accepted
	third := dial()
	require.True(t, closedByServer(third), "a third connection from one address is closed")
	require.Empty(t, accepted)

	require.NoError(t, first.Close())
	dial()
	fourth := <-accepted
	require.NotNil(t, fourth, "a closed connection frees its slot")
	second.Close()
	fourth.Close()
}
