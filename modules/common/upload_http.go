package common

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/parley-im/parley/platform/apperr"
	"github.com/parley-im/parley/platform/auth"
	"github.com/parley-im/parley/platform/rest"
)

// uploadChunk is how much of a request body is read at a time.
const uploadChunk = 64 << 10

// uploadDeadline bounds reading one upload's body (10 MiB at 20 KB/s).
const uploadDeadline = 10 * time.Minute

var errUploadInterrupted = apperr.InvalidArgument("content: the upload was interrupted before its end")

// UploadHandler serves POST /upload for pages, which cannot call the
// UploadImage stream: the body is the image, the caller's token is in
// `Authorization: Bearer …`, and the answer is {"url": …}. It stores
// through the same checks as UploadImage (size, content sniffing); an
// error is {"code": gRPC code, "message": …} with the REST API's HTTP status
// for that code.
func (m *Module) UploadHandler(authn auth.Authenticator) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			m.writeUploadError(w, apperr.Unauthenticated("Authorization: want `Bearer <token>`"))
			return
		}
		caller, err := authn.Authenticate(r.Context(), token)
		if err != nil {
			m.writeUploadError(w, err)
			return
		}
		// A slow body may hold a spool file this long, no longer.
		_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(uploadDeadline))
		buf := make([]byte, uploadChunk)
		url, err := m.svc.Upload(r.Context(), caller.UserID, func() ([]byte, error) {
			n, err := io.ReadFull(r.Body, buf)
			switch {
			case n > 0:
				return buf[:n], nil
			case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
				return nil, io.EOF
			}
			return nil, errUploadInterrupted // the client went away or was too slow
		})
		if err != nil {
			m.writeUploadError(w, err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"url": url})
	})
}

func (m *Module) writeUploadError(w http.ResponseWriter, err error) {
	code, message := codes.Internal, "internal error"
	var appErr *apperr.Error
	if errors.As(err, &appErr) {
		code, message = appErr.Code, appErr.Message
	} else {
		m.log.Error().Err(err).Msg("upload over HTTP")
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(rest.HTTPStatus(code))
	_ = json.NewEncoder(w).Encode(map[string]any{"code": code, "message": message})
}
