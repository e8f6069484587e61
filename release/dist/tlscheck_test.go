package dist

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/fedtoken/fedtoken/release/ociimage"
)

// TestSidecarImageTLS builds the sidecar image for this machine the way
// `make images` and `make release-snapshot` do, takes the binary and the CA
// bundle out of the image and checks that the binary trusts exactly that
// bundle (CheckSidecarTLS).
func TestSidecarImageTLS(t *testing.T) {
	if runtime.GOOS != "linux" || (runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64") {
		t.Skip("images are linux/amd64 and linux/arm64")
	}
	if _, err := os.Stat(DefaultCABundle); err != nil {
		t.Skipf("no CA bundle at %s (apt-get install ca-certificates): %v", DefaultCABundle, err)
	}
	var sidecar Command
	for _, c := range Commands {
		if c.Name == "fedtoken-sidecar" {
			sidecar = c
		}
	}
	bin := filepath.Join(t.TempDir(), "fedtoken-sidecar")
	if err := Build(t.Context(), filepath.Join("..", ".."), sidecar, Host, Stamp{Version: "v0.0.0-test"}, bin); err != nil {
		t.Fatal(err)
	}
	img, err := ociimage.Image(ociimage.Options{Binary: bin, User: ImageUser, CABundle: DefaultCABundle, Labels: Labels(Stamp{Version: "v0.0.0-test"}, time.Time{})})
	if err != nil {
		t.Fatal(err)
	}
	files, err := ociimage.Files(img)
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckSidecarTLS(t.Context(), files); err != nil {
		t.Fatal(err)
	}
}
