// Package netns gives a local e2e run a network namespace of its own: it
// creates a named namespace (ip netns add, loopback up), runs a process
// inside it, removes the namespaces of runs that died, and finds the
// processes of a run that are not where they should be.
//
// Every process of a run carries Env=<namespace name> in its environment
// (inherited by everything it starts), which is how Outside finds them.
package netns

// Env names the variable that holds, in the process started inside the
// namespace and everything it starts, the namespace's name.
const Env = "E2E_NETNS"

// Prefix begins the name of every namespace this package creates; the rest
// is the pid of the process that created it (see Name).
const Prefix = "fedtoken-e2e-"

// Dir is where iproute2 keeps named network namespaces.
const Dir = "/var/run/netns"
