// Command runcwrap is a runtime for dockerd on restricted VMs: it removes
// CAP_SYS_RESOURCE from the container's capability sets, then runs runc.
//
// Some VMs start every process with a capability bounding set that lacks
// CAP_SYS_RESOURCE. `docker run --privileged` (kind's node containers) asks
// runc for every capability, and runc fails with "unable to apply caps".
// Only when the bounding set lacks the capability, runcwrap deletes it from
// the OCI bundle's config.json (create, run) and from `--process` files
// (exec) before exec'ing the real runc with the same arguments. Everywhere
// else it is a plain pass-through. e2e/scripts/start-dockerd.sh installs it;
// docs/e2e.md explains when it is used.
package main

import (
	"fmt"
	"os"
	"syscall"

	"github.com/fedtoken/fedtoken/e2e/internal/runcwrap"
)

func main() {
	runc := os.Getenv("FEDTOKEN_RUNC")
	if runc == "" {
		runc = "/usr/sbin/runc"
	}
	if !runcwrap.BoundingSetHas(runcwrap.CapSysResource) {
		if err := runcwrap.Rewrite(os.Args[1:]); err != nil {
			fmt.Fprintf(os.Stderr, "runcwrap: %v\n", err)
			os.Exit(1)
		}
	}
	args := append([]string{runc}, os.Args[1:]...)
	err := syscall.Exec(runc, args, os.Environ())
	fmt.Fprintf(os.Stderr, "runcwrap: exec %s: %v\n", runc, err)
	os.Exit(1)
}
