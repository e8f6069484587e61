package subject

import "context"

// Static is a fixed subject token, for tests and for library users who
// obtain the token themselves.
//
// It is returned as is, trimmed, on every call: no re-read, and no
// expiry check — its lifetime is the caller's business.
type Static string

// SubjectToken returns the token.
func (s Static) SubjectToken(ctx context.Context) (string, error) {
	return subjectToken(ctx, s)
}

// String returns "static"; never the token.
func (s Static) String() string { return TypeStatic }

// GoString keeps %#v from printing the token.
func (s Static) GoString() string { return "subject.Static(" + TypeStatic + ")" }

func (s Static) read(context.Context) (string, error) {
	if len(s) > MaxTokenSize {
		return "", sourceError(s, "larger than %d KiB, the limit for a subject token", MaxTokenSize>>10)
	}
	return cleanToken(s, string(s), "the token is empty")
}

func (s Static) expiry() expiryCheck { return expiryCheck{skip: true} }
