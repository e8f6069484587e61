package models

import (
	"context"
	"slices"
	"sync"
	"time"
)

// Target is one provider whose models are kept in sync.
type Target struct {
	// ID is the provider id (the key of provider.<id> in opencode.json).
	ID string
	// BaseURL is the gateway's API URL.
	BaseURL string
	// Overrides are the provider's nameOverrides.
	Overrides map[string]string
	// Interval is the time between two syncs after a good one
	// (syncIntervalMinutes).
	Interval time.Duration
	// Lister fetches the list with the provider's token.
	Lister *Lister
}

// Result is the outcome of one sync of one target.
type Result struct {
	// ID is the target's provider id.
	ID string
	// Models is the list in use after the sync: the new one, or on error
	// the last good one (nil when there never was one).
	Models []Model
	// Diff is what the sync changed (empty on error).
	Diff Diff
	// Err is why the sync failed.
	Err error
}

// firstRetry is the wait before retrying after a failed sync; it doubles
// with every further failure, up to the target's interval (the plugin's
// schedule).
const firstRetry = 15 * time.Second

// Syncer keeps the model lists of its targets: Sync fetches every list
// once, Run re-fetches each on its interval. A failed sync keeps the last
// good list. It is safe for concurrent use.
type Syncer struct {
	targets []Target
	// OnResult, when set, is called after every sync of a target, with the
	// Syncer's lock released, one call at a time.
	onResult func(Result)

	cb    sync.Mutex // serialises onResult
	mu    sync.Mutex
	lists map[string][]Model
}

// NewSyncer returns a Syncer for targets; onResult (may be nil) is told
// of every sync.
func NewSyncer(targets []Target, onResult func(Result)) *Syncer {
	return &Syncer{targets: slices.Clone(targets), onResult: onResult, lists: map[string][]Model{}}
}

// Lists returns the current list of every target that had a good sync.
func (s *Syncer) Lists() map[string][]Model {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string][]Model, len(s.lists))
	for id, l := range s.lists {
		out[id] = slices.Clone(l)
	}
	return out
}

// Sync syncs every target once, concurrently, and returns the results in
// target order.
func (s *Syncer) Sync(ctx context.Context) []Result {
	out := make([]Result, len(s.targets))
	var wg sync.WaitGroup
	for i, t := range s.targets {
		wg.Go(func() { out[i] = s.syncOne(ctx, t) })
	}
	wg.Wait()
	return out
}

func (s *Syncer) syncOne(ctx context.Context, t Target) Result {
	list, err := t.Lister.List(ctx, t.BaseURL, t.Overrides)
	s.mu.Lock()
	prev, had := s.lists[t.ID]
	r := Result{ID: t.ID}
	if err != nil {
		r.Err, r.Models = err, slices.Clone(prev)
	} else {
		if !had {
			prev = nil
		}
		r.Diff = compare(prev, list)
		s.lists[t.ID] = list
		r.Models = slices.Clone(list)
	}
	s.mu.Unlock()
	if s.onResult != nil {
		s.cb.Lock()
		s.onResult(r)
		s.cb.Unlock()
	}
	return r
}

// Run re-syncs each target on its interval until ctx is done; after a
// failure it retries sooner (15 s, doubling, at most the interval). Call
// Sync first for the initial lists: Run starts by waiting. It returns
// ctx's error.
func (s *Syncer) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, t := range s.targets {
		wg.Go(func() { s.loop(ctx, t) })
	}
	wg.Wait()
	return ctx.Err()
}

func (s *Syncer) loop(ctx context.Context, t Target) {
	interval := t.Interval
	if interval <= 0 {
		interval = time.Hour
	}
	wait, failures := interval, 0
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		if r := s.syncOne(ctx, t); r.Err != nil && ctx.Err() == nil {
			failures++
			wait = min(interval, firstRetry<<min(failures-1, 16))
		} else {
			failures, wait = 0, interval
		}
		timer.Reset(wait)
	}
}

// IDs returns the ids of the targets, sorted.
func (s *Syncer) IDs() []string {
	ids := make([]string, 0, len(s.targets))
	for _, t := range s.targets {
		ids = append(ids, t.ID)
	}
	slices.Sort(ids)
	return ids
}
