package cmd

import (
	"context"
	"errors"
	"fmt"

	"github.com/fedtoken/fedtoken/core/config"
	"github.com/fedtoken/fedtoken/core/provider"
	"github.com/fedtoken/fedtoken/core/subject"

	"github.com/fedtoken/fedtoken/cli/internal/exitcode"
)

// InspectSubject reads the subject token of a provider once, through
// core (subject.Inspect: the source's own limits, checks and error
// messages), for a person to look at (inspect, doctor). An expired JWT is
// described rather than refused. The second result describes the source
// as its configuration does.
func (e *Env) InspectSubject(ctx context.Context, p *config.Provider, pr *provider.Provider) (subject.Info, string, error) {
	s := p.SubjectTokenSource
	if s == nil || pr.Subject() == nil {
		return subject.Info{}, "", exitcode.New(exitcode.Config, fmt.Errorf("provider %q (authFlow %s) has no subjectTokenSource: there is no subject token to read", p.ID, p.AuthFlow))
	}
	desc := s.String()
	info, err := subject.Inspect(ctx, pr.Subject())
	var expired *subject.ExpiredError
	if err != nil && !errors.As(err, &expired) {
		return info, desc, exitcode.New(exitcode.Subject, err)
	}
	return info, desc, nil
}
