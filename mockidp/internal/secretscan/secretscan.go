// Package secretscan finds secrets in text: every occurrence, in any file
// of a test run's logs, of any token, assertion, secret or refresh token
// the run's IdPs issued. Reports never contain the secret itself.
package secretscan

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// MinLength is the shortest secret searched for; shorter configured
// values ("pw") would match ordinary text.
const MinLength = 8

// Set is the secrets to look for, indexed by their first MinLength bytes.
type Set struct {
	byPrefix map[string][]string
	n        int
	short    int
}

// NewSet returns an empty set.
func NewSet() *Set { return &Set{byPrefix: map[string][]string{}} }

// Add adds a secret (surrounding space trimmed; duplicates ignored).
func (s *Set) Add(secret string) {
	secret = strings.TrimSpace(secret)
	if len(secret) < MinLength {
		if secret != "" {
			s.short++
		}
		return
	}
	p := secret[:MinLength]
	for _, have := range s.byPrefix[p] {
		if have == secret {
			return
		}
	}
	s.byPrefix[p] = append(s.byPrefix[p], secret)
	s.n++
}

// Len is the number of secrets searched for; Short the number skipped as
// too short.
func (s *Set) Len() int   { return s.n }
func (s *Set) Short() int { return s.short }

// LoadFile adds every line of a *.secrets file.
func (s *Set) LoadFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		s.Add(sc.Text())
	}
	return sc.Err()
}

// Hit is one secret found in a file. Secret is a redacted description.
type Hit struct {
	File   string
	Line   int
	Secret string
}

func (h Hit) String() string { return fmt.Sprintf("%s:%d: %s", h.File, h.Line, h.Secret) }

// Describe names a secret without revealing it: its first 4 characters and
// its length.
func Describe(secret string) string {
	return fmt.Sprintf("secret %q… (%d characters)", secret[:4], len(secret))
}

// Scan reports every line of r (named name in hits) that contains a
// secret of s.
func (s *Set) Scan(name string, r io.Reader) ([]Hit, error) {
	if s.n == 0 {
		return nil, nil
	}
	var hits []Hit
	br := bufio.NewReaderSize(r, 1<<16)
	for line := 1; ; line++ {
		b, err := br.ReadBytes('\n')
		if found := s.find(b); found != "" {
			hits = append(hits, Hit{File: name, Line: line, Secret: Describe(found)})
		}
		if err == io.EOF {
			return hits, nil
		}
		if err != nil {
			return hits, err
		}
	}
}

// find returns the first secret contained in b, or "".
func (s *Set) find(b []byte) string {
	for i := 0; i+MinLength <= len(b); i++ {
		cands, ok := s.byPrefix[string(b[i:i+MinLength])]
		if !ok {
			continue
		}
		for _, c := range cands {
			if bytes.HasPrefix(b[i:], []byte(c)) {
				return c
			}
		}
	}
	return ""
}

// Run loads every *.secrets file under secretsDir and scans every other
// regular file under each of logs (files or directories). It returns the
// hits and how many files were scanned.
func Run(secretsDir string, logs []string) (set *Set, hits []Hit, files int, err error) {
	set = NewSet()
	err = filepath.WalkDir(secretsDir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() && strings.HasSuffix(p, ".secrets") {
			return set.LoadFile(p)
		}
		return nil
	})
	if err != nil {
		return set, nil, 0, fmt.Errorf("secrets: %w", err)
	}
	for _, root := range logs {
		err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.Type().IsRegular() || strings.HasSuffix(p, ".secrets") {
				return nil
			}
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			h, err := set.Scan(p, f)
			hits = append(hits, h...)
			files++
			return err
		})
		if err != nil {
			return set, hits, files, fmt.Errorf("logs: %w", err)
		}
	}
	sort.Slice(hits, func(i, j int) bool {
		if hits[i].File != hits[j].File {
			return hits[i].File < hits[j].File
		}
		return hits[i].Line < hits[j].Line
	})
	return set, hits, files, nil
}
