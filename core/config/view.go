package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"

	"go.yaml.in/yaml/v2"

	"github.com/fedtoken/fedtoken/core/oauth"
)

// MarshalJSON renders the provider in its native config form, every
// default spelled out, durations as Go duration strings and the client
// secret as [REDACTED] (oauth.Secret never marshals its value).
func (p Provider) MarshalJSON() ([]byte, error) {
	type plain Provider // drops this method, keeps the fields and tags
	return json.Marshal(struct {
		plain
		SyncIntervalMinutes float64 `json:"syncIntervalMinutes,omitempty"`
		HTTPTimeout         string  `json:"httpTimeout"`
		TokenExpirySkew     string  `json:"tokenExpirySkew"`
	}{plain(p), p.SyncInterval.Minutes(), p.HTTPTimeout.String(), p.TokenExpirySkew.String()})
}

// MarshalJSON renders the source with its timeout as a duration string.
func (s SubjectSource) MarshalJSON() ([]byte, error) {
	type plain SubjectSource
	v := struct {
		plain
		Timeout string `json:"timeout,omitempty"`
	}{plain: plain(s)}
	if s.Timeout != 0 {
		v.Timeout = s.Timeout.String()
	}
	return json.Marshal(v)
}

// MarshalJSON renders the file as a native config (whatever shape it was
// read from) with secrets redacted. Parsing the result gives the same
// providers, except that client secrets read "[REDACTED]".
func (f *File) MarshalJSON() ([]byte, error) {
	v := struct {
		Providers map[string]Provider `json:"providers"`
		Cache     Cache               `json:"cache,omitzero"`
		Sidecar   json.RawMessage     `json:"sidecar,omitempty"`
	}{Providers: make(map[string]Provider, len(f.Providers)), Cache: f.Cache, Sidecar: f.Sidecar}
	for _, p := range f.Providers {
		v.Providers[p.ID] = p.viewed()
	}
	return json.Marshal(v)
}

// viewed is p as `fedtoken config view` shows it: the client
// authentication method resolved (auto is client_secret_basic with a
// secret, none without), and the settings the flow does not use left out
// (PKCE, redirect port and interactive endpoints for machine flows; token
// exchange parameters and actor token for other flows; the subject token
// source when nothing presents it; omitClientId when false). Parsing the
// view gives a provider that behaves the same.
func (p Provider) viewed() Provider {
	p = p.clone()
	if p.ClientAuth.Method == oauth.AuthAuto {
		p.ClientAuth.Method = oauth.AuthNone
		if p.HasClientSecret() {
			p.ClientAuth.Method = oauth.AuthClientSecretBasic
		}
	}
	if p.ClientAuth.OmitClientID != nil && !*p.ClientAuth.OmitClientID {
		p.ClientAuth.OmitClientID = nil
	}
	flow := p.AuthFlow.Info()
	uses := func(setting string) bool { return slices.Contains(flow.Uses, setting) }
	if !flow.Interactive {
		p.PKCE, p.RedirectPort, p.RedirectPath = nil, 0, ""
		p.AuthorizationEndpoint, p.DeviceAuthorizationEndpoint = "", ""
	}
	if !uses("redirectPort") {
		p.RedirectPort, p.RedirectPath = 0, ""
	}
	if !uses("tokenExchange") {
		p.TokenExchange, p.ActorTokenSource = TokenExchange{}, nil
	}
	if !flow.Subject && p.ClientAuth.Method != oauth.AuthFederated {
		p.SubjectTokenSource = nil
	}
	return p
}

// View renders the file as a native YAML config with every default
// spelled out and no secret: what `fedtoken config view` prints. Keys keep
// the order of the Go fields (id, name, baseURL, issuer, clientId, …).
func (f *File) View() ([]byte, error) {
	j, err := json.Marshal(f)
	if err != nil {
		return nil, fmt.Errorf("config: view: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.UseNumber()
	tree, err := orderedValue(dec)
	if err != nil {
		return nil, fmt.Errorf("config: view: %w", err)
	}
	y, err := yaml.Marshal(tree)
	if err != nil {
		return nil, fmt.Errorf("config: view: %w", err)
	}
	return y, nil
}

// orderedValue reads one JSON value from dec into a YAML tree that keeps
// the order of object keys. (The YAML emitter, unlike a JSON→YAML
// conversion through the YAML parser, escapes any character and handles
// keys of any length.)
func orderedValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			m := yaml.MapSlice{}
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return nil, err
				}
				v, err := orderedValue(dec)
				if err != nil {
					return nil, err
				}
				m = append(m, yaml.MapItem{Key: k, Value: v})
			}
			_, err := dec.Token() // '}'
			return m, err
		case '[':
			a := []any{}
			for dec.More() {
				v, err := orderedValue(dec)
				if err != nil {
					return nil, err
				}
				a = append(a, v)
			}
			_, err := dec.Token() // ']'
			return a, err
		}
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return i, nil
		}
		f, err := t.Float64()
		if err != nil {
			return nil, fmt.Errorf("number %s out of range", t)
		}
		return f, nil
	}
	return tok, nil // string, bool, nil
}
