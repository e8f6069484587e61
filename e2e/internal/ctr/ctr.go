//go:build e2e

// Package ctr runs an IdP (Keycloak, Dex, mockidp) as a container with
// testcontainers-go on the kind backend's docker network, with the same
// surface as a host process of package proc: Alive, Stop, LogPath.
//
// Each container publishes its port on one address of the run's network
// (the network's gateway) at the same port number, so the URL the IdP is
// configured with is the URL the tests, the node's pods and the other
// containers use. Host directories are bind-mounted at the same path, so
// configuration files may name host paths (the cluster CA, the ready file).
// The container's output is copied to LogPath as it comes, as a host
// process's would be, by a `docker logs --follow` of our own:
// testcontainers-go's log producer reconnects every few seconds and can
// lose lines in the gap or stop for good when a cut stream reads as EOF,
// which made log-based checks of long runs fail.
//
// testcontainers-go's reaper (Ryuk) is an image that cannot be pulled on
// machines without a registry; the harness disables it
// (TESTCONTAINERS_RYUK_DISABLED=true) and labels every container with
// Label: the next run removes what a killed run left (RemoveLeftovers).
package ctr

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/testcontainers/testcontainers-go"

	"github.com/fedtoken/fedtoken/e2e/internal/wait"
)

// Label marks every container the harness starts (value: the IdP's name).
const Label = "io.fedtoken.e2e"

// Placement asks for an IdP to run as a container instead of a host process.
type Placement struct {
	Image   string // local image (or a pullable reference)
	Network string // docker network the node is on
}

// Runner is what the IdP servers need of a host process or a container.
type Runner interface {
	Alive() error
	Stop(timeout time.Duration) error
	LogPath() string
}

// Spec says what to run.
type Spec struct {
	Name       string // the IdP, e.g. "dex"; the container is fedtoken-e2e-<Name>
	Image      string // a local image; never pulled when present
	Entrypoint []string
	Cmd        []string
	Env        map[string]string
	Network    string   // docker network to join
	HostIP     string   // address the port is published on (the network's gateway)
	Port       int      // container port, published as HostIP:Port
	Mounts     []string // host directories bind-mounted at the same path
	LogPath    string   // the container's stdout and stderr go here
	User       string   // optional uid[:gid]
}

// Container is a running container.
type Container struct {
	c       testcontainers.Container
	name    string
	logPath string
	log     *logFile
}

// DisableReaper turns off testcontainers-go's Ryuk reaper unless the
// environment says otherwise (its image cannot be pulled everywhere).
func DisableReaper() {
	if os.Getenv("TESTCONTAINERS_RYUK_DISABLED") == "" {
		os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	}
}

// Start creates and starts the container; it does not wait for the service
// inside (callers poll its endpoint, checking Alive).
func Start(ctx context.Context, s Spec) (*Container, error) {
	DisableReaper()
	lf, err := openLog(s.LogPath)
	if err != nil {
		return nil, err
	}
	hostIP, err := netip.ParseAddr(s.HostIP)
	if err != nil {
		return nil, fmt.Errorf("ctr: %s: host address %q: %w", s.Name, s.HostIP, err)
	}
	port := network.MustParsePort(strconv.Itoa(s.Port) + "/tcp")
	name := "fedtoken-e2e-" + s.Name
	req := testcontainers.ContainerRequest{
		Image:        s.Image,
		Name:         name,
		Entrypoint:   s.Entrypoint,
		Cmd:          s.Cmd,
		Env:          s.Env,
		Labels:       map[string]string{Label: s.Name},
		Networks:     []string{s.Network},
		ExposedPorts: []string{port.String()},
		ConfigModifier: func(c *container.Config) {
			if s.User != "" {
				c.User = s.User
			}
		},
		HostConfigModifier: func(hc *container.HostConfig) {
			hc.PortBindings = network.PortMap{port: {{HostIP: hostIP, HostPort: strconv.Itoa(s.Port)}}}
			for _, m := range s.Mounts {
				hc.Binds = append(hc.Binds, m+":"+m)
			}
		},
	}
	c, err := testcontainers.GenericContainer(ctx, testcontainers.GenericContainerRequest{ContainerRequest: req, Started: true})
	if err != nil {
		if c != nil {
			_ = c.Terminate(context.WithoutCancel(ctx))
		}
		lf.Close()
		return nil, fmt.Errorf("ctr: start %s (%s): %w", name, s.Image, err)
	}
	if err := lf.follow(c.GetContainerID()); err != nil {
		_ = c.Terminate(context.WithoutCancel(ctx))
		lf.Close()
		return nil, fmt.Errorf("ctr: %s: %w", name, err)
	}
	return &Container{c: c, name: name, logPath: s.LogPath, log: lf}, nil
}

// Name is the container's name.
func (c *Container) Name() string { return c.name }

// LogPath is the file the container's output is copied to.
func (c *Container) LogPath() string { return c.logPath }

// Alive returns an error, with the end of the log, once the container has
// stopped.
func (c *Container) Alive() error {
	st, err := c.c.State(context.Background())
	if err != nil {
		return fmt.Errorf("%s: %w", c.name, err)
	}
	if st.Running {
		return nil
	}
	return fmt.Errorf("%s exited (code %d); last lines of %s:\n%s", c.name, st.ExitCode, c.logPath, tail(c.logPath, 20))
}

// SyncLog returns once LogPath holds everything the container has written
// so far. The copy to LogPath streams behind the container by a moment;
// readers that check the effect of a request they just made (mockidp's
// request log) call this first.
func (c *Container) SyncLog(ctx context.Context) error {
	r, err := c.c.Logs(ctx)
	if err != nil {
		return fmt.Errorf("%s: logs: %w", c.name, err)
	}
	total, err := io.Copy(io.Discard, r)
	r.Close()
	if err != nil {
		return fmt.Errorf("%s: logs: %w", c.name, err)
	}
	return wait.Until(ctx, c.name+"'s log copied to "+c.logPath, 10*time.Second, 20*time.Millisecond, func(context.Context) (bool, error) {
		n, err := c.log.written()
		if err != nil {
			return false, err
		}
		if n < total {
			return false, wait.NotYet("%d of %d bytes", n, total)
		}
		return true, nil
	})
}

// ReadLog returns r's log so far; for a container it first waits until the
// copy has caught up (SyncLog), so a line the IdP has written is there.
func ReadLog(ctx context.Context, r Runner) ([]byte, error) {
	if c, ok := r.(*Container); ok {
		if err := c.SyncLog(ctx); err != nil {
			return nil, err
		}
	}
	return os.ReadFile(r.LogPath())
}

// Stop stops and removes the container (and its anonymous volumes).
func (c *Container) Stop(timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout+30*time.Second)
	defer cancel()
	err := c.c.Terminate(ctx, testcontainers.StopTimeout(timeout))
	c.log.Close()
	return err
}

// RemoveLeftovers force-removes every container carrying Label: the ones a
// run that was killed (SIGKILL, go test -timeout) could not remove. Runs are
// serialised by the harness's run lock, so none of them belongs to a live run.
func RemoveLeftovers(ctx context.Context) (int, error) {
	out, err := exec.CommandContext(ctx, "docker", "ps", "-aq", "--filter", "label="+Label).Output()
	if err != nil {
		return 0, fmt.Errorf("ctr: docker ps: %w", err)
	}
	ids := strings.Fields(string(out))
	if len(ids) == 0 {
		return 0, nil
	}
	if out, err := exec.CommandContext(ctx, "docker", append([]string{"rm", "-f", "-v"}, ids...)...).CombinedOutput(); err != nil {
		return 0, fmt.Errorf("ctr: docker rm: %w: %s", err, out)
	}
	return len(ids), nil
}

// logFile is the container's log on the host, written by a
// `docker logs --follow` process until the container stops.
type logFile struct {
	once sync.Once
	f    *os.File
	cmd  *exec.Cmd
	done chan struct{}
	err  error // the follower's exit, once done is closed
}

func openLog(path string) (*logFile, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("ctr: log: %w", err)
	}
	return &logFile{f: f}, nil
}

// follow starts copying the container's whole output (stdout and stderr,
// both appended to the file) from its start until it stops.
func (l *logFile) follow(id string) error {
	l.cmd = exec.Command("docker", "logs", "--follow", id)
	l.cmd.Stdout, l.cmd.Stderr = l.f, l.f
	if err := l.cmd.Start(); err != nil {
		return fmt.Errorf("docker logs --follow: %w", err)
	}
	l.done = make(chan struct{})
	go func() {
		l.err = l.cmd.Wait()
		close(l.done)
	}()
	return nil
}

// written is how many bytes of output the file holds; an error once the
// follower has ended while the file may still be behind.
func (l *logFile) written() (int64, error) {
	st, err := l.f.Stat()
	if err != nil {
		return 0, err
	}
	if l.done != nil {
		select {
		case <-l.done:
			if l.err != nil {
				return st.Size(), fmt.Errorf("docker logs --follow ended: %v", l.err)
			}
		default:
		}
	}
	return st.Size(), nil
}

// Close waits a moment for the follower to copy the last lines of a
// stopped container, then ends it and closes the file.
func (l *logFile) Close() {
	l.once.Do(func() {
		if l.done != nil {
			select {
			case <-l.done:
			case <-time.After(5 * time.Second):
				_ = l.cmd.Process.Kill()
				<-l.done
			}
		}
		_ = l.f.Close()
	})
}

func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
