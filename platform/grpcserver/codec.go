package grpcserver

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	protov2 "google.golang.org/protobuf/proto"
)

// requestCodec is grpc-go's protobuf codec, except for requests that do not
// decode (invalid UTF-8 in a string field, truncated or mistyped bytes).
// grpc-go answers a codec error with Internal, which blames the server for
// the client's bytes; instead the request is left empty but for a mark
// (the decode error, as an unknown field), and refuseUndecodable answers it
// with InvalidArgument inside the interceptor chain, where the call is
// logged and counted like any other. The mark lives in the message itself,
// so a request that never reaches the interceptor (its stream broke first)
// leaves nothing behind.
type requestCodec struct{ encoding.CodecV2 }

func newRequestCodec() requestCodec { return requestCodec{encoding.GetCodecV2(proto.Name)} }

// undecodableMark is the field number of the mark: the largest there is,
// which no Parley message uses.
const undecodableMark = protowire.MaxValidNumber

func (c requestCodec) Unmarshal(data mem.BufferSlice, v any) error {
	err := c.CodecV2.Unmarshal(data, v)
	m, ok := v.(protov2.Message)
	if err == nil || !ok {
		return err
	}
	protov2.Reset(m)
	mark := protowire.AppendTag(nil, undecodableMark, protowire.BytesType)
	mark = protowire.AppendString(mark, err.Error())
	m.ProtoReflect().SetUnknown(mark)
	return nil
}

// undecodableError returns the InvalidArgument for req if requestCodec
// marked it. A client sending the mark's field itself gets the same answer.
func undecodableError(req any) error {
	m, ok := req.(protov2.Message)
	if !ok {
		return nil
	}
	unknown := m.ProtoReflect().GetUnknown()
	if len(unknown) == 0 {
		return nil
	}
	num, typ, n := protowire.ConsumeTag(unknown)
	if n < 0 || num != undecodableMark || typ != protowire.BytesType {
		return nil
	}
	cause, n2 := protowire.ConsumeString(unknown[n:])
	if n2 < 0 {
		return nil
	}
	return status.Errorf(codes.InvalidArgument, "request: not a valid %s: %s", m.ProtoReflect().Descriptor().FullName(), cause)
}

// refuseUndecodable refuses unary requests requestCodec could not decode.
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
