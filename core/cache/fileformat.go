package cache

import (
	"encoding/json"
	"time"

	"golang.org/x/oauth2"
)

// fileVersion is the version of the token file format; a file with any
// other version is a miss.
const fileVersion = 1

// fileExtras are the token-response fields kept next to the token.
var fileExtras = [...]string{"id_token", "scope", "issued_token_type", IdentityExtra}

// IdentityExtra is the token extra holding the digest of the identity that
// earned a stored token (see WithIdentity).
const IdentityExtra = "fedtoken_identity"

// withIdentity returns a copy of tok, for the store, carrying the stored
// extras and the identity digest id.
func withIdentity(tok *oauth2.Token, id string) *oauth2.Token {
	extra := map[string]any{IdentityExtra: id}
	for _, k := range fileExtras {
		if v := tok.Extra(k); v != nil && v != "" && k != IdentityExtra {
			extra[k] = v
		}
	}
	return tok.WithExtra(extra)
}

// fileToken is the JSON layout of one token file.
type fileToken struct {
	Version      int            `json:"version"`
	Key          string         `json:"key"`
	AccessToken  string         `json:"access_token"`
	TokenType    string         `json:"token_type,omitempty"`
	RefreshToken string         `json:"refresh_token,omitempty"`
	Expiry       time.Time      `json:"expiry,omitzero"`
	Extra        map[string]any `json:"extra,omitempty"`
}

func encodeToken(key string, tok *oauth2.Token) ([]byte, error) {
	ft := fileToken{
		Version:      fileVersion,
		Key:          key,
		AccessToken:  tok.AccessToken,
		TokenType:    tok.TokenType,
		RefreshToken: tok.RefreshToken,
	}
	if !tok.Expiry.IsZero() {
		ft.Expiry = tok.Expiry.UTC()
	}
	for _, k := range fileExtras {
		if v := tok.Extra(k); v != nil && v != "" {
			if ft.Extra == nil {
				ft.Extra = make(map[string]any, len(fileExtras))
			}
			ft.Extra[k] = v
		}
	}
	data, err := json.MarshalIndent(ft, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

// decodeToken parses a token file written for key, or returns nil if the
// data is not one (corrupt, truncated, other version, other key).
func decodeToken(data []byte, key string) *oauth2.Token {
	var ft fileToken
	if err := json.Unmarshal(data, &ft); err != nil {
		return nil
	}
	if ft.Version != fileVersion || ft.Key != key || ft.AccessToken == "" {
		return nil
	}
	tok := &oauth2.Token{
		AccessToken:  ft.AccessToken,
		TokenType:    ft.TokenType,
		RefreshToken: ft.RefreshToken,
		Expiry:       ft.Expiry,
	}
	if len(ft.Extra) > 0 {
		tok = tok.WithExtra(ft.Extra)
	}
	return tok
}
