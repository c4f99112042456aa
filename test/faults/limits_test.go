//go:build faults

package faults

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// Callers without a token cannot make the server hold memory: oversize
// headers are refused stream by stream as they arrive (a raw HTTP/2 client
// that ignores the server's header-size setting, as an attacker would),
// anonymous long-lived streams (health Watch) are capped per address, and so
// are connections. The server's RSS barely moves.
func TestAnonymousCallersCannotMakeTheServerHoldMemory(t *testing.T) {
	e := setup(t)
	srv := e.startServer("-max-conns-per-ip", "16")
	rss0 := serverRSS(t, srv)

	t.Run("oversize headers", func(t *testing.T) {
		for range 20 {
			start := time.Now()
			got := sendHugeHeaders(t, srv.GRPC, 4, 1<<20) // 4 streams of 1 MiB of headers each
			require.Zero(t, got.answered, "no stream is served")
			require.True(t, got.cut || got.reset == 4, "the connection is cut, or every stream reset: %+v", got)
			require.Less(t, time.Since(start), 10*time.Second)
		}
	})
	t.Run("anonymous health watches", func(t *testing.T) {
		conn := dial(t, srv.GRPC)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		open, refused := 0, 0
		for range 40 {
			stream, err := healthpb.NewHealthClient(conn).Watch(ctx, &healthpb.HealthCheckRequest{})
			require.NoError(t, err)
			if _, err := stream.Recv(); err == nil {
				open++
			} else {
				require.Equal(t, codes.ResourceExhausted, status.Code(err), err)
				refused++
			}
		}
		require.Equal(t, 8, open, "8 watches per address")
		require.Equal(t, 32, refused)
	})
	t.Run("connections from one address", func(t *testing.T) {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		served := 0
		for range 40 {
			c, err := net.Dial("tcp", srv.GRPC)
			require.NoError(t, err)
			conns = append(conns, c)
			// A served connection gets the server's HTTP/2 preface (a
			// SETTINGS frame); a refused one is closed at once.
			_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
			if _, err := c.Write([]byte(http2.ClientPreface)); err == nil {
				if _, err := http2.NewFramer(nil, c).ReadFrame(); err == nil {
					served++
				}
			}
		}
		require.LessOrEqual(t, served, 16)
		require.GreaterOrEqual(t, served, 14, "up to 16 (the test's other connections count too)")
	})

	rss1 := serverRSS(t, srv)
	t.Logf("server RSS %.1f MiB before, %.1f MiB after", float64(rss0)/(1<<20), float64(rss1)/(1<<20))
	require.Less(t, rss1-rss0, int64(64<<20), "80 MiB of headers sent (in 1 MiB streams); the server holds little of it")
}

// hugeHeadersResult is how the server took streams with huge headers.
type hugeHeadersResult struct {
	answered, reset int  // streams answered with headers (served), or reset
	cut             bool // the server closed the connection before the client was done
}

// sendHugeHeaders opens streams on a raw HTTP/2 connection, each with
// headerBytes of header fields (a health check), and reports what the
// server did with them.
func sendHugeHeaders(t *testing.T, addr string, streams, headerBytes int) hugeHeadersResult {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	_, err = c.Write([]byte(http2.ClientPreface))
	require.NoError(t, err)
	// One framer reads, the other writes (under mu: the reader acks settings).
	var mu sync.Mutex
	wf, rf := http2.NewFramer(c, nil), http2.NewFramer(nil, c)
	require.NoError(t, wf.WriteSettings())

	var got hugeHeadersResult
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			f, err := rf.ReadFrame()
			mu.Lock()
			if err != nil {
				got.cut = true
				mu.Unlock()
				return
			}
			switch f := f.(type) {
			case *http2.SettingsFrame:
				if !f.IsAck() {
					_ = wf.WriteSettingsAck()
				}
			case *http2.HeadersFrame:
				got.answered++
			case *http2.RSTStreamFrame:
				got.reset++
			}
			finished := got.answered+got.reset == streams
			mu.Unlock()
			if finished {
				return
			}
		}
	}()

	pad := strings.Repeat("a", 8<<10)
	for i := range streams {
		var block bytes.Buffer
		enc := hpack.NewEncoder(&block)
		for _, hf := range []hpack.HeaderField{
			{Name: ":method", Value: "POST"}, {Name: ":scheme", Value: "http"}, {Name: ":authority", Value: addr},
			{Name: ":path", Value: "/grpc.health.v1.Health/Check"}, {Name: "content-type", Value: "application/grpc"}, {Name: "te", Value: "trailers"},
		} {
			require.NoError(t, enc.WriteField(hf))
		}
		for n := 0; n < headerBytes; n += len(pad) {
			require.NoError(t, enc.WriteField(hpack.HeaderField{Name: fmt.Sprintf("x-pad-%d", n), Value: pad}))
		}
		id := uint32(2*i + 1)
		frag := block.Bytes()
		const chunk = 16 << 10
		first := min(chunk, len(frag))
		mu.Lock()
		err := wf.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: frag[:first], EndHeaders: first == len(frag)})
		for off := first; err == nil && off < len(frag); off += chunk {
			end := min(off+chunk, len(frag))
			err = wf.WriteContinuation(id, end == len(frag), frag[off:end])
		}
		mu.Unlock()
		if err != nil {
			break // the server cut the connection: nothing more is held
		}
	}
	select {
	case <-done:
	case <-time.After(20 * time.Second):
	}
	mu.Lock()
	defer mu.Unlock()
	return got
}

// serverRSS is the server process's resident memory, in bytes.
func serverRSS(t *testing.T, s *server) int64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			require.NoError(t, err)
			return kb << 10
		}
	}
	t.Fatal("no VmRSS")
	return 0
}
