package grpcserver

import (
	"context"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	protov2 "google.golang.org/protobuf/proto"
)

// requestCodec is grpc-go's protobuf codec, except for requests that do not
// decode (invalid UTF-8 in a string field, truncated or mistyped bytes).
// grpc-go answers a codec error with Internal, which blames the server for
// the client's bytes; instead the request is left empty and marked, and
// refuseUndecodable answers it with InvalidArgument inside the interceptor
// chain, where the call is logged and counted like any other.
type requestCodec struct{ encoding.CodecV2 }

func newRequestCodec() requestCodec { return requestCodec{encoding.GetCodecV2(proto.Name)} }

// undecodable holds the requests requestCodec could not decode, by pointer,
// until refuseUndecodable takes them out. Every request decoded on the
// server reaches that interceptor, so nothing stays behind.
var undecodable sync.Map // any (the request) → error

func (c requestCodec) Unmarshal(data mem.BufferSlice, v any) error {
	err := c.CodecV2.Unmarshal(data, v)
	m, ok := v.(protov2.Message)
	if err == nil || !ok {
		return err
	}
	protov2.Reset(m)
	undecodable.Store(v, err)
	return nil
}

// undecodableError returns the InvalidArgument for req if it did not decode.
func undecodableError(req any) error {
	err, ok := undecodable.LoadAndDelete(req)
	if !ok {
		return nil
	}
	name := "request"
	if m, ok := req.(protov2.Message); ok {
		name = string(m.ProtoReflect().Descriptor().FullName())
	}
	return status.Errorf(codes.InvalidArgument, "request: not a valid %s: %v", name, err)
}

// refuseUndecodable refuses unary requests requestCodec could not decode.
// It runs before any interceptor that may return early (authentication),
// so every decoded request passes through it.
func refuseUndecodable(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if err := undecodableError(req); err != nil {
		return nil, err
	}
	return handler(ctx, req)
}

// refuseUndecodableStream does the same for each message a stream receives.
func refuseUndecodableStream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	return handler(srv, decodedStream{ss})
}

type decodedStream struct{ grpc.ServerStream }

func (s decodedStream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	return undecodableError(m)
}
