// Package web is the single-page chat client Parley serves at / : plain
// HTML, CSS and JavaScript, embedded in the binary, speaking the gateway's
// WebSocket protocol at /ws and uploading images to /upload.
package web

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed static
var static embed.FS

// Handler serves the page and its assets.
func Handler() http.Handler {
	files, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	return http.FileServerFS(files)
}
