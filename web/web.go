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

// Handler serves the page and its assets. imageOrigins are where uploaded
// images are served from besides this server (an S3 bucket's origin): the
// page may load images from nowhere else, nor run scripts or connect
// anywhere but here.
func Handler(imageOrigins ...string) http.Handler {
	files, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	policy := "default-src 'self'; img-src 'self' " + strings.Join(imageOrigins, " ") +
		"; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
	serve := http.FileServerFS(files)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", policy)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		serve.ServeHTTP(w, r)
	})
}
