// Command pause is the pod sandbox process of the e2e cluster: it waits for
// SIGINT or SIGTERM and exits. install-peers.sh builds it statically and packs
// it as registry.k8s.io/pause:3.10, since no image can be pulled here.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
}
