package grpcserver

import (
	"net"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
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
	mu     sync.Mutex
	total  int
	byAddr map[string]int
}

func newPublicStreamLimit() *publicStreamLimit {
	return &publicStreamLimit{byAddr: map[string]int{}}
}

func (l *publicStreamLimit) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	if !publicStreams[info.FullMethod] {
		return handler(srv, ss)
	}
	addr := ""
	if p, ok := peer.FromContext(ss.Context()); ok {
		addr = p.Addr.String()
		if host, _, err := net.SplitHostPort(addr); err == nil {
			addr = host
		}
	}
	if !l.take(addr) {
		return status.Errorf(codes.ResourceExhausted, "too many open %s streams: at most %d per address", info.FullMethod, publicStreamsPerAddr)
	}
	defer l.release(addr)
	return handler(srv, ss)
}

func (l *publicStreamLimit) take(addr string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.total >= publicStreamsTotal || l.byAddr[addr] >= publicStreamsPerAddr {
		return false
	}
	l.total++
	l.byAddr[addr]++
	return true
}

func (l *publicStreamLimit) release(addr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total--
	if l.byAddr[addr]--; l.byAddr[addr] <= 0 {
		delete(l.byAddr, addr)
	}
}
