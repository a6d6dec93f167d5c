// Package playground serves GraphiQL from the binary, with no CDN. The
// assets are npm releases (graphiql 3.8.3, react and react-dom 18.3.1,
// graphql-ws 5.16.0 for subscriptions);
// `make playground-assets` fetches them again.
package playground

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
)

//go:embed assets/* index.html
var files embed.FS

// Handler serves the playground at prefix (for example "/playground").
func Handler(prefix, endpoint string) http.Handler {
	assets, _ := fs.Sub(files, "assets")
	static := http.StripPrefix(prefix+"/assets/", http.FileServer(http.FS(assets)))
	page, _ := files.ReadFile("index.html")
	html := strings.NewReplacer("{{prefix}}", prefix, "{{endpoint}}", endpoint).Replace(string(page))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, prefix+"/assets/") {
			w.Header().Set("Cache-Control", "public, max-age=86400")
			static.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self' ws: wss:")
		_, _ = w.Write([]byte(html))
	})
}
