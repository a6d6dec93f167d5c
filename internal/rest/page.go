package rest

import (
	"context"
	"fmt"
	"net/http"

	"github.com/meridianplane/meridian/internal/apierr"
	"github.com/meridianplane/meridian/internal/paging"
)

// DefaultMaxPageSize caps pageSize, and pageSize 0 ("every row") returns at most
// this many rows: the first DefaultMaxPageSize, with total still counting every
// row. A declaration's maxSize may lower it.
const DefaultMaxPageSize = 1000

// MaxPage is the largest page number.
const MaxPage = 1 << 20

// ComplexityLimit is the complexity budget of a declared operation (the
// GraphQL limit, --complexity-limit, is for ad-hoc queries): enough for
// every declared list at DefaultMaxPageSize, which a test checks.
const ComplexityLimit = 200_000

// PageDoc and PageSizeDoc describe the paging parameters in OpenAPI.
const PageDoc = "The page number, from 1; a page past the last row is empty. Must be 1 when pageSize is 0."

// PageSizeDoc describes pageSize with its cap.
func PageSizeDoc(maxSize int) string {
	return fmt.Sprintf("Rows per page, at most %d; 0 for every row up to %d (the first %d; total counts them all).", maxSize, maxSize, maxSize)
}

// window is the page a list reads: rows [offset, offset+size).
type window struct{ page, size int }

func (p *Paging) firstVar() string {
	if p.Var != "" {
		return p.Var
	}
	return "first"
}

func (p *Paging) maxSize() int {
	if p.MaxSize > 0 && p.MaxSize < DefaultMaxPageSize {
		return p.MaxSize
	}
	return DefaultMaxPageSize
}

// Params are the page and pageSize query parameters with their limits and
// documentation: what readWindow validates and the OpenAPI document states.
func (p *Paging) Params() []Param {
	one, zero := float64(1), float64(0)
	maxSize, maxPage := float64(p.maxSize()), float64(MaxPage)
	return []Param{
		{Name: "page", In: "query", Type: "integer", Minimum: &one, Maximum: &maxPage, Default: 1, Description: PageDoc},
		{Name: "pageSize", In: "query", Type: "integer", Minimum: &zero, Maximum: &maxSize, Default: p.DefaultSize, Description: PageSizeDoc(p.maxSize())},
	}
}

// readWindow reads page (from 1) and pageSize (0 = every row up to the cap).
// A pageSize over the cap is refused naming pageSize; a page after the first
// with pageSize 0 is refused naming page.
func readWindow(r *http.Request, pg *Paging) (*window, error) {
	params := pg.Params()
	pageP, sizeP := &params[0], &params[1]
	pageP.Default, sizeP.Default = nil, nil // absent: the window's defaults
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
		return nil, apierr.BadInput("page", "must be 1 when pageSize is 0 (every row, up to %d)", pg.maxSize())
	}
	return w, nil
}

// first is how many rows the page query reads.
func (w *window) first(pg *Paging) int {
	if w.size == 0 {
		return pg.maxSize()
	}
	return w.size
}

// apply passes the window to the operation: first (and the declaration's
// further variables) get the page size, and the connection skips the rows
// before the page in its SQL query (paging.WithOffset).
func (w *window) apply(ctx context.Context, vars map[string]any, pg *Paging) context.Context {
	n := w.first(pg)
	setPath(vars, pg.firstVar(), n)
	for _, also := range pg.Also {
		setPath(vars, also, n)
	}
	return paging.WithOffset(ctx, pg.Connection, n, (w.page-1)*n)
}
