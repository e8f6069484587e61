// Package opencodeconfig keeps an opencode configuration file with the
// gateway models of the sidecar's providers: it lists each provider's
// models (core/models), merges them into provider.<id>.models of a base
// opencode.json and writes the result atomically to the file opencode
// reads (OPENCODE_CONFIG). It re-syncs on each provider's
// syncIntervalMinutes; a failed sync keeps the last good list.
package opencodeconfig

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"

	"github.com/fedtoken/fedtoken/core/models"
	"github.com/fedtoken/fedtoken/sidecar/internal/sink"
)

// maxBase bounds the base file.
const maxBase = 4 << 20

// Writer writes the opencode configuration. Build it with New.
type Writer struct {
	base   string
	out    sink.File
	syncer *models.Syncer
	logger *slog.Logger

	written atomic.Bool
	status  atomic.Value // string: the last outcome, for /readyz
}

// New returns a Writer that merges the lists of targets into the
// opencode.json at base ("" means an empty configuration) and writes the
// result to out.
func New(base string, out sink.File, targets []models.Target, logger *slog.Logger) *Writer {
	w := &Writer{base: base, out: out, logger: logger}
	w.status.Store("not written yet")
	w.syncer = models.NewSyncer(targets, w.onResult)
	return w
}

// Run syncs every provider once, writes the file, then re-syncs each on
// its interval and rewrites the file after every sync, until ctx is done.
func (w *Writer) Run(ctx context.Context) error {
	w.syncer.Sync(ctx)
	return w.syncer.Run(ctx)
}

// Ready reports whether the file has been written, for /readyz: opencode
// must not start before it exists.
func (w *Writer) Ready() (bool, string) {
	return w.written.Load(), w.status.Load().(string)
}

func (w *Writer) onResult(r models.Result) {
	attrs := []any{slog.String("provider", r.ID), slog.Int("models", len(r.Models))}
	switch {
	case r.Err != nil:
		w.logger.Warn("model sync failed; keeping the last good list", append(attrs, slog.Any("err", r.Err))...)
	case r.Diff.Changed():
		w.logger.Info("models synced", append(attrs,
			slog.String("added", strings.Join(r.Diff.Added, ",")),
			slog.String("removed", strings.Join(r.Diff.Removed, ",")),
			slog.String("renamed", strings.Join(r.Diff.Renamed, ",")))...)
	default:
		w.logger.Debug("models synced, no change", attrs...)
	}
	if err := w.write(); err != nil {
		w.status.Store("not written: " + err.Error())
		w.logger.Warn("opencode config not written", slog.String("path", w.out.Path), slog.Any("err", err))
		return
	}
	w.written.Store(true)
	w.status.Store("written to " + w.out.Path)
}

// write merges the current lists into the base (read afresh, so an updated
// ConfigMap is picked up) and writes the file atomically.
func (w *Writer) write() error {
	var base []byte
	if w.base != "" {
		f, err := os.Open(w.base)
		if err != nil {
			return fmt.Errorf("base config: %w", err)
		}
		defer f.Close()
		base, err = io.ReadAll(io.LimitReader(f, maxBase+1))
		if err != nil {
			return fmt.Errorf("base config %s: %w", w.base, err)
		}
		if len(base) > maxBase {
			return fmt.Errorf("base config %s: larger than %d bytes", w.base, maxBase)
		}
	}
	out, err := models.MergeJSON(base, models.Fragment(w.syncer.Lists()))
	if err != nil {
		return fmt.Errorf("base config %s: %w", w.base, err)
	}
	return w.out.Write(append(out, '\n'))
}
