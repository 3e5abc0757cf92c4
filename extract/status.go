package extract

import "errors"

// statusCoded carries the HTTP status of a vendor's answer that failed a
// call, for the providers that can do without the call when the vendor
// refuses it for a reason they understand (a route the key's role may not
// read, a route the vendor does not publish); its message is err's.
type statusCoded struct {
	code int
	err  error
}

func (e *statusCoded) Error() string { return e.err.Error() }
func (e *statusCoded) Unwrap() error { return e.err }

// Status is the HTTP status with which the vendor answered a failed call,
// or 0 when no answer came (a network error) or the call was answered
// from elsewhere (a missing capture wraps ErrNotFound, with status 0).
func Status(err error) int {
	if e, ok := errors.AsType[*statusCoded](err); ok {
		return e.code
	}
	return 0
}
