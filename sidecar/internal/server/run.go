package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/fedtoken/fedtoken/sidecar/internal/sink"
)

// listener is one bound listener and what it serves.
type listener struct {
	name string
	ln   net.Listener
	srv  *http.Server
}

// Run opens every listener, starts the refreshers and sinks, and serves
// until ctx is done, Quit is called, POST /quitquitquit is received or
// the quit file appears. It then fails /readyz, waits the shutdown delay,
// drains in-flight requests (streams included) for up to the shutdown
// timeout, stops the refreshers and returns. A graceful stop returns nil;
// a listener that cannot be opened or fails returns an error.
func (s *Server) Run(ctx context.Context) error {
	if !s.running.CompareAndSwap(false, true) {
		return errors.New("server: Run called twice")
	}
	lns, err := s.listen(ctx)
	if err != nil {
		return err
	}
	for _, l := range lns {
		s.addrs[l.name] = l.ln.Addr()
		s.logger.Info("listening", slog.String("listener", l.name), slog.String("addr", l.ln.Addr().String()))
		s.warnBeyondLoopback(l.name, l.ln.Addr())
	}
	close(s.started)

	// The refreshers outlive ctx until every request has drained: a request
	// retried after a 401 during the drain still needs a token.
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	var work sync.WaitGroup
	s.startWork(workCtx, &work)

	serveErr := make(chan error, len(lns))
	for _, l := range lns {
		go func() {
			if err := l.srv.Serve(l.ln); !errors.Is(err, http.ErrServerClosed) {
				serveErr <- fmt.Errorf("server: %s: %w", l.name, err)
			}
		}()
	}

	var runErr error
	reason := "context done"
	select {
	case <-ctx.Done():
		reason = "signal"
	case <-s.quit:
		reason = "quit requested"
	case runErr = <-serveErr:
		reason = "listener failed"
	}
	s.draining.Store(true)
	s.logger.Info("shutting down", slog.String("reason", reason), slog.Duration("delay", s.o.shutdownDelay), slog.Duration("timeout", s.o.shutdownTimeout))
	if s.o.shutdownDelay > 0 {
		t := time.NewTimer(s.o.shutdownDelay)
		<-t.C
	}
	s.drain(lns)
	stopWork()
	work.Wait()
	s.logger.Info("stopped")
	return runErr
}

// listen opens every listener, closing those already open on failure.
func (s *Server) listen(ctx context.Context) ([]listener, error) {
	var lns []listener
	var lc net.ListenConfig
	open := func(name, addr string, h http.Handler) error {
		ln, err := lc.Listen(ctx, "tcp", addr)
		if err != nil {
			return fmt.Errorf("server: %s: %w", name, err)
		}
		ln = newLimitListener(ln, s.o.maxConns)
		lns = append(lns, listener{name: name, ln: ln, srv: s.httpServer(s.hostGuard(name, h))})
		return nil
	}
	err := func() error {
		if s.o.adminAddr != "" {
			if err := open("admin", s.o.adminAddr, s.adminHandler()); err != nil {
				return err
			}
		}
		if s.o.healthAddr != "" {
			if err := open("health", s.o.healthAddr, s.healthMux()); err != nil {
				return err
			}
		}
		for _, p := range s.providers {
			if p.Proxy == nil {
				continue
			}
			h, err := s.proxyHandler(p)
			if err != nil {
				return err
			}
			if err := open("proxy/"+p.ID, p.Proxy.Listen, h); err != nil {
				return err
			}
		}
		return nil
	}()
	if err != nil {
		for _, l := range lns {
			_ = l.ln.Close()
		}
		return nil, err
	}
	return lns, nil
}

func (s *Server) httpServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		// No WriteTimeout: a streamed completion may run for minutes.
		DisableGeneralOptionsHandler: true, // "OPTIONS *" reaches the proxy, which refuses it
		ErrorLog:                     slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn),
	}
}

// startWork starts refreshers, first-token acquisition, sinks and the quit
// file watch.
func (s *Server) startWork(ctx context.Context, wg *sync.WaitGroup) {
	for _, p := range s.providers {
		if p.Refresh != nil {
			wg.Go(func() {
				if err := p.Refresh(ctx); err != nil && ctx.Err() == nil {
					s.logger.Error("refresher stopped", slog.String("provider", p.ID), slog.Any("err", err))
				}
			})
		} else {
			wg.Go(func() { s.acquireFirst(ctx, p) })
		}
		if p.FileSink != nil {
			loop := &sink.Loop{Source: p.Source, File: *p.FileSink, Interval: s.o.sinkInterval,
				OnWrite: func(err error) {
					s.metrics.ObserveSinkWrite(p.ID, err)
					if err != nil {
						s.logger.Warn("token file not written", slog.String("provider", p.ID), slog.Any("err", err))
					} else {
						s.logger.Debug("token file written", slog.String("provider", p.ID), slog.String("path", p.FileSink.Path))
					}
				}}
			wg.Go(func() { _ = loop.Run(ctx) })
		}
	}
	if s.o.quitFile != "" {
		wg.Go(func() { s.watchQuitFile(ctx) })
	}
	for _, t := range s.o.tasks {
		wg.Go(func() {
			if err := t.Run(ctx); err != nil && ctx.Err() == nil {
				s.logger.Error("task stopped", slog.String("task", t.Name), slog.Any("err", err))
			}
		})
	}
}

// acquireFirst obtains a provider's first token, retrying with capped
// exponential backoff, for providers without a refresher.
func (s *Server) acquireFirst(ctx context.Context, p Provider) {
	delay := s.o.backoffMin
	for {
		_, err := p.Source.TokenContext(ctx)
		if err == nil || ctx.Err() != nil {
			return
		}
		s.logger.Warn("no token yet", slog.String("provider", p.ID), slog.Any("err", err), slog.Duration("retry_in", delay))
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		delay = min(delay*2, s.o.backoffMax)
	}
}

// watchQuitFile calls Quit once the quit file exists.
func (s *Server) watchQuitFile(ctx context.Context) {
	t := time.NewTicker(s.o.quitFileInterval)
	defer t.Stop()
	for {
		if _, err := os.Stat(s.o.quitFile); err == nil {
			s.logger.Info("quit requested", slog.String("via", "quit file"), slog.String("path", s.o.quitFile))
			s.Quit()
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// drain shuts every listener down gracefully, then closes what is still
// open once the shutdown timeout has passed.
func (s *Server) drain(lns []listener) {
	ctx, cancel := context.WithTimeout(context.Background(), s.o.shutdownTimeout)
	defer cancel()
	var wg sync.WaitGroup
	for _, l := range lns {
		wg.Go(func() {
			if err := l.srv.Shutdown(ctx); err != nil {
				s.logger.Warn("requests still in flight at the shutdown timeout; closing them",
					slog.String("listener", l.name), slog.Any("err", err))
				_ = l.srv.Close()
			}
		})
	}
	wg.Wait()
}
