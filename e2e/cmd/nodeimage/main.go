// Command nodeimage writes the image tarball of one control-plane component
// for the kind node image (e2e/scripts/build-kind-node.sh), without a
// container daemon: the binary on PATH plus the shared objects it loads.
//
//	nodeimage -binary kube-apiserver -ref registry.k8s.io/kube-apiserver:v1.34.3 -out kube-apiserver.tar
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/fedtoken/fedtoken/e2e/internal/nodeimage"
)

func main() {
	var o nodeimage.ComponentOptions
	flag.StringVar(&o.Binary, "binary", "", "the component's binary (its base name is the command)")
	flag.StringVar(&o.Ref, "ref", "", "image reference to tag the image with")
	flag.StringVar(&o.Out, "out", "", "image tarball to write")
	flag.Parse()
	if o.Binary == "" || o.Ref == "" || o.Out == "" {
		fmt.Fprintln(os.Stderr, "nodeimage: -binary, -ref and -out are required")
		os.Exit(2)
	}
	if err := nodeimage.BuildComponent(o); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
