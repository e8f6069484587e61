package config

import "strconv"

// FieldError is one invalid or missing field. Parse returns every
// FieldError it finds, joined with errors.Join; use errors.As to get the
// first or unwrap the join (Unwrap() []error) to get them all.
type FieldError struct {
	// File is the path or name of the config file.
	File string
	// Path is the JSON path of the field, e.g.
	// provider.miaou.options.oauth2.subjectTokenSource.type.
	Path string
	// Msg says what is wrong and what is allowed. It never holds a secret.
	Msg string
}

// Error formats as `config <file>: <path>: <msg>`.
func (e *FieldError) Error() string {
	return "config " + e.File + ": " + e.Path + ": " + e.Msg
}

// fieldErrors returns the FieldErrors inside err (as returned by Parse or
// Load), in the order they were found.
func fieldErrors(err error) []*FieldError {
	var out []*FieldError
	var walk func(error)
	walk = func(err error) {
		if err == nil {
			return
		}
		switch u := err.(type) {
		case *FieldError:
			out = append(out, u)
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	walk(err)
	return out
}

// quote shows a user-supplied (non-secret) value in an error, shortened so
// that a token pasted into the wrong field is not reproduced whole.
func quote(s string) string {
	const limit = 40
	if r := []rune(s); len(r) > limit {
		return strconv.Quote(string(r[:limit])) + "…"
	}
	return strconv.Quote(s)
}
