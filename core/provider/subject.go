package provider

import (
	"fmt"
	"net/http"

	"github.com/fedtoken/fedtoken/core/config"
	"github.com/fedtoken/fedtoken/core/subject"
)

// newSubject maps a configured subject source onto its implementation.
// Every implementation re-reads the token on each acquisition.
func newSubject(s *config.SubjectSource, hc *http.Client) (subject.Source, error) {
	switch s.Type {
	case subject.TypeKubernetesSA:
		return &subject.KubernetesSA{Path: s.TokenPath}, nil
	case subject.TypeFile:
		return &subject.File{Path: s.Path}, nil
	case subject.TypeEnv:
		return &subject.Env{Name: s.Env}, nil
	case subject.TypeGitHubActions:
		return &subject.GitHubActions{Audience: s.Audience, HTTPClient: hc}, nil
	case subject.TypeExec:
		return &subject.Exec{Command: s.Command, Timeout: s.Timeout}, nil
	}
	return nil, fmt.Errorf("type %q is not supported", s.Type)
}
