// Package web is the single-page chat client Parley serves at / : plain
// HTML, CSS and JavaScript, embedded in the binary, speaking the gateway's
// WebSocket protocol at /ws and uploading images to /upload.
package web

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
)

//go:embed static
var static embed.FS

// Handler serves the page and its assets. mediaOrigins are where uploaded
// media are served from besides this server (an S3 bucket's origin): the
// page may load images, audio and video from nowhere else, nor run scripts
// (its own modules only) or connect anywhere but here.
func Handler(mediaOrigins ...string) http.Handler {
	files, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	origins := strings.Join(mediaOrigins, " ")
	policy := "default-src 'self'; img-src 'self' " + origins + "; media-src 'self' " + origins +
		"; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
	serve := http.FileServerFS(files)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", policy)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		serve.ServeHTTP(w, r)
	})
}
