package subject

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/fedtoken/fedtoken/core/internal/regularfile"
)

// DefaultKubernetesTokenPath is where the upstream plugin, and fedtoken,
// expect a projected ServiceAccount token: a serviceAccountToken
// projected volume mounted at /var/run/secrets/tokens/oauth2 with
// path "token".
const DefaultKubernetesTokenPath = "/var/run/secrets/tokens/oauth2/token"

// KubernetesSA reads a projected Kubernetes ServiceAccount token.
//
// It does not cache: every call opens the file by path, reads it and
// closes it. The kubelet rotates the token by writing a new
// `..<timestamp>` directory and renaming a `..data` symlink onto the old
// one, so a file kept open, or a token read once, goes stale.
type KubernetesSA struct {
	// Path is the token file; empty means DefaultKubernetesTokenPath.
	Path string
	// Now is the clock of the expiry check; nil means time.Now.
	Now func() time.Time
	// Leeway tolerates clock skew: the token counts as expired once
	// Now() is past exp + Leeway. Zero means none.
	Leeway time.Duration
}

// SubjectToken reads the token file afresh.
func (s KubernetesSA) SubjectToken(ctx context.Context) (string, error) {
	return subjectToken(ctx, s)
}

// String returns "kubernetes_sa <path>".
func (s KubernetesSA) String() string { return TypeKubernetesSA + " " + s.path() }

func (s KubernetesSA) path() string {
	if s.Path == "" {
		return DefaultKubernetesTokenPath
	}
	return s.Path
}

func (s KubernetesSA) read(ctx context.Context) (string, error) {
	b, err := readTokenFile(ctx, s.path())
	if err != nil {
		return "", s.explain(err)
	}
	return cleanToken(s, string(b), "the token file is empty")
}

func (s KubernetesSA) expiry() expiryCheck {
	return expiryCheck{source: TypeKubernetesSA, path: s.path(), now: s.Now, leeway: s.Leeway}
}

// explain turns a read error into one that says what to fix in the pod.
func (s KubernetesSA) explain(err error) error {
	dir, name := filepath.Dir(s.path()), filepath.Base(s.path())
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if fi, derr := os.Stat(dir); derr == nil && fi.IsDir() {
			return sourceError(s, "%w: the directory %s exists but holds no %q: check the path of the serviceAccountToken source in the projected volume, or set tokenPath", err, dir, name)
		}
		return sourceError(s, "%w: the projected ServiceAccount token volume is probably not mounted: "+
			"add a projected volume with a serviceAccountToken source (audience, expirationSeconds, path: %s) mounted at %s, "+
			"or set subjectTokenSource.tokenPath to where the token is", err, name, dir)
	case errors.Is(err, fs.ErrPermission):
		return sourceError(s, "%w: the token is not readable by uid %d: set the pod's securityContext (runAsUser, fsGroup) so the kubelet gives the file to this user", err, os.Getuid())
	case errors.Is(err, errIsDir):
		return sourceError(s, "%w: tokenPath must name the token file inside the volume (e.g. %s)", err, DefaultKubernetesTokenPath)
	default:
		return sourceError(s, "%w", err)
	}
}

// File reads a token from a file.
//
// It does not cache: every call opens, reads and closes the file, so a
// token rewritten in place or swapped by rename is picked up.
type File struct {
	// Path is the token file.
	Path string
	// Now is the clock of the expiry check; nil means time.Now.
	Now func() time.Time
	// Leeway tolerates clock skew: the token counts as expired once
	// Now() is past exp + Leeway. Zero means none.
	Leeway time.Duration
}

// SubjectToken reads the file afresh.
func (s File) SubjectToken(ctx context.Context) (string, error) {
	return subjectToken(ctx, s)
}

// String returns "file <path>".
func (s File) String() string { return TypeFile + " " + s.Path }

func (s File) read(ctx context.Context) (string, error) {
	if s.Path == "" {
		return "", fmt.Errorf("subject: file: no path configured")
	}
	b, err := readTokenFile(ctx, s.Path)
	if err != nil {
		return "", sourceError(s, "%w", err)
	}
	return cleanToken(s, string(b), "the file is empty")
}

func (s File) expiry() expiryCheck {
	return expiryCheck{source: TypeFile, path: s.Path, now: s.Now, leeway: s.Leeway}
}

var (
	errIsDir    = errors.New("is a directory, not a token file")
	errTooLarge = fmt.Errorf("larger than %d KiB, the limit for a subject token: is this the right file?", MaxTokenSize>>10)
)

// openRetries bounds the re-opens after "no such file". Resolving
// token → ..data/token races with the kubelet deleting the previous
// ..<timestamp> directory right after its symlink swap; opening again
// resolves the new ..data.
const openRetries = 4

// readTokenFile reads at most MaxTokenSize bytes from path, opening it
// by path each time and closing it before returning. A FIFO, device or
// socket at path is refused (a read could block forever), and the read
// gives up when ctx ends. Its errors do not repeat the path (callers name
// the source).
func readTokenFile(ctx context.Context, path string) ([]byte, error) {
	for attempt := 0; ; attempt++ {
		b, err := readOnce(ctx, path)
		if err == nil || !errors.Is(err, fs.ErrNotExist) || attempt == openRetries || ctx.Err() != nil {
			return b, err
		}
		runtime.Gosched()
	}
}

func readOnce(ctx context.Context, path string) ([]byte, error) {
	b, err := regularfile.ReadContext(ctx, path, MaxTokenSize)
	switch {
	case errors.Is(err, regularfile.ErrIsDir):
		return nil, errIsDir
	case errors.Is(err, regularfile.ErrTooLarge):
		return nil, errTooLarge
	case err != nil:
		return nil, unwrapPath(err)
	}
	return b, nil
}

// unwrapPath drops the *fs.PathError wrapper, whose message repeats the
// path the caller already names; errors.Is(err, fs.ErrNotExist) still
// holds for the syscall error underneath.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
