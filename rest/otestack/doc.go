// Package otestack serves the OTE-Stack open API v1 through the graph: the
// declarations in api.yaml, compiled into zz_generated.go (its routes, its
// envelope as declared shapes, its authentication) and openapi.json.
package otestack
