//go:build e2e

package local

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/fedtoken/fedtoken/e2e/cluster"
	"github.com/fedtoken/fedtoken/e2e/internal/netns"
	"github.com/fedtoken/fedtoken/e2e/internal/proc"
	"github.com/fedtoken/fedtoken/e2e/peers"
)

// Isolate runs the local backend in a network namespace of its own. Called
// first thing by a test binary (the suites' TestMain), it creates a
// namespace named fedtoken-e2e-<pid> with only loopback in it, runs this
// same binary again inside it with the same arguments (netns.Command), and
// returns that run's exit code with ran set. Everything the run starts —
// etcd, the Kubernetes components, containerd and its CNI bridge,
// Keycloak, Dex, mockidp — and every connection the tests make then live in
// that namespace; outside it nothing listens and no interface or route is
// added.
//
// While the inner run goes on, Isolate checks every two seconds, from the
// host's namespace, that no process of the run is in the host's namespace
// and that the host has neither the bridge nor an address of the pod
// subnet; a breach fails the run even if every test passed.
//
// Inside the namespace (the inner run), off Linux or without root Isolate
// returns ran false and the caller goes on (Start's Preflight says why the
// backend cannot run, if it cannot). When the namespace cannot be created
// the error is a cluster.UnavailableError naming what is missing.
func Isolate(o Options) (code int, ran bool, err error) {
	if name := os.Getenv(netns.Env); name != "" {
		if err := netns.Inside(name); err != nil {
			return 0, false, fmt.Errorf("local: %s=%s: %w", netns.Env, name, err)
		}
		return 0, false, nil
	}
	if runtime.GOOS != "linux" || os.Geteuid() != 0 {
		return 0, false, nil
	}
	c, err := New(o)
	if err != nil {
		return 0, false, err
	}
	logf := c.o.Logf
	if m := peers.Missing("/usr/sbin/ip", netns.Nsenter); len(m) > 0 {
		return 0, false, fmt.Errorf("local: missing %s (iproute2, util-linux): %s", strings.Join(m, ", "), peers.InstallHint)
	}
	ctx := context.Background()
	for _, n := range netns.RemoveStale(ctx) {
		logf("local: deleted network namespace %s of a run that died", n)
	}
	name := netns.Name(os.Getpid())
	if err := netns.Create(ctx, name); err != nil {
		return 0, false, &cluster.UnavailableError{Backend: "local", Reason: fmt.Sprintf(
			"cannot create its network namespace (%v). The local backend runs every component, IdP and test connection "+
				"in a network namespace of its own: it needs CAP_SYS_ADMIN and a kernel with network namespaces "+
				"(CONFIG_NET_NS); on a host without them use E2E_CLUSTER=kind", err)}
	}
	defer func() {
		// What the inner run could not stop (it was killed) dies now, and
		// with its last process the namespace.
		if pids := proc.ReapOrphans(proc.OwnerEnv); len(pids) > 0 {
			logf("local: killed %d processes the run in %s left (pids %v)", len(pids), name, pids)
		}
		if err := netns.Delete(context.Background(), name); err != nil {
			logf("local: %v", err)
		}
	}()
	w, err := c.newIsolationWatch(name)
	if err != nil {
		return 0, false, err
	}
	exe, err := os.Executable()
	if err != nil {
		return 0, false, fmt.Errorf("local: %w", err)
	}
	cmd := netns.Command(name, exe, os.Args[1:]...)
	cmd.Env = append(os.Environ(), netns.Env+"="+name)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	logf("local: running the suites in network namespace %s (look inside: ip netns exec %s ss -ltnp)", name, name)

	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGQUIT, syscall.SIGHUP)
	defer signal.Stop(sigs)
	// Pdeathsig fires when the thread that started the inner run exits:
	// keep this goroutine on it until the run is over.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := cmd.Start(); err != nil {
		return 0, false, fmt.Errorf("local: run the suites in network namespace %s: %w", name, err)
	}
	w.launcher = cmd.Process.Pid
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(2 * time.Second)
		defer tick.Stop()
		for {
			w.check()
			select {
			case s := <-sigs:
				_ = cmd.Process.Signal(s) // the inner run handles it as this binary would
			case <-tick.C:
			case <-stop:
				return
			}
		}
	}()
	runErr := cmd.Wait()
	close(stop)
	wg.Wait()
	w.check()
	code = 0
	var exitErr *exec.ExitError
	switch {
	case runErr == nil:
	case errors.As(runErr, &exitErr):
		code = exitErr.ExitCode()
		if code < 0 {
			logf("local: the run in %s ended by %v", name, exitErr)
			code = 1
		}
	default:
		return 0, false, fmt.Errorf("local: run the suites in network namespace %s: %w", name, runErr)
	}
	if breaches := w.report(logf); breaches && code == 0 {
		code = 1
	}
	return code, true, nil
}

// isolationWatch samples, from the host's namespace, what a run in its own
// namespace must never do there.
type isolationWatch struct {
	name   string
	bridge string
	subnet *net.IPNet
	host   netns.ID
	before map[string]bool // host addresses in the pod subnet before the run
	// launcher is the pid of the nsenter that starts the inner run. It
	// carries the run's environment from the start but enters the
	// namespace only a moment later, then execs the test binary: until
	// then it is still nsenter, and it is not a breach.
	launcher int

	mu       sync.Mutex
	samples  int
	members  map[int]bool
	breaches []string
	start    time.Time
}

func (c *Cluster) newIsolationWatch(name string) (*isolationWatch, error) {
	host, err := netns.Self()
	if err != nil {
		return nil, fmt.Errorf("local: %w", err)
	}
	_, subnet, _ := net.ParseCIDR(c.o.PodSubnet)
	w := &isolationWatch{name: name, bridge: c.o.Bridge, subnet: subnet, host: host, members: map[int]bool{}, start: time.Now()}
	w.before = map[string]bool{}
	for _, a := range w.subnetAddrs() {
		w.before[a] = true
	}
	return w, nil
}

// subnetAddrs lists "iface addr" for every host address in the pod subnet.
func (w *isolationWatch) subnetAddrs() []string {
	var out []string
	ifs, _ := net.Interfaces()
	for _, ifc := range ifs {
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && w.subnet.Contains(ipn.IP) {
				out = append(out, ifc.Name+" "+ipn.String())
			}
		}
	}
	return out
}

func (w *isolationWatch) check() {
	members, outside := netns.Outside(w.name, w.host)
	var found []string
	for _, p := range outside {
		if p.Entering(w.launcher) {
			continue
		}
		found = append(found, p.String()+" is in the host's network namespace")
	}
	if _, err := net.InterfaceByName(w.bridge); err == nil {
		found = append(found, "the host's network namespace has the bridge "+w.bridge)
	}
	for _, a := range w.subnetAddrs() {
		if !w.before[a] {
			found = append(found, "the host's network namespace has the pod subnet's address "+a)
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.samples++
	for _, p := range members {
		w.members[p] = true
	}
	for _, f := range found {
		if !slices.Contains(w.breaches, f) {
			w.breaches = append(w.breaches, f)
		}
	}
}

// report logs the outcome and says whether isolation was breached.
func (w *isolationWatch) report(logf func(string, ...any)) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.breaches) == 0 {
		logf("local: network isolation held: %d checks over %s saw %d processes of the run, none in the host's network namespace (%s); the host never had %s nor an address in %s",
			w.samples, time.Since(w.start).Round(time.Second), len(w.members), w.host, w.bridge, w.subnet)
		return false
	}
	sort.Strings(w.breaches)
	logf("local: FAIL: network isolation breached (the run must stay in network namespace %s):\n  %s", w.name, strings.Join(w.breaches, "\n  "))
	return true
}
