package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/png"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parley-im/parley/api/gen/commonpb"
	"github.com/parley-im/parley/api/gen/feedpb"
)

func init() {
	scenarios = append(scenarios, scenario{"feed", runFeedScale}, scenario{"upload", runUpload})
}

// feedVocabulary is what seeded feeds are written in, most frequent first
// (word i is drawn with weight 1/(i+1)). No word contains another, so a
// keyword's matches are the feeds holding that word; the CJK words stand
// for the one- and two-character searches CJK users make.
var feedVocabulary = []string{
	"morning", "coffee", "weekend", "sunset", "咖啡", "travel", "music", "friends",
	"garden", "今天", "walking", "bicycle", "mountain", "river", "kitchen", "recipe",
	"天气", "library", "painting", "photo", "football", "concert", "holiday", "train",
	"学习", "summer", "winter", "autumn", "spring", "ocean", "island", "forest",
	"朋友", "festival", "market", "bakery", "noodles", "dumpling", "lantern", "harbor",
	"猫咪", "meadow", "glacier", "canyon", "volcano", "desert", "prairie", "lagoon",
	"北京", "orchard", "vineyard", "cottage", "castle", "village", "valley", "quarry",
	"火锅", "pottery", "origami", "calligraphy", "telescope", "compass", "parchment", "quill",
}

// feedRareWord appears in about one feed in feedRareEvery: the needle.
const (
	feedRareWord  = "zanzibar"
	feedRareEvery = 2000
)

// feedKeywords are the FeedQuery searches, rotated: from a word in most
// feeds to one in a few hundred, and CJK (a two-character word and a single
// character of a less frequent word). Each one's share of the feeds is
// measured while seeding and reported.
var feedKeywords = []string{"morning", "travel", "recipe", "quill", feedRareWord, "咖啡", "猫"}

// feedSizes are the feed scenario's sizes.
type feedSizes struct {
	feeds, users, follows, batch int
}

func (e *env) feedSizes() feedSizes {
	if e.quick {
		return feedSizes{feeds: 20_000, users: 500, follows: 100, batch: 10_000}
	}
	return feedSizes{feeds: 1_000_000, users: 10_000, follows: 1_000, batch: 50_000}
}

// runFeedScale: FeedQuery and FeedFollow on a large feeds table (1 M feeds
// of 10 000 users, seeded with COPY), concurrency 16: FeedQuery by keyword
// p99 ≤ 50 ms, FeedFollow of a user following 1 000 users p99 ≤ 30 ms.
func runFeedScale(ctx context.Context, e *env) ([]Row, error) {
	const scenario = "feed"
	sz := e.feedSizes()
	var rows []Row

	t0 := time.Now()
	users, err := seedUsers(ctx, e, "feeder", sz.users)
	if err != nil {
		return nil, err
	}
	rows = append(rows, info(scenario, "seed users", ms(time.Since(t0)), "ms"))

	// Feeds, with COPY in batches: authors uniform over the users, content
	// 6–14 words of the vocabulary. The generator is seeded, so every run
	// writes the same feeds.
	rng := rand.New(rand.NewPCG(1, 2))
	cumulative := make([]float64, len(feedVocabulary))
	total := 0.0
	for i := range feedVocabulary {
		total += 1 / float64(i+1)
		cumulative[i] = total
	}
	word := func() string {
		x := rng.Float64() * total
		for i, c := range cumulative {
			if x < c {
				return feedVocabulary[i]
			}
		}
		return feedVocabulary[len(feedVocabulary)-1]
	}
	matches := make([]int, len(feedKeywords))
	var sb strings.Builder
	t0 = time.Now()
	for done := 0; done < sz.feeds; {
		n := min(sz.batch, sz.feeds-done)
		batch := make([][]any, n)
		for i := range batch {
			sb.Reset()
			words := 6 + rng.IntN(9)
			rare := rng.IntN(feedRareEvery) == 0
			for w := range words {
				if w > 0 {
					sb.WriteByte(' ')
				}
				if rare && w == words/2 {
					sb.WriteString(strings.ToUpper(feedRareWord[:1]) + feedRareWord[1:])
				} else {
					sb.WriteString(word())
				}
			}
			content := sb.String()
			folded := strings.ToLower(content)
			for k, kw := range feedKeywords {
				if strings.Contains(folded, kw) {
					matches[k]++
				}
			}
			author := users[rng.IntN(len(users))].ID
			batch[i] = []any{int64(author), int16(feedpb.FeedType_Txt), content, folded, int16(2)}
		}
		if _, err := e.pool.CopyFrom(ctx, pgx.Identifier{"feeds", "feeds"},
			[]string{"user_id", "type", "content", "content_folded", "review_status"},
			pgx.CopyFromRows(batch)); err != nil {
			return rows, fmt.Errorf("seed feeds: %w", err)
		}
		done += n
		fmt.Fprintf(os.Stderr, "   seeded %d/%d feeds (%.0f s)\n", done, sz.feeds, time.Since(t0).Seconds())
	}
	seedTime := time.Since(t0)
	rows = append(rows,
		info(scenario, fmt.Sprintf("seed %d feeds (COPY)", sz.feeds), seedTime.Seconds(), "s"),
		info(scenario, "seed feeds rate", float64(sz.feeds)/seedTime.Seconds(), "rows/s"))

	// The first user follows the next sz.follows users.
	follower := users[0]
	follows := make([][]any, sz.follows)
	for i := range follows {
		follows[i] = []any{int64(follower.ID), int64(users[1+i].ID)}
	}
	if _, err := e.pool.CopyFrom(ctx, pgx.Identifier{"users", "follows"},
		[]string{"follower_id", "followee_id"}, pgx.CopyFromRows(follows)); err != nil {
		return rows, fmt.Errorf("seed follows: %w", err)
	}

	// VACUUM ANALYZE, as autovacuum would get to in time: planner
	// statistics, the GIN index's pending list merged, the visibility map set.
	t0 = time.Now()
	for _, table := range []string{"feeds.feeds", "users.follows", "users.users"} {
		if _, err := e.pool.Exec(ctx, "VACUUM ANALYZE "+table); err != nil {
			return rows, fmt.Errorf("vacuum analyze %s: %w", table, err)
		}
	}
	rows = append(rows, info(scenario, "VACUUM ANALYZE", time.Since(t0).Seconds(), "s"))
	for k, kw := range feedKeywords {
		rows = append(rows, info(scenario, fmt.Sprintf("keyword %q matches", kw), 100*float64(matches[k])/float64(sz.feeds), "% of feeds"))
	}

	const concurrency = 16

	// FeedQuery, rotating over the keywords; each keyword's latencies are
	// kept too, to tell which one is slow.
	fmt.Fprintln(os.Stderr, "   FeedQuery")
	var next atomic.Uint64
	var mu sync.Mutex
	perKeyword := make([][]time.Duration, len(feedKeywords))
	query := closedLoop(ctx, concurrency, e.duration(), func(ctx context.Context, w int) error {
		k := int(next.Add(1) % uint64(len(feedKeywords)))
		u := users[w%len(users)]
		start := time.Now()
		resp, err := feedpb.NewFeedServiceClient(e.conn(w)).FeedQuery(u.Ctx(ctx), &feedpb.FeedQueryRequest{Keyword: feedKeywords[k], Num: 20})
		if err != nil {
			return err
		}
		took := time.Since(start)
		if len(resp.GetFeed()) == 0 && matches[k] > 0 {
			return fmt.Errorf("FeedQuery %q found nothing", feedKeywords[k])
		}
		mu.Lock()
		perKeyword[k] = append(perKeyword[k], took)
		mu.Unlock()
		return nil
	})
	rows = append(rows, loadRows(scenario+" FeedQuery", "parley", query)...)
	rows = append(rows, check(scenario+" FeedQuery", "FeedQuery p99", ms(query.Percentile(99)), "ms", "≤ 50 ms", query.Percentile(99) <= 50*time.Millisecond))
	for k, kw := range feedKeywords {
		rows = append(rows,
			info(scenario+" FeedQuery", fmt.Sprintf("%q p50", kw), ms(percentile(perKeyword[k], 50)), "ms"),
			info(scenario+" FeedQuery", fmt.Sprintf("%q p99", kw), ms(percentile(perKeyword[k], 99)), "ms"))
	}

	// FeedFollow of the user following sz.follows users: the newest page.
	fmt.Fprintln(os.Stderr, "   FeedFollow")
	follow := closedLoop(ctx, concurrency, e.duration(), func(ctx context.Context, w int) error {
		resp, err := feedpb.NewFeedServiceClient(e.conn(w)).FeedFollow(follower.Ctx(ctx), &feedpb.FeedFollowRequest{Num: 20})
		if err != nil {
			return err
		}
		if len(resp.GetFeed()) == 0 {
			return errors.New("FeedFollow found nothing")
		}
		return nil
	})
	scenarioFollow := fmt.Sprintf("%s FeedFollow (%d followed)", scenario, sz.follows)
	rows = append(rows, loadRows(scenarioFollow, "parley", follow)...)
	rows = append(rows, check(scenarioFollow, "FeedFollow p99", ms(follow.Percentile(99)), "ms", "≤ 30 ms", follow.Percentile(99) <= 30*time.Millisecond))

	// The same calls one at a time, to tell the cost of a call from the
	// queueing of 16 on this machine's cores.
	fmt.Fprintln(os.Stderr, "   FeedQuery and FeedFollow, one at a time")
	query1 := closedLoop(ctx, 1, e.duration(), func(ctx context.Context, _ int) error {
		k := int(next.Add(1) % uint64(len(feedKeywords)))
		_, err := feedpb.NewFeedServiceClient(e.conn(0)).FeedQuery(users[0].Ctx(ctx), &feedpb.FeedQueryRequest{Keyword: feedKeywords[k], Num: 20})
		return err
	})
	follow1 := closedLoop(ctx, 1, e.duration(), func(ctx context.Context, _ int) error {
		_, err := feedpb.NewFeedServiceClient(e.conn(0)).FeedFollow(follower.Ctx(ctx), &feedpb.FeedFollowRequest{Num: 20})
		return err
	})
	rows = append(rows,
		info(scenario+" FeedQuery", "concurrency 1 p50", ms(query1.Percentile(50)), "ms"),
		info(scenario+" FeedQuery", "concurrency 1 p99", ms(query1.Percentile(99)), "ms"),
		info(scenarioFollow, "concurrency 1 p50", ms(follow1.Percentile(50)), "ms"),
		info(scenarioFollow, "concurrency 1 p99", ms(follow1.Percentile(99)), "ms"),
	)
	return rows, errorsOf(query, follow, query1, follow1)
}

// uploadChunk is the size of one UploadImage message.
const uploadChunk = 64 << 10

// uploadMaxBytes is Parley's default -max-upload-bytes (10 MiB).
const uploadMaxBytes = 10 << 20

// runUpload: clients stream a ~10 MiB PNG in 64 KiB chunks, for several
// rounds, first a few at once, then many, while the server's RSS and Go
// heap are sampled: the heap growth per concurrent upload, ≤ 1 MiB, is the
// slope between the two (what each further upload adds). The growth at
// the smaller concurrency alone is mostly the heap growing to the goal the
// garbage collector had already set before any upload, which no number of
// uploads changes.
func runUpload(ctx context.Context, e *env) ([]Row, error) {
	const scenario = "upload"
	few, many, rounds := 4, 16, 3
	if e.quick {
		few, many, rounds = 1, 2, 2
	}
	users, err := seedUsers(ctx, e, "uploader", many)
	if err != nil {
		return nil, err
	}
	img, err := bigPNG(uploadMaxBytes - 64) // room for the nonce chunk
	if err != nil {
		return nil, err
	}
	rows := []Row{info(scenario, "image size", float64(len(img))/(1<<20), "MiB")}

	time.Sleep(200 * time.Millisecond)
	rss0, heap0 := e.parley.RSSBytes(), goMemstats(e)["go_memstats_heap_inuse_bytes"]
	rows = append(rows,
		info(scenario, "server RSS before", float64(rss0)/(1<<20), "MiB"),
		info(scenario, "server Go heap in use before", heap0/(1<<20), "MiB"))
	var phases [2]uploadPhase
	for i, clients := range []int{few, many} {
		phases[i], err = runUploadPhase(ctx, e, users[:clients], img, rounds)
		if err != nil {
			return rows, err
		}
		p := phases[i]
		c := fmt.Sprintf(" (%d at once)", clients)
		rows = append(rows,
			info(scenario, "throughput"+c, p.throughput, "MB/s"),
			info(scenario, "upload p50"+c, ms(p.p50), "ms"),
			info(scenario, "server RSS peak"+c, float64(p.peakRSS)/(1<<20), "MiB"),
			info(scenario, "server Go heap in use peak"+c, p.peakHeap/(1<<20), "MiB"))
	}
	added := float64(many - few)
	rssSlope := float64(phases[1].peakRSS-phases[0].peakRSS) / added / (1 << 20)
	heapSlope := (phases[1].peakHeap - phases[0].peakHeap) / added / (1 << 20)
	return append(rows,
		info(scenario, fmt.Sprintf("RSS growth per upload, %d at once over the baseline", few),
			float64(phases[0].peakRSS-rss0)/float64(few)/(1<<20), "MiB"),
		info(scenario, "RSS growth per further concurrent upload", rssSlope, "MiB"),
		check(scenario, "Go heap growth per further concurrent upload", heapSlope, "MiB", "≤ 1 MiB", heapSlope <= 1),
	), nil
}

// uploadPhase is what one concurrency level of runUpload measured.
type uploadPhase struct {
	throughput float64 // MB/s
	p50        time.Duration
	peakRSS    int64
	peakHeap   float64 // go_memstats_heap_inuse_bytes
}

// runUploadPhase has every user upload img at once, rounds times, and
// samples the server's RSS and Go heap meanwhile. Any failed upload fails it.
func runUploadPhase(ctx context.Context, e *env, users []seededUser, img []byte, rounds int) (uploadPhase, error) {
	rss := e.parley.watch()
	stop := make(chan struct{})
	heapDone := make(chan float64)
	go func() {
		peak := 0.0
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				heapDone <- peak
				return
			case <-t.C:
				peak = max(peak, goMemstats(e)["go_memstats_heap_inuse_bytes"])
			}
		}
	}()

	var (
		mu        sync.Mutex
		latencies []time.Duration
		failed    int
		firstErr  error
		sent      int64
	)
	start := time.Now()
	for round := range rounds {
		var wg sync.WaitGroup
		for c, u := range users {
			wg.Go(func() {
				// A nonce per upload, so each is a new object (the same
				// bytes would be stored once).
				body := withPNGNonce(img, fmt.Sprintf("%d-%d-%d", time.Now().UnixNano(), round, c))
				t0 := time.Now()
				err := uploadImage(u.Ctx(ctx), e, c, body)
				took := time.Since(t0)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					failed++
					if firstErr == nil {
						firstErr = err
					}
					return
				}
				latencies = append(latencies, took)
				sent += int64(len(body))
			})
		}
		wg.Wait()
	}
	elapsed := time.Since(start)
	close(stop)
	_, peakRSS := rss.stopRSS()
	p := uploadPhase{
		throughput: float64(sent) / elapsed.Seconds() / 1e6,
		p50:        percentile(latencies, 50),
		peakRSS:    peakRSS,
		peakHeap:   <-heapDone,
	}
	if firstErr != nil {
		return p, fmt.Errorf("%d of %d uploads failed, first: %w", failed, rounds*len(users), firstErr)
	}
	return p, nil
}

// uploadImage streams body to UploadImage in uploadChunk messages.
func uploadImage(ctx context.Context, e *env, worker int, body []byte) error {
	stream, err := commonpb.NewCommonServiceClient(e.conn(worker)).UploadImage(ctx)
	if err != nil {
		return err
	}
	for off := 0; off < len(body); off += uploadChunk {
		if err := stream.Send(&commonpb.UploadImageRequest{Content: body[off:min(off+uploadChunk, len(body))]}); err != nil {
			if errors.Is(err, io.EOF) {
				break // the server answered early: CloseAndRecv has its error
			}
			return err
		}
	}
	resp, err := stream.CloseAndRecv()
	if err != nil {
		return err
	}
	if resp.GetUrl() == "" {
		return errors.New("upload answered no url")
	}
	return nil
}

// bigPNG encodes an uncompressed PNG of random pixels as large as fits in
// limit bytes.
func bigPNG(limit int) ([]byte, error) {
	const width = 1600
	rowBytes := width*4 + 1 // a filter byte per row
	height := limit / rowBytes
	rng := rand.NewChaCha8([32]byte{1})
	for ; height > 0; height -= 4 {
		img := image.NewNRGBA(image.Rect(0, 0, width, height))
		_, _ = rng.Read(img.Pix)
		var buf bytes.Buffer
		enc := png.Encoder{CompressionLevel: png.NoCompression}
		if err := enc.Encode(&buf, img); err != nil {
			return nil, err
		}
		if buf.Len() <= limit {
			return buf.Bytes(), nil
		}
	}
	return nil, errors.New("no PNG fits")
}

// withPNGNonce returns img with a tEXt chunk holding nonce before its IEND
// chunk (the last 12 bytes): still a valid PNG, with new bytes.
func withPNGNonce(img []byte, nonce string) []byte {
	data := append([]byte("nonce\x00"), nonce...)
	chunk := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	chunk = append(chunk, "tEXt"...)
	chunk = append(chunk, data...)
	chunk = binary.BigEndian.AppendUint32(chunk, crc32.ChecksumIEEE(chunk[4:]))
	iend := len(img) - 12
	out := make([]byte, 0, len(img)+len(chunk))
	out = append(out, img[:iend]...)
	out = append(out, chunk...)
	return append(out, img[iend:]...)
}

// goMemstats reads the Go heap figures of Parley's /metrics.
func goMemstats(e *env) map[string]float64 {
	out := map[string]float64{}
	resp, err := http.Get("http://" + e.parley.Admin + "/metrics")
	if err != nil {
		return out
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok || !strings.HasPrefix(name, "go_memstats_") {
			continue
		}
		if v, err := strconv.ParseFloat(value, 64); err == nil {
			out[name] = v
		}
	}
	return out
}
