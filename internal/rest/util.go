package rest

import (
	"sort"
	"strconv"
)

func sortStrings(s []string) {
	sort.Slice(s, func(i, j int) bool {
		a, ea := strconv.Atoi(s[i])
		b, eb := strconv.Atoi(s[j])
		if ea == nil && eb == nil {
			return a < b
		}
		return s[i] < s[j]
	})
}

// SortedKeys returns the keys of m in order.
func SortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
