package grpcserver

import (
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/parley-im/parley/platform/clientaddr"
	"github.com/parley-im/parley/platform/ratelimit"
)

// publicStreams are the long-lived streams anyone may open without a
// token: health watching and reflection.
var publicStreams = map[string]bool{
	"/grpc.health.v1.Health/Watch":                                   true,
	"/grpc.reflection.v1.ServerReflection/ServerReflectionInfo":      true,
	"/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo": true,
}

// How many public streams may be open at once, from one address and in all.
const (
	publicStreamsPerAddr = 8
	publicStreamsTotal   = 1024
)

// publicStreamLimit bounds the public streams open at once, so anonymous
// callers cannot make the server hold streams without end.
type publicStreamLimit struct {
	byAddr *ratelimit.Holds[string]
	total  *ratelimit.Holds[struct{}]
}

func newPublicStreamLimit() *publicStreamLimit {
	return &publicStreamLimit{
		byAddr: ratelimit.NewHolds[string](publicStreamsPerAddr),
		total:  ratelimit.NewHolds[struct{}](publicStreamsTotal),
	}
}

func (l *publicStreamLimit) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	if !publicStreams[info.FullMethod] {
		return handler(srv, ss)
	}
	// Counted by the caller's address (callContext put it there first).
	addr := ""
	if client, ok := clientaddr.From(ss.Context()); ok {
		addr = clientaddr.Key(client)
	}
	if !l.take(addr) {
		return status.Errorf(codes.ResourceExhausted, "too many open %s streams: at most %d per address", info.FullMethod, publicStreamsPerAddr)
	}
	defer l.release(addr)
	return handler(srv, ss)
}

func (l *publicStreamLimit) take(addr string) bool {
	if !l.total.Take(struct{}{}) {
		return false
	}
	if !l.byAddr.Take(addr) {
		l.total.Release(struct{}{})
		return false
	}
	return true
}

func (l *publicStreamLimit) release(addr string) {
	l.byAddr.Release(addr)
	l.total.Release(struct{}{})
}
