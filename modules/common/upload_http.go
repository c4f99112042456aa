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
// for that code, but 413 for a body over the size cap.
func (m *Module) UploadHandler(authn auth.Authenticator) http.Handler {
	return m.pageUpload(authn, "POST /upload", func(w http.ResponseWriter, r *http.Request, caller auth.Identity, next app.Chunks) error {
		url, err := m.svc.Upload(r.Context(), caller.UserID, next)
		if err != nil {
			return err
		}
		writeJSON(w, map[string]string{"url": url})
		return nil
	})
}

// FileUploadHandler serves POST /upload/file for pages: a file of any
// content (a FileMessage's), posted as UploadHandler's image is, with the
// same size cap, per-user limit and timeouts but no format check. The
// answer is {"url": private link, "size": bytes}; errors are
// UploadHandler's. The file is kept under its digest and a neutral
// extension, whatever its name, and served as a download (never rendered
// on this origin).
func (m *Module) FileUploadHandler(authn auth.Authenticator) http.Handler {
	return m.pageUpload(authn, "POST /upload/file", func(w http.ResponseWriter, r *http.Request, caller auth.Identity, next app.Chunks) error {
		url, size, err := m.svc.UploadFile(r.Context(), caller.UserID, next)
		if err != nil {
			return err
		}
		writeJSON(w, struct {
			URL  string `json:"url"`
			Size int64  `json:"size"`
		}{url, size})
		return nil
	})
}

// UploadLimitsHandler serves GET /upload/limits, public: the configured
// size cap, {"max_upload_bytes": N}, so a page can say it before a file is
// picked.
func (m *Module) UploadLimitsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		writeJSON(w, struct {
			MaxUploadBytes int64 `json:"max_upload_bytes"`
		}{m.svc.MaxUploadBytes()})
	})
}

// storeUpload stores a page's upload, read through next, as caller and
// writes the answer; an error is written by pageUpload.
type storeUpload func(w http.ResponseWriter, r *http.Request, caller auth.Identity, next app.Chunks) error

// pageUpload authenticates a page's upload and hands its body to store in
// chunks, held to the upload timeouts; route names it in the log.
func (m *Module) pageUpload(authn auth.Authenticator, route string, store storeUpload) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			m.writeUploadError(w, r, route, apperr.Unauthenticated("Authorization: want `Bearer <token>`"))
			return
		}
		caller, err := authn.Authenticate(r.Context(), token)
		if err != nil {
			m.writeUploadError(w, r, route, err)
			return
		}
		// A body declared over the cap is refused before any of it is read.
		if err := m.svc.TooLarge(r.ContentLength); err != nil {
			m.writeUploadError(w, r, route, err)
			return
		}
		// A slow body may hold a spool file this long, no longer: each chunk
		// must come within the idle timeout, the whole body within the total.
		idle, total := m.svc.UploadTimeouts()
		deadline := time.Now().Add(total)
		body := http.NewResponseController(w)
		buf := make([]byte, uploadChunk)
		var read int64
		err = store(w, r, caller, func() ([]byte, error) {
			wait := min(idle, time.Until(deadline))
			_ = body.SetReadDeadline(time.Now().Add(wait))
			n, err := io.ReadFull(r.Body, buf)
			read += int64(n)
			switch {
			case n > 0:
				return buf[:n], nil
			case errors.Is(err, os.ErrDeadlineExceeded) && wait < idle:
				return nil, app.ErrUploadTooSlow
			case errors.Is(err, os.ErrDeadlineExceeded):
				return nil, app.ErrUploadStalled
			// The end of the body, if it is all there: a body cut short (a
			// chunk or the Content-Length unfinished, the client gone) is not.
			case errors.Is(err, io.EOF) && r.Context().Err() == nil && (r.ContentLength < 0 || read == r.ContentLength):
				return nil, io.EOF
			}
			return nil, errUploadInterrupted
		})
		if err != nil {
			m.writeUploadError(w, r, route, err)
		}
	})
}

// writeJSON writes v as the JSON answer.
func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// writeUploadError answers err as a gRPC call would be (grpcserver.Status),
// with the HTTP status the REST API gives the code; an upload over the size
// cap is 413, as a REST body over its limit is (its code InvalidArgument).
func (m *Module) writeUploadError(w http.ResponseWriter, r *http.Request, route string, err error) {
	st := grpcserver.Status(r.Context(), m.log.With().Str("http.route", route).Logger(), err)
	httpStatus := rest.HTTPStatus(st.Code())
	if m.svc.IsTooLarge(err) {
		httpStatus = http.StatusRequestEntityTooLarge
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(httpStatus)
	_ = json.NewEncoder(w).Encode(map[string]any{"code": st.Code(), "message": st.Message()})
}
