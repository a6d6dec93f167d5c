// Package paging bounds how many rows one request can read, in one place
// for GraphQL and the REST APIs:
//
//   - Bounds gives every connection field (first/after/last/before) a page
//     size when the query names none (DefaultFirst) and refuses first or
//     last above a maximum (MaxFirst for ad-hoc queries), before anything
//     runs, so nested connections are bounded in SQL too.
//   - ComplexityLimit refuses operations over a complexity budget and names
//     the connection to bound.
//   - WithOffset and Interceptor let a REST list read exactly one page of a
//     connection with an OFFSET query (see offset.go).
package paging

import (
	"encoding/json"
	"fmt"
	"math"
)

// Connection page sizes (GitHub's rule for the maximum).
const (
	// DefaultFirst is the page size of a connection asked for without
	// first or last.
	DefaultFirst = 50
	// MaxFirst is the largest first or last an ad-hoc GraphQL query may ask
	// for.
	MaxFirst = 100
)

// Code is the extensions.code of a query over the complexity limit.
const Code = "COMPLEXITY_LIMIT_EXCEEDED"

// toInt reads an argument value as coerced by gqlparser or passed in
// variables by an in-process caller.
func toInt(v any) (int, bool) {
	switch n := v.(type) {
	case int:
		return n, true
	case int32:
		return int(n), true
	case int64:
		return clamp(n), true
	case float64:
		if n != math.Trunc(n) {
			return 0, false
		}
		return clamp(int64(n)), true
	case json.Number:
		i, err := n.Int64()
		return clamp(i), err == nil
	case string:
		var i int64
		_, err := fmt.Sscan(n, &i)
		return clamp(i), err == nil
	}
	return 0, false
}

func clamp(n int64) int {
	return int(max(min(n, math.MaxInt32), math.MinInt32))
}
