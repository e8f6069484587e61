package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/fedtoken/fedtoken/core/config"
	"github.com/fedtoken/fedtoken/core/provider"
	"github.com/fedtoken/fedtoken/core/subject"

	"github.com/fedtoken/fedtoken/cli/internal/exitcode"
)

// RawSubjectToken returns the subject token of a provider for a person
// to look at (inspect, doctor): a file-based source (kubernetes_sa, file)
// or env is read directly, so that an expired token is shown rather than
// refused; other sources (github_actions, exec) are asked through the
// provider. The second result describes the source.
func (e *Env) RawSubjectToken(ctx context.Context, p *config.Provider, pr *provider.Provider) (string, string, error) {
	s := p.SubjectTokenSource
	if s == nil || pr.Subject() == nil {
		return "", "", exitcode.New(exitcode.Config, fmt.Errorf("provider %q (authFlow %s) has no subjectTokenSource: there is no subject token to read", p.ID, p.AuthFlow))
	}
	desc := s.String()
	var tok string
	switch s.Type {
	case subject.TypeKubernetesSA, subject.TypeFile:
		path := s.TokenPath
		if s.Type == subject.TypeFile {
			path = s.Path
		}
		b, err := readLimited(path)
		if err != nil {
			// The source explains a missing or unreadable file best.
			if _, serr := pr.Subject().SubjectToken(ctx); serr != nil {
				err = serr
			}
			return "", desc, exitcode.New(exitcode.Subject, err)
		}
		tok = b
	case subject.TypeEnv:
		tok = e.Getenv(s.Env)
	default:
		t, err := pr.Subject().SubjectToken(ctx)
		if err != nil {
			return "", desc, exitcode.New(exitcode.Subject, err)
		}
		tok = t
	}
	tok = strings.TrimSpace(tok)
	if tok == "" {
		return "", desc, exitcode.New(exitcode.Subject, fmt.Errorf("subject: %s: %w", desc, subject.ErrNoToken))
	}
	return tok, desc, nil
}

func readLimited(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, subject.MaxTokenSize+1))
	if err != nil {
		return "", err
	}
	if len(b) > subject.MaxTokenSize {
		return "", errors.New("larger than a subject token can be: is it the right file?")
	}
	return string(b), nil
}
