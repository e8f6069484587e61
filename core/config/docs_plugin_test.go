package config

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// upstreamOptions are the options of the opencode-oauth2 plugin
// (OAuth2ModelSyncConfigInput and OAuthServerConfigInput, and the provider
// option keys): the "coming from the plugin" table must have a row for each.
var upstreamOptions = []string{
	"provider.<id>.options.oauth2", "provider.<id>.options.oauth2ModelSync", "pluginConfig.oauth2ModelSync.servers[]",
	"cacheNamespace", "httpTimeoutMs", "tokenExpirySkewMs", "logLevel",
	"id", "name", "issuer", "baseURL", "clientId", "clientSecret", "scopes", "syncIntervalMinutes",
	"nameOverrides", "authorizationEndpoint", "tokenEndpoint", "deviceAuthorizationEndpoint", "jwksUri",
	"redirectPort", "authFlow", "pkce", "subjectTokenSource", "tokenExchangeAudience", "responseApi",
}

var (
	tableCode = regexp.MustCompile("`([^`]+)`")
	testName  = regexp.MustCompile(`^Test[A-Za-z0-9_]+$`)
)

// TestComingFromThePlugin checks the table of docs/configuration.md: every
// upstream option has a row, every option this package knows as upstream
// is in the list above, and every row names tests that exist.
func TestComingFromThePlugin(t *testing.T) {
	data, err := os.ReadFile(docsPath)
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(data), "\n## Coming from the plugin\n")
	if !ok {
		t.Fatal("docs/configuration.md has no \"Coming from the plugin\" section")
	}
	section, _, _ := strings.Cut(rest, "\n## ")
	covered := map[string]bool{}
	rows := 0
	for _, line := range strings.Split(section, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) != 5 || strings.HasPrefix(strings.TrimSpace(cells[1]), "---") || strings.Contains(cells[1], "plugin option") {
			continue
		}
		rows++
		for _, m := range tableCode.FindAllStringSubmatch(cells[1], -1) {
			covered[m[1]] = true
		}
		// Tested by: `path_test.go` `TestA`, `TestB`, `other_test.go` `TestC`.
		file := ""
		tests := 0
		for _, m := range tableCode.FindAllStringSubmatch(cells[3], -1) {
			switch {
			case strings.HasSuffix(m[1], "_test.go"):
				file = m[1]
			case testName.MatchString(m[1]) && file != "":
				src, err := os.ReadFile(filepath.Join("../..", file))
				if err != nil {
					t.Errorf("row %q: %v", strings.TrimSpace(cells[1]), err)
					continue
				}
				if !strings.Contains(string(src), "func "+m[1]+"(") {
					t.Errorf("row %q: %s has no %s", strings.TrimSpace(cells[1]), file, m[1])
				}
				tests++
			default:
				t.Errorf("row %q: %q is neither a test file nor a test", strings.TrimSpace(cells[1]), m[1])
			}
		}
		if tests == 0 {
			t.Errorf("row %q names no test", strings.TrimSpace(cells[1]))
		}
	}
	for _, o := range upstreamOptions {
		if !covered[o] {
			t.Errorf("upstream option %s has no row", o)
		}
	}
	for _, f := range slices.Concat(upstreamFields, upstreamIgnored, opencodeGlobals[1:5]) {
		if !slices.Contains(upstreamOptions, f) {
			t.Errorf("%s is read as an upstream field but missing from upstreamOptions", f)
		}
	}
	if rows < len(upstreamOptions)/2 {
		t.Errorf("only %d rows", rows)
	}
}
