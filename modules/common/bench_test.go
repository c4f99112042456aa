package common_test

import (
	"bufio"
	"context"
	"errors"
	"image"
	"image/png"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/parley-im/parley/api/gen/commonpb"
)

// bigPNG writes a PNG of random pixels, stored without compression, of just
// under 10 MiB (the default upload limit) to a file and returns its path.
func bigPNG(b *testing.B) (path string, size int64) {
	b.Helper()
	const width, height = 1024, 3390 // opaque RGB rows of 3073 bytes
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	r := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	for i := range img.Pix {
		img.Pix[i] = byte(r.Uint32())
	}
	for i := 3; i < len(img.Pix); i += 4 {
		img.Pix[i] = 0xFF
	}
	path = filepath.Join(b.TempDir(), "big.png")
	f, err := os.Create(path)
	require.NoError(b, err)
	w := bufio.NewWriter(f)
	require.NoError(b, (&png.Encoder{CompressionLevel: png.NoCompression}).Encode(w, img))
	require.NoError(b, w.Flush())
	require.NoError(b, f.Close())
	info, err := os.Stat(path)
	require.NoError(b, err)
	require.Greater(b, info.Size(), int64(10<<20-128<<10))
	require.LessOrEqual(b, info.Size(), int64(10<<20))
	return path, info.Size()
}

// uploadFile streams the file at path in chunks of chunkSize, one fresh
// buffer per chunk (a message may not be changed once sent).
func uploadFile(ctx context.Context, c commonpb.CommonServiceClient, path string, chunkSize int) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	stream, err := c.UploadImage(ctx)
	if err != nil {
		return "", err
	}
	for {
		buf := make([]byte, chunkSize)
		n, err := io.ReadFull(f, buf)
		if n > 0 {
			if err := stream.Send(&commonpb.UploadImageRequest{Content: buf[:n]}); err != nil {
				if errors.Is(err, io.EOF) {
					break
				}
				return "", err
			}
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			return "", err
		}
	}
	resp, err := stream.CloseAndRecv()
	if err != nil {
		return "", err
	}
	return resp.GetUrl(), nil
}

// heapSampler records the largest heap (live and not yet swept objects, as
// MemStats.HeapAlloc) seen while it runs, read every half millisecond
// through runtime/metrics, which does not stop the world.
type heapSampler struct {
	stop chan struct{}
	done sync.WaitGroup
	peak uint64
}

const heapObjects = "/memory/classes/heap/objects:bytes"

func readHeap() uint64 {
	s := []metrics.Sample{{Name: heapObjects}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

func sampleHeap() *heapSampler {
	h := &heapSampler{stop: make(chan struct{}), peak: readHeap()}
	h.done.Go(func() {
		tick := time.NewTicker(500 * time.Microsecond)
		defer tick.Stop()
		for {
			h.peak = max(h.peak, readHeap())
			select {
			case <-h.stop:
				return
			case <-tick.C:
			}
		}
	})
	return h
}

// Stop ends the sampling and returns the peak.
func (h *heapSampler) Stop() uint64 {
	close(h.stop)
	h.done.Wait()
	return max(h.peak, readHeap())
}

// BenchmarkUpload10MiB uploads a 10 MiB image in 64 KiB chunks through the
// fs store and reports how far the heap (client and server both: they share
// the process) grows above its level before the upload. An upload streamed
// to the spool file keeps about a chunk per side in memory; one held whole
// would add at least its 10 MiB. The garbage collector runs at GOGC=10 so
// the peak is near what is live, not what waits to be collected.
func BenchmarkUpload10MiB(b *testing.B) {
	e := setup(b, options{})
	alice := e.signUp(b, "alice")
	path, size := bigPNG(b)
	runtime.GC()
	defer debug.SetGCPercent(debug.SetGCPercent(10))

	b.SetBytes(size)
	b.ReportAllocs()
	var total, peak uint64
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		for _, f := range e.storedObjects(b) { // stored again each time, not deduplicated
			require.NoError(b, os.Remove(f))
		}
		runtime.GC()
		before := readHeap()
		sampler := sampleHeap()
		b.StartTimer()

		_, err := uploadFile(alice.ctx, e.common, path, 64<<10)

		b.StopTimer()
		high := sampler.Stop()
		require.NoError(b, err)
		stored := e.storedObjects(b)
		require.Len(b, stored, 1)
		info, err := os.Stat(stored[0])
		require.NoError(b, err)
		require.Equal(b, size, info.Size())
		growth := high - min(high, before)
		total += growth
		peak = max(peak, growth)
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(float64(total)/float64(b.N)/(1<<20), "heap-growth-MiB/op")
	b.ReportMetric(float64(peak)/(1<<20), "max-heap-growth-MiB")
}
