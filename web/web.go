// Package web holds the console. dist/ is its build output, embedded in the
// binary; for now it is a placeholder page linking the playground and APIs.
package web

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed dist
var dist embed.FS

// Handler serves the console.
func Handler() http.Handler {
	sub, _ := fs.Sub(dist, "dist")
	return http.FileServer(http.FS(sub))
}
