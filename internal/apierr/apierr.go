// Package apierr is Meridian's one error mapping. Every error that leaves a
// resolver is classified here into a code (GraphQL extensions.code), the input
// field it concerns, and a message safe to show. The GraphQL error presenter
// and each legacy API's envelope read the same classification.
package apierr

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/meridianplane/meridian/ent"
	"github.com/meridianplane/meridian/ent/privacy"
	"github.com/meridianplane/meridian/internal/viewer"
)

// Code is an error class, sent as GraphQL extensions.code.
type Code string

// The error codes of DESIGN.md.
const (
	Unauthenticated    Code = "UNAUTHENTICATED"
	Forbidden          Code = "FORBIDDEN"
	NotFound           Code = "NOT_FOUND"
	BadUserInput       Code = "BAD_USER_INPUT"
	Conflict           Code = "CONFLICT"
	PreconditionFailed Code = "PRECONDITION_FAILED"
	Internal           Code = "INTERNAL"
	// UnsupportedMediaType is a REST request body of the wrong content type.
	UnsupportedMediaType Code = "UNSUPPORTED_MEDIA_TYPE"
	// MethodNotAllowed is a REST request with a method its path does not take.
	MethodNotAllowed Code = "METHOD_NOT_ALLOWED"
)

// Error is a classified error.
type Error struct {
	Code    Code
	Field   string // the input field, camelCase, when there is one
	Message string
	Err     error // the cause, logged, never shown
}

func (e *Error) Error() string {
	if e.Field != "" && !strings.HasPrefix(e.Message, e.Field+":") {
		return e.Field + ": " + e.Message
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an error of the given code.
func New(code Code, format string, a ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, a...)}
}

// For returns an error of the given code naming field.
func For(code Code, field, format string, a ...any) *Error {
	return &Error{Code: code, Field: field, Message: fmt.Sprintf(format, a...)}
}

// NotFoundOr turns ent's not-found error into NOT_FOUND naming field; other
// errors pass unchanged.
func NotFoundOr(field string, err error) error {
	if ent.IsNotFound(err) {
		return &Error{Code: NotFound, Field: field, Message: field + ": not found", Err: err}
	}
	return err
}

// BadInput returns a BAD_USER_INPUT error naming field.
func BadInput(field, format string, a ...any) *Error {
	return &Error{Code: BadUserInput, Field: field, Message: fmt.Sprintf(format, a...)}
}

// Is reports whether err classifies as code.
func Is(err error, code Code) bool { return Classify(context.Background(), err).Code == code }

// Classify maps any error onto an *Error. ctx tells an unauthenticated caller
// (UNAUTHENTICATED) from one who lacks permission (FORBIDDEN).
func Classify(ctx context.Context, err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var fe interface {
		error
		InputField() string
	}
	if errors.As(err, &fe) {
		return &Error{Code: BadUserInput, Field: fe.InputField(), Message: fe.Error(), Err: err}
	}
	var (
		nf *ent.NotFoundError
		ve *ent.ValidationError
		ce *ent.ConstraintError
	)
	switch {
	case errors.As(err, &nf):
		return &Error{Code: NotFound, Message: nf.Error(), Err: err}
	case errors.As(err, &ve):
		f := camel(ve.Name)
		return &Error{Code: BadUserInput, Field: f, Message: fieldMessage(f, ve.Unwrap()), Err: err}
	case errors.As(err, &ce):
		return &Error{Code: Conflict, Message: conflictMessage(ce), Err: err}
	case errors.Is(err, privacy.Deny):
		if viewer.FromContext(ctx) == nil {
			if f := viewer.Failure(ctx); f != nil {
				return &Error{Code: Unauthenticated, Message: f.Error(), Err: err}
			}
			return &Error{Code: Unauthenticated, Message: "authentication required", Err: err}
		}
		return &Error{Code: Forbidden, Message: denyMessage(err), Err: err}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return &Error{Code: Internal, Message: "request cancelled or timed out", Err: err}
	}
	return &Error{Code: Internal, Message: "internal error", Err: err}
}

func fieldMessage(field string, cause error) string {
	msg := "invalid value"
	if cause != nil {
		msg = cause.Error()
		// ent says `ent: validator failed for field "User.name": <reason>`.
		if i := strings.LastIndex(msg, "\": "); i >= 0 {
			msg = msg[i+3:]
		}
		msg = strings.TrimPrefix(msg, "ent: ")
	}
	return fmt.Sprintf("%s: %s", field, msg)
}

func conflictMessage(ce *ent.ConstraintError) string {
	m := strings.ToLower(ce.Error())
	if strings.Contains(m, "unique") || strings.Contains(m, "duplicate") {
		return "already exists"
	}
	if strings.Contains(m, "foreign key") {
		return "refers to or is referred to by other records"
	}
	return "conflicts with stored data"
}

func denyMessage(err error) string {
	m := err.Error()
	// privacy.Denyf errors read "<reason>: ent/privacy: deny rule".
	if reason, ok := strings.CutSuffix(m, ": "+privacy.Deny.Error()); ok && reason != "" {
		if i := strings.LastIndex(reason, ": "); i >= 0 && strings.HasPrefix(reason, "ent/privacy") {
			reason = reason[i+2:]
		}
		return "permission denied: " + reason
	}
	return "permission denied"
}

// camel turns an ent field name (snake_case) into its GraphQL name.
func camel(s string) string {
	parts := strings.Split(s, "_")
	for i := 1; i < len(parts); i++ {
		if parts[i] == "id" {
			parts[i] = "ID"
		} else if parts[i] != "" {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
	}
	return strings.Join(parts, "")
}
