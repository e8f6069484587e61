package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/fedtoken/fedtoken/core/internal/regularfile"
	"github.com/fedtoken/fedtoken/core/oauth"
)

// maxSecretFileSize bounds a clientSecretFile.
const maxSecretFileSize = 64 << 10

// HasClientSecret reports whether any client secret source is configured
// (clientSecret, clientSecretFile or clientSecretEnv).
func (p *Provider) HasClientSecret() bool {
	return p.ClientSecret != "" || p.ClientSecretFile != "" || p.ClientSecretEnv != ""
}

// LoadClientSecret returns the client secret: ClientSecret as written, or
// the contents of ClientSecretFile (read now, surrounding whitespace
// trimmed, so a rotated mounted Secret is picked up), or the value of the
// environment variable ClientSecretEnv. It returns "" and no error when no
// secret is configured. Errors name the file or variable, never the value.
func (p *Provider) LoadClientSecret() (oauth.Secret, error) {
	switch {
	case p.ClientSecret != "":
		return p.ClientSecret, nil
	case p.ClientSecretFile != "":
		f, err := regularfile.Open(p.ClientSecretFile)
		if err != nil {
			var pe *fs.PathError
			if !errors.As(err, &pe) {
				err = fmt.Errorf("%s %w", p.ClientSecretFile, err)
			}
			return "", fmt.Errorf("config: provider %s: clientSecretFile: %w", p.ID, err)
		}
		defer f.Close()
		b, err := io.ReadAll(io.LimitReader(f, maxSecretFileSize+1))
		if err != nil {
			return "", fmt.Errorf("config: provider %s: clientSecretFile: read %s: %w", p.ID, p.ClientSecretFile, err)
		}
		if len(b) > maxSecretFileSize {
			return "", fmt.Errorf("config: provider %s: clientSecretFile %s: larger than %d bytes; is it the right file?", p.ID, p.ClientSecretFile, maxSecretFileSize)
		}
		s := strings.TrimSpace(string(b))
		if s == "" {
			return "", fmt.Errorf("config: provider %s: clientSecretFile %s is empty", p.ID, p.ClientSecretFile)
		}
		return oauth.Secret(s), nil
	case p.ClientSecretEnv != "":
		s, ok := os.LookupEnv(p.ClientSecretEnv)
		if !ok {
			return "", fmt.Errorf("config: provider %s: clientSecretEnv: $%s is not set", p.ID, p.ClientSecretEnv)
		}
		if s = strings.TrimSpace(s); s == "" {
			return "", fmt.Errorf("config: provider %s: clientSecretEnv: $%s is empty", p.ID, p.ClientSecretEnv)
		}
		return oauth.Secret(s), nil
	}
	return "", nil
}
