package dist

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fedtoken/fedtoken/release/ociimage"
)

// TestDockerfilesMatchTheBuilder checks that cli/Dockerfile and
// sidecar/Dockerfile, which say they build the same image as
// release/ociimage, still set what the builder sets: the stripped static
// build with the version variable, the CA bundle path, the non-root user,
// the image environment and the labels.
func TestDockerfilesMatchTheBuilder(t *testing.T) {
	for _, c := range Commands {
		if !c.Released {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("..", "..", c.Module, "Dockerfile"))
			if err != nil {
				t.Fatal(err)
			}
			df := string(data)
			want := []string{
				"CGO_ENABLED=0", "-trimpath", "-s -w", c.VersionVar + "=${VERSION}",
				"COPY --from=build /etc/ssl/certs/ca-certificates.crt " + ociimage.CABundlePath,
				"/out/" + c.Name + " /" + c.Name, `ENTRYPOINT ["/` + c.Name + `"]`,
				"USER " + ImageUser, "nonroot:x:65532:65532:", "chmod 1777 /out/tmp", "ENV PATH=/",
				"org.opencontainers.image.title=" + c.Name,
			}
			if c.CommitVar != "" {
				want = append(want, c.CommitVar+"=${REVISION}")
			}
			for _, e := range c.ImageEnv {
				want = append(want, " "+e)
			}
			for k := range Labels(Stamp{Version: "v", Commit: "c"}, time.Unix(1, 0)) {
				want = append(want, k+"=")
			}
			for _, w := range want {
				if !strings.Contains(df, w) {
					t.Errorf("%s/Dockerfile does not contain %q (the image builder sets it)", c.Module, w)
				}
			}
		})
	}
}
