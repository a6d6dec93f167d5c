package graph

import (
	"reflect"

	"entgo.io/contrib/entgql"

	"github.com/meridianplane/meridian/graph/generated"
	"github.com/meridianplane/meridian/internal/paging"
)

var cursorType = reflect.TypeOf((*entgql.Cursor[int])(nil))

// setComplexity gives every connection field (recognised by its
// after/first/before/last arguments) a complexity of its page size times its
// children's, so that a complexity limit bounds `first:` and nesting alike.
// gqlgen's default counts a connection as one however many rows it returns.
func setComplexity(root *generated.ComplexityRoot) {
	rv := reflect.ValueOf(root).Elem()
	for i := 0; i < rv.NumField(); i++ {
		typ := rv.Field(i)
		for j := 0; j < typ.NumField(); j++ {
			f := typ.Field(j)
			ft := f.Type()
			if ft.Kind() != reflect.Func || ft.NumIn() < 5 || ft.In(1) != cursorType || ft.In(3) != cursorType {
				continue
			}
			f.Set(reflect.MakeFunc(ft, func(args []reflect.Value) []reflect.Value {
				child := int(args[0].Int())
				n := paging.DefaultFirst // paging.Bounds writes it into the query; this is for other callers
				if p := args[2]; !p.IsNil() {
					n = int(p.Elem().Int())
				} else if p := args[4]; !p.IsNil() {
					n = int(p.Elem().Int())
				}
				n = max(n, 1)
				return []reflect.Value{reflect.ValueOf(1 + n*child)}
			}))
		}
	}
}
