package common

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/parley-im/parley/modules/common/internal/app"
	"github.com/parley-im/parley/platform/apperr"
	"github.com/parley-im/parley/platform/auth"
	"github.com/parley-im/parley/platform/grpcserver"
	"github.com/parley-im/parley/platform/rest"
)

// uploadChunk is how much of a request body is read at a time.
const uploadChunk = 64 << 10

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
			m.writeUploadError(w, r, apperr.Unauthenticated("Authorization: want `Bearer <token>`"))
			return
		}
		caller, err := authn.Authenticate(r.Context(), token)
		if err != nil {
			m.writeUploadError(w, r, err)
			return
		}
		// A slow body may hold a spool file this long, no longer: each chunk
		// must come within the idle timeout, the whole body within the total.
		idle, total := m.svc.UploadTimeouts()
		deadline := time.Now().Add(total)
		body := http.NewResponseController(w)
		buf := make([]byte, uploadChunk)
		url, err := m.svc.Upload(r.Context(), caller.UserID, func() ([]byte, error) {
			wait := min(idle, time.Until(deadline))
			_ = body.SetReadDeadline(time.Now().Add(wait))
			n, err := io.ReadFull(r.Body, buf)
			switch {
			case n > 0:
				return buf[:n], nil
			case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
				return nil, io.EOF
			case errors.Is(err, os.ErrDeadlineExceeded) && wait < idle:
				return nil, app.ErrUploadTooSlow
			case errors.Is(err, os.ErrDeadlineExceeded):
				return nil, app.ErrUploadStalled
			}
			return nil, errUploadInterrupted // the client went away
		})
		if err != nil {
			m.writeUploadError(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"url": url})
	})
}

// writeUploadError answers err as a gRPC call would be (grpcserver.Status),
// with the HTTP status the REST API gives the code.
func (m *Module) writeUploadError(w http.ResponseWriter, r *http.Request, err error) {
	st := grpcserver.Status(r.Context(), m.log.With().Str("http.route", "POST /upload").Logger(), err)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(rest.HTTPStatus(st.Code()))
	_ = json.NewEncoder(w).Encode(map[string]any{"code": st.Code(), "message": st.Message()})
}
