// Package rest serves Parley's gRPC services as the REST API their
// google.api.http annotations describe (grpc-gateway), as the original
// project served them. Every call goes to the gRPC server over its
// in-process connection, so it passes the same interceptor chain as a gRPC
// call: authentication, validation, rate limits, metrics, the access log and
// the error mapping.
package rest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"golang.org/x/sync/semaphore"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/parley-im/parley/api/gen/commonpb"
	"github.com/parley-im/parley/api/gen/feedpb"
	"github.com/parley-im/parley/api/gen/gatewaypb"
	"github.com/parley-im/parley/api/gen/grouppb"
	"github.com/parley-im/parley/api/gen/messagepb"
	"github.com/parley-im/parley/api/gen/userpb"
	"github.com/parley-im/parley/platform/grpcserver"
)

// Services are the files of the services served over REST.
var Services = []protoreflect.FileDescriptor{
	commonpb.File_common_common_proto, userpb.File_user_user_proto, feedpb.File_feed_feed_proto,
	grouppb.File_group_group_proto, messagepb.File_message_message_proto, gatewaypb.File_gateway_gateway_proto,
}

var registrations = []func(context.Context, *runtime.ServeMux, *grpc.ClientConn) error{
	commonpb.RegisterCommonServiceHandler, userpb.RegisterUserServiceHandler, feedpb.RegisterFeedServiceHandler,
	grouppb.RegisterGroupServiceHandler, messagepb.RegisterMessageServiceHandler, gatewaypb.RegisterGatewayServiceHandler,
}

const (
	// bodyTimeout bounds reading a request's body; a streamed upload may
	// take as long as POST /upload.
	bodyTimeout   = time.Minute
	streamTimeout = 10 * time.Minute
)

// Options configures the REST API.
type Options struct {
	// MaxMessageBytes is -max-recv-msg-bytes: the largest message a call may
	// carry. Its JSON form may be up to twice as large (bytes fields are
	// base64, names are spelled out).
	MaxMessageBytes int
}

// bodyBudgetMessages is how many largest request bodies the REST API holds
// at once: a request reserves its Content-Length (the largest body when it
// has none) while it runs, and is refused with 503 when the reservation
// would pass the budget, so slow or large bodies cannot exhaust memory.
const bodyBudgetMessages = 32

// Handler serves every annotated method under /v1/api/.
type Handler struct {
	mux        *runtime.ServeMux
	maxJSON    int64
	streaming  map[string]bool // "POST /v1/api/common/image": client-streaming routes
	bodyBudget *semaphore.Weighted
}

// New builds the handler over conn, the server's in-process connection.
func New(ctx context.Context, conn *grpc.ClientConn, opts Options) (*Handler, error) {
	maxJSON := 2 * int64(opts.MaxMessageBytes)
	h := &Handler{maxJSON: maxJSON, streaming: map[string]bool{}, bodyBudget: semaphore.NewWeighted(bodyBudgetMessages * maxJSON)}
	h.mux = runtime.NewServeMux(
		// grpc-gateway's default marshaler, which the original's clients
		// read: lowerCamelCase names, unpopulated fields emitted, unknown
		// request fields discarded; each message of a body bounded.
		runtime.WithMarshalerOption(runtime.MIMEWildcard, boundedMarshaler{
			Marshaler: &runtime.HTTPBodyMarshaler{Marshaler: &runtime.JSONPb{
				MarshalOptions:   protojson.MarshalOptions{EmitUnpopulated: true},
				UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: true},
			}},
			limit: h.maxJSON, maxMessage: opts.MaxMessageBytes,
		}),
		runtime.WithIncomingHeaderMatcher(incomingHeader),
		runtime.WithOutgoingHeaderMatcher(outgoingHeader),
		runtime.WithErrorHandler(writeError),
		runtime.WithRoutingErrorHandler(writeRoutingError),
		// A POST to a GET route is 405, not a GET with the form as its query.
		runtime.WithDisablePathLengthFallback(),
	)
	for _, register := range registrations {
		if err := register(ctx, h.mux, conn); err != nil {
			return nil, err
		}
	}
	for _, r := range Routes() {
		switch {
		case r.ClientStreaming && r.ServerStreaming:
			// Registered after the generated handler, so it takes precedence.
			method := r.Method
			err := h.mux.HandlePath(r.Verb, r.Path, func(w http.ResponseWriter, req *http.Request, _ map[string]string) {
				_, out := runtime.MarshalerForRequest(h.mux, req)
				runtime.HTTPError(req.Context(), h.mux, out, w, req, status.Errorf(codes.Unimplemented,
					"%s is a bidirectional stream, which plain HTTP cannot carry: call it over gRPC, or use the WebSocket at /ws", method))
			})
			if err != nil {
				return nil, err
			}
		case r.ClientStreaming:
			h.streaming[r.Verb+" "+r.Path] = true
		}
	}
	return h, nil
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Every response has the request id, those refused here before any
	// call included; the call gets the same one.
	id := grpcserver.RequestID(r.Header.Get(requestIDHeader))
	r.Header.Set(requestIDHeader, id)
	w.Header().Set(requestIDHeader, id)
	streaming := h.streaming[r.Method+" "+r.URL.Path]
	timeout := bodyTimeout
	if streaming {
		timeout = streamTimeout
	}
	// A slow body holds a goroutine and a call this long, no longer.
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(timeout))
	if !streaming && r.ContentLength > h.maxJSON {
		h.refuse(w, r, http.StatusRequestEntityTooLarge,
			status.Errorf(codes.InvalidArgument, "request body: larger than the %d-byte limit", h.maxJSON))
		return
	}
	reserve := h.maxJSON // a stream's messages are read one at a time
	if !streaming && r.ContentLength >= 0 {
		reserve = r.ContentLength
	}
	if !h.bodyBudget.TryAcquire(reserve) {
		w.Header().Set("Retry-After", "1")
		h.refuse(w, r, http.StatusServiceUnavailable,
			status.Error(codes.Unavailable, "too many large requests in flight: retry in a moment"))
		return
	}
	defer h.bodyBudget.Release(reserve)
	h.mux.ServeHTTP(w, r)
}

// refuse answers a request the handler turns away before any call.
func (h *Handler) refuse(w http.ResponseWriter, r *http.Request, httpStatus int, err error) {
	_, out := runtime.MarshalerForRequest(h.mux, r)
	runtime.HTTPError(r.Context(), h.mux, out, w, r, &runtime.HTTPStatusError{HTTPStatus: httpStatus, Err: err})
}

// Route is an annotated method's REST binding.
type Route struct {
	Method          string // full gRPC method name, /user.UserService/UserLogin
	Verb, Path      string
	Body            string
	ClientStreaming bool
	ServerStreaming bool
}

// Routes lists every annotated method of Services, in their order.
func Routes() []Route {
	var routes []Route
	for _, f := range Services {
		for i := range f.Services().Len() {
			s := f.Services().Get(i)
			for j := range s.Methods().Len() {
				m := s.Methods().Get(j)
				rule, _ := proto.GetExtension(m.Options(), annotations.E_Http).(*annotations.HttpRule)
				if rule == nil {
					continue
				}
				r := Route{
					Method: fmt.Sprintf("/%s/%s", s.FullName(), m.Name()), Body: rule.GetBody(),
					ClientStreaming: m.IsStreamingClient(), ServerStreaming: m.IsStreamingServer(),
				}
				switch p := rule.GetPattern().(type) {
				case *annotations.HttpRule_Get:
					r.Verb, r.Path = http.MethodGet, p.Get
				case *annotations.HttpRule_Post:
					r.Verb, r.Path = http.MethodPost, p.Post
				case *annotations.HttpRule_Delete:
					r.Verb, r.Path = http.MethodDelete, p.Delete
				case *annotations.HttpRule_Put:
					r.Verb, r.Path = http.MethodPut, p.Put
				case *annotations.HttpRule_Patch:
					r.Verb, r.Path = http.MethodPatch, p.Patch
				}
				routes = append(routes, r)
			}
		}
	}
	return routes
}

const requestIDHeader = "X-Request-Id"

// forwardedHeaders are the HTTP headers that reach the handlers as the
// gRPC metadata of the same name (Authorization always does).
var forwardedHeaders = map[string]bool{
	"idempotency-key":      true, // message sends
	"client-authorization": true, // gateway Register
	"x-request-id":         true, // grpcserver.RequestIDHeader
}

func incomingHeader(key string) (string, bool) {
	if k := strings.ToLower(key); forwardedHeaders[k] {
		return k, true
	}
	return runtime.DefaultHeaderMatcher(key)
}

// outgoingHeader names the response metadata as HTTP headers, as
// grpc-gateway does (Grpc-Metadata-…), but the request id, which ServeHTTP
// has set already, and the gRPC content type.
func outgoingHeader(key string) (string, bool) {
	switch key {
	case grpcserver.RequestIDHeader, "content-type":
		return "", false
	}
	return runtime.MetadataHeaderPrefix + key, true
}

// HTTPStatus is the HTTP status of a gRPC code: grpc-gateway's mapping,
// with FailedPrecondition as 412 (grpc-gateway answers 400).
func HTTPStatus(code codes.Code) int {
	if code == codes.FailedPrecondition {
		return http.StatusPreconditionFailed
	}
	return runtime.HTTPStatusFromCode(code)
}

// writeError is grpc-gateway's error body, {"code", "message", "details"},
// with the status of HTTPStatus.
func writeError(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, err error) {
	var withStatus *runtime.HTTPStatusError
	if !errors.As(err, &withStatus) {
		err = &runtime.HTTPStatusError{HTTPStatus: HTTPStatus(status.Code(err)), Err: err}
	}
	runtime.DefaultHTTPErrorHandler(ctx, mux, m, w, r, err)
}

// writeRoutingError answers a request no route takes: 404 for an unknown
// path, 405 for a known path with another method (grpc-gateway answers 501).
func writeRoutingError(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, httpStatus int) {
	code, message := codes.InvalidArgument, "malformed request path"
	switch httpStatus {
	case http.StatusNotFound:
		code, message = codes.NotFound, fmt.Sprintf("no route %s %s: /openapi.json lists them", r.Method, r.URL.Path)
	case http.StatusMethodNotAllowed:
		code, message = codes.Unimplemented, fmt.Sprintf("%s is not a method of %s", r.Method, r.URL.Path)
	}
	writeError(ctx, mux, m, w, r, &runtime.HTTPStatusError{HTTPStatus: httpStatus, Err: status.Error(code, message)})
}

// boundedMarshaler is a marshaler whose decoders refuse a message whose JSON
// is longer than limit, so a body (a streamed upload's included) is held in
// memory one bounded message at a time, and a message larger than the gRPC
// server takes.
type boundedMarshaler struct {
	runtime.Marshaler
	limit      int64 // of a message's JSON
	maxMessage int   // of the message decoded
}

func (m boundedMarshaler) NewDecoder(r io.Reader) runtime.Decoder {
	counted := &countingReader{r: r, limit: m.limit}
	dec := m.Marshaler.NewDecoder(counted)
	return runtime.DecoderFunc(func(v any) error {
		counted.n = 0
		err := dec.Decode(v)
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("request body: %w", err)
		}
		// Refused here as bad input: the gRPC server would answer
		// ResourceExhausted, which HTTP clients read as "retry later".
		if msg, ok := v.(proto.Message); ok && err == nil && proto.Size(msg) > m.maxMessage {
			return fmt.Errorf("request body: the message is %d bytes, over the %d-byte limit", proto.Size(msg), m.maxMessage)
		}
		return err
	})
}

// countingReader fails once more than limit bytes were read since n was
// last reset. The decoder reads ahead, so a message may be refused a read
// buffer short of the limit, never above it.
type countingReader struct {
	r     io.Reader
	n     int64
	limit int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.n > c.limit {
		return 0, fmt.Errorf("a message is larger than the %d-byte limit", c.limit)
	}
	if room := c.limit - c.n + 1; int64(len(p)) > room {
		p = p[:room]
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
