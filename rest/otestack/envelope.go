// Package otestack serves the OTE-Stack open API v1 through the graph: the
// declarations in api.yaml (compiled into zz_generated.go) and this
// package's one envelope writer.
package otestack

import (
	"net/http"

	"github.com/meridianplane/meridian/internal/apierr"
	"github.com/meridianplane/meridian/internal/rest"
)

// API returns the OTE-Stack API for rest.Mount.
func API() rest.API {
	return rest.API{Name: "otestack", Prefix: Prefix, Endpoints: Endpoints, Envelope: Envelope{}}
}

// Envelope writes {"code": <status>, "message": ..., <response keys>}; the
// HTTP status equals code.
type Envelope struct{}

// Status maps an error code onto the API's status codes.
func Status(c apierr.Code) int {
	switch c {
	case apierr.Unauthenticated:
		return http.StatusUnauthorized
	case apierr.Forbidden:
		return http.StatusForbidden
	case apierr.NotFound:
		return http.StatusNotFound
	case apierr.Conflict, apierr.PreconditionFailed:
		return http.StatusConflict
	case apierr.BadUserInput:
		return http.StatusUnprocessableEntity
	case apierr.UnsupportedMediaType:
		return http.StatusUnsupportedMediaType
	}
	return http.StatusInternalServerError
}

// Success implements rest.Envelope.
func (Envelope) Success(w http.ResponseWriter, status int, body *rest.Object) {
	out := &rest.Object{}
	out.Set("code", status)
	out.Set("message", "success")
	for _, k := range body.Keys {
		out.Set(k, body.Values[k])
	}
	rest.WriteJSON(w, status, out)
}

// Failure implements rest.Envelope.
func (Envelope) Failure(w http.ResponseWriter, e *apierr.Error) {
	status := Status(e.Code)
	out := &rest.Object{}
	out.Set("code", status)
	out.Set("message", e.Error())
	rest.WriteJSON(w, status, out)
}
