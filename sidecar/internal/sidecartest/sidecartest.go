// Package sidecartest is test support shared by the sidecar's packages.
// (core's test support lives in core/internal, which Go's internal rule
// keeps out of this module; the sidecar's fake token sources stay with the
// packages whose interfaces they implement.)
package sidecartest

import (
	"io"
	"net/http"
	"testing"
)

// Get returns the status and body of a GET of url with optional header
// name/value pairs, failing the test if the request cannot be made.
func Get(t testing.TB, url string, header ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
