package rest

import (
	"net/http"

	"github.com/meridianplane/meridian/internal/apierr"
)

// DefaultMaxPageSize bounds pageSize when a declaration sets no maximum.
const DefaultMaxPageSize = 1000

type window struct{ page, size int }

func (p *Paging) firstVar() string {
	if p.Var != "" {
		return p.Var
	}
	return "first"
}

// readWindow reads page (from 1) and pageSize (0 = every row).
func readWindow(r *http.Request, pg *Paging) (*window, error) {
	one, zero := float64(1), float64(0)
	maxSize := float64(pg.MaxSize)
	if maxSize == 0 {
		maxSize = DefaultMaxPageSize
	}
	pageP := Param{Name: "page", In: "query", Type: "integer", Minimum: &one, Maximum: ptr(float64(1 << 20))}
	sizeP := Param{Name: "pageSize", In: "query", Type: "integer", Minimum: &zero, Maximum: &maxSize}
	w := &window{page: 1, size: pg.DefaultSize}
	if v, ok, err := pageP.bind(r, nil); err != nil {
		return nil, err
	} else if ok {
		w.page = int(v.(int64))
	}
	if v, ok, err := sizeP.bind(r, nil); err != nil {
		return nil, err
	} else if ok {
		w.size = int(v.(int64))
	}
	if w.size == 0 && w.page > 1 {
		return nil, apierr.BadInput("page", "must be 1 when pageSize is 0 (every row)")
	}
	return w, nil
}

func ptr[T any](v T) *T { return &v }

// slice keeps the window's page of the connection's edges. The operation
// fetched page*size rows from the start.
func (w *window) slice(data any, pg *Paging) {
	if w.size == 0 {
		return
	}
	conn, ok := lookup(data, pg.Connection).(map[string]any)
	if !ok {
		return
	}
	edges, _ := conn["edges"].([]any)
	from := (w.page - 1) * w.size
	if from > len(edges) {
		from = len(edges)
	}
	conn["edges"] = edges[from:]
}
