package main

import (
	"context"
	"fmt"
	"os"
	"slices"

	"google.golang.org/grpc"

	"github.com/parley-im/parley/api/gen/commonpb"
	"github.com/parley-im/parley/api/gen/feedpb"
	"github.com/parley-im/parley/api/gen/userpb"
)

// compare measures the bare server and Parley doing the same call, in
// alternating rounds, and keeps each side's median round.
func compare(ctx context.Context, e *env, concurrency int, call func(ctx context.Context, conn *grpc.ClientConn, worker int) error) (bare, parley Result) {
	var bares, parleys []Result
	for range e.rounds() {
		bares = append(bares, closedLoop(ctx, concurrency, e.duration(), func(ctx context.Context, w int) error {
			return call(ctx, e.bareConn(w), w)
		}))
		parleys = append(parleys, closedLoop(ctx, concurrency, e.duration(), func(ctx context.Context, w int) error {
			return call(ctx, e.conn(w), w)
		}))
	}
	return median(bares), median(parleys)
}

func median(results []Result) Result {
	slices.SortFunc(results, func(a, b Result) int {
		switch {
		case a.RPS() < b.RPS():
			return -1
		case a.RPS() > b.RPS():
			return 1
		}
		return 0
	})
	return results[len(results)/2]
}

// loadRows reports one side of a comparison.
func loadRows(scenario, side string, r Result) []Row {
	rows := []Row{
		info(scenario, side+" requests/s", r.RPS(), "req/s"),
		info(scenario, side+" p50", ms(r.Percentile(50)), "ms"),
		info(scenario, side+" p95", ms(r.Percentile(95)), "ms"),
		info(scenario, side+" p99", ms(r.Percentile(99)), "ms"),
	}
	if r.Errors > 0 {
		rows = append(rows, Row{Scenario: scenario, Metric: side + " errors", Value: float64(r.Errors), Unit: "calls",
			Note: fmt.Sprint(r.FirstErr)})
	}
	return rows
}

// runUnary: Ping through Parley's whole interceptor chain against a bare
// grpc-go server, concurrency 64: Parley within 15 % of bare.
func runUnary(ctx context.Context, e *env) ([]Row, error) {
	bare, parley := compare(ctx, e, 64, func(ctx context.Context, conn *grpc.ClientConn, _ int) error {
		_, err := userpb.NewUserServiceClient(conn).Ping(ctx, &commonpb.PingRequest{})
		return err
	})
	rows := append(loadRows("unary", "bare", bare), loadRows("unary", "parley", parley)...)
	ratio := parley.RPS() / bare.RPS()
	rows = append(rows, check("unary", "parley / bare", ratio*100, "%", "≥ 90 %", ratio >= 0.90))
	return rows, errorsOf(bare, parley)
}

// runReads: GetUser and FeedGet at concurrency 100, each at ≥ 50 % of the
// bare server's requests/s, p99 ≤ 20 ms.
func runReads(ctx context.Context, e *env) ([]Row, error) {
	users, err := seedUsers(ctx, e, "reader", 100)
	if err != nil {
		return nil, err
	}
	feed, err := feedpb.NewFeedServiceClient(e.conn(0)).FeedCreate(users[0].Ctx(ctx), &feedpb.FeedCreateRequest{
		Type: feedpb.FeedType_Txt, Content: "a feed everyone reads",
	})
	if err != nil {
		return nil, fmt.Errorf("create feed: %w", err)
	}
	var rows []Row
	for _, read := range []struct {
		name string
		call func(ctx context.Context, conn *grpc.ClientConn, w int) error
	}{
		{"GetUser", func(ctx context.Context, conn *grpc.ClientConn, w int) error {
			u := users[w%len(users)]
			_, err := userpb.NewUserServiceClient(conn).GetUser(u.Ctx(ctx), &userpb.UserGetRequest{Id: u.ID})
			return err
		}},
		{"FeedGet", func(ctx context.Context, conn *grpc.ClientConn, w int) error {
			u := users[w%len(users)]
			_, err := feedpb.NewFeedServiceClient(conn).FeedGet(u.Ctx(ctx), &feedpb.FeedGetRequest{Id: feed.GetFeed().GetId()})
			return err
		}},
	} {
		fmt.Fprintf(os.Stderr, "   %s\n", read.name)
		bare, parley := compare(ctx, e, 100, read.call)
		scenario := "reads " + read.name
		rows = append(rows, loadRows(scenario, "bare", bare)...)
		rows = append(rows, loadRows(scenario, "parley", parley)...)
		ratio := parley.RPS() / bare.RPS()
		rows = append(rows,
			check(scenario, "parley / bare", ratio*100, "%", "≥ 50 %", ratio >= 0.5),
			check(scenario, "parley p99", ms(parley.Percentile(99)), "ms", "≤ 20 ms", parley.Percentile(99) <= 20e6),
		)
		if err := errorsOf(bare, parley); err != nil {
			return rows, err
		}
	}
	return rows, nil
}

// errorsOf fails a scenario whose calls failed: a fast run with errors is
// not a result.
func errorsOf(results ...Result) error {
	for _, r := range results {
		if r.Errors > 0 {
			return fmt.Errorf("%d of %d calls failed, first: %v", r.Errors, r.Requests, r.FirstErr)
		}
	}
	return nil
}
