// Package openapi embeds the OpenAPI (Swagger 2.0) document of Parley's REST
// API, generated from api/proto by protoc-gen-openapiv2 (make generate).
package openapi

import (
	_ "embed"
	"net/http"
)

//go:embed parley.swagger.json
var document []byte

// Handler serves the document (GET /openapi.json): Postman and Swagger UI
// import it.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(document)
	})
}
