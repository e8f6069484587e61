package config

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// File is a parsed config file.
type File struct {
	// Providers, sorted by ID (in both shapes, whatever the order in the file).
	Providers []Provider
	// Cache is the token cache section.
	Cache Cache
	// Sidecar is the native "sidecar" section, kept as JSON for the sidecar
	// module to decode; nil when absent (always nil for opencode.json).
	Sidecar json.RawMessage
	// Path is the file path given to Load, or the name given to Parse.
	Path string
	// Format is FormatNative or FormatOpenCode.
	Format string
	// LogLevel is the log level the file asks for (opencode.json:
	// pluginConfig.oauth2ModelSync.logLevel), one of debug, info, warn,
	// error (upstream trace reads as debug); "" when unset. Command-line
	// flags win over it.
	LogLevel string
	// Warnings lists tolerated oddities ("path: message"): unknown fields in
	// fedtoken's own sections, fields ignored by the chosen flow or source
	// type. opencode's own fields outside the OAuth blocks are not reported.
	Warnings []string
}

// Cache is the token cache section.
type Cache struct {
	// Dir is the cache directory; "" means the cache package's default
	// ($FEDTOKEN_CACHE_DIR, else $XDG_CACHE_HOME/fedtoken, else ~/.cache/fedtoken).
	Dir string `json:"dir,omitempty"`
	// Namespace is mixed into every cache key, so two configs sharing a
	// directory never share tokens; opencode.json: cacheNamespace.
	Namespace string `json:"namespace,omitempty"`
}

// The two config shapes (File.Format).
const (
	FormatNative   = "native"
	FormatOpenCode = "opencode"
)

// Provider returns a deep copy of the provider with the given id. An empty id
// selects the only provider and fails when there are several. The error
// lists the available ids.
func (f *File) Provider(id string) (*Provider, error) {
	if id == "" {
		if len(f.Providers) == 1 {
			p := f.Providers[0].clone()
			return &p, nil
		}
		return nil, fmt.Errorf("config %s: %d providers, choose one of: %s", f.Path, len(f.Providers), f.ids())
	}
	for i := range f.Providers {
		if f.Providers[i].ID == id {
			p := f.Providers[i].clone()
			return &p, nil
		}
	}
	return nil, fmt.Errorf("config %s: no provider %q; available: %s", f.Path, id, f.ids())
}

func (f *File) ids() string {
	if len(f.Providers) == 0 {
		return "(none)"
	}
	ids := make([]string, len(f.Providers))
	for i, p := range f.Providers {
		ids[i] = p.ID
	}
	return strings.Join(ids, ", ")
}

// clone returns a copy of p that shares no slice, map or pointer with it.
func (p Provider) clone() Provider {
	p.Scopes = slices.Clone(p.Scopes)
	p.ExtraParams = maps.Clone(p.ExtraParams)
	p.NameOverrides = maps.Clone(p.NameOverrides)
	p.TokenExchange.Audience = slices.Clone(p.TokenExchange.Audience)
	p.TokenExchange.Resource = slices.Clone(p.TokenExchange.Resource)
	p.SubjectTokenSource = p.SubjectTokenSource.clone()
	p.ActorTokenSource = p.ActorTokenSource.clone()
	if p.PKCE != nil {
		p.PKCE = new(*p.PKCE)
	}
	if p.ClientAuth.OmitClientID != nil {
		p.ClientAuth.OmitClientID = new(*p.ClientAuth.OmitClientID)
	}
	return p
}

func (s *SubjectSource) clone() *SubjectSource {
	if s == nil {
		return nil
	}
	c := *s
	c.Command = slices.Clone(s.Command)
	return &c
}
