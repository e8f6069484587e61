package demo

import "testing"

func TestShorten(t *testing.T) {
	tok := "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
	got := Shorten("Authorization: Bearer " + tok + "\n")
	want := "Authorization: Bearer eyJhbGciOiJSUzI1NiJ9…(63 chars)\n"
	if got != want {
		t.Errorf("Shorten = %q, want %q", got, want)
	}
	if Shorten("no token here") != "no token here" {
		t.Error("Shorten changed text without a JWT")
	}
}
