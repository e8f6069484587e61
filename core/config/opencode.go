package config

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/fedtoken/fedtoken/core/oauth"
)

// opencodeGlobals are the keys of pluginConfig.oauth2ModelSync besides
// servers[] (upstream OAuth2ModelSyncConfigInput) plus fedtoken's
// duration-string spellings.
var opencodeGlobals = []string{
	"servers", "cacheNamespace", "httpTimeoutMs", "tokenExpirySkewMs", "logLevel",
	"httpTimeout", "tokenExpirySkew",
}

// oauthOptionKeys are the keys of provider.<id>.options upstream looks
// for, in order.
var oauthOptionKeys = []string{"oauth2", "oauth2ModelSync"}

// parseOpenCode reads an upstream opencode.json: every
// pluginConfig.oauth2ModelSync.servers[] entry, then every
// provider.<id>.options.oauth2 (which wins over a server with the same id,
// as upstream). Providers without an OAuth block are not OAuth providers
// and are skipped.
func parseOpenCode(root object) *File {
	f := &File{Format: FormatOpenCode}
	r := opencodeReader{d: root.d, byID: map[string]Provider{}, serverAt: map[string]string{}}
	r.providers, r.hasProviders = root.child("provider")
	var servers []any
	r.t, servers = r.readModelSync(root, f)
	for i, v := range servers {
		r.readServer(i, v)
	}
	var skipped []string
	if r.hasProviders {
		for _, id := range r.providers.keys() {
			if r.readProviderOptions(id) {
				skipped = append(skipped, id)
			}
		}
	}
	d := r.d
	if len(r.byID) == 0 && len(d.errs) == 0 {
		msg := "no OAuth provider: expected provider.<id>.options.oauth2 or pluginConfig.oauth2ModelSync.servers[]"
		if len(skipped) > 0 {
			msg += fmt.Sprintf("; providers without options.oauth2: %s", strings.Join(skipped, ", "))
		}
		d.errs = append(d.errs, fmt.Errorf("config %s: %s", d.file, msg))
	}
	for _, p := range r.byID {
		f.Providers = append(f.Providers, p)
	}
	return f
}

// opencodeReader is what the parts of parseOpenCode share.
type opencodeReader struct {
	d            *decoder
	t            timing
	providers    object // provider
	hasProviders bool
	byID         map[string]Provider
	serverAt     map[string]string // server id → its path
}

// readModelSync reads pluginConfig.oauth2ModelSync's globals into f and
// returns the timing they set and the servers[] entries.
func (r *opencodeReader) readModelSync(root object, f *File) (timing, []any) {
	t := defaultTiming
	var servers []any
	if pc, ok := root.child("pluginConfig"); ok {
		if sync, ok := pc.child("oauth2ModelSync"); ok {
			t = readTiming(sync, defaultTiming)
			f.Cache.Namespace = sync.str("cacheNamespace")
			f.LogLevel = readLogLevel(sync)
			sync.warnUnknown(opencodeGlobals)
			if v, ok := sync.get("servers"); ok {
				if arr, isArr := v.([]any); isArr {
					servers = arr
				} else {
					r.d.fail(sync.at("servers"), "expected an array of servers, got %s", typeName(v))
				}
			}
		}
	}
	return t, servers
}

// readServer reads pluginConfig.oauth2ModelSync.servers[i].
func (r *opencodeReader) readServer(i int, v any) {
	d := r.d
	path := "pluginConfig.oauth2ModelSync.servers[" + strconv.Itoa(i) + "]"
	s, ok := d.asObject(path, v)
	if !ok {
		return
	}
	p := Provider{ID: s.str("id"), Name: s.str("name"), BaseURL: s.str("baseURL")}
	if p.ID == "" {
		d.fail(s.at("id"), "required")
		return
	}
	if prev, dup := r.serverAt[p.ID]; dup {
		d.fail(s.at("id"), "duplicate id %s (also %s)", quote(p.ID), prev)
		return
	}
	r.serverAt[p.ID] = path
	// Upstream names the provider after provider.<id>.name when set.
	if r.hasProviders {
		if e, ok := r.providers.m[p.ID].(map[string]any); ok {
			if n, isStr := e["name"].(string); isStr && strings.TrimSpace(n) != "" && printable(n) {
				p.Name = strings.TrimSpace(n)
			}
		}
	}
	readProvider(s, &p, r.t)
	secretInForm(&p)
	s.warnUnknown(identityFields, upstreamFields, upstreamIgnored, extensionFields)
	finish(d, &p, func(field string) string { return joinPath(path, field) })
	r.byID[p.ID] = p
}

// readProviderOptions reads provider.<id>.options.oauth2 (or
// oauth2ModelSync). It reports whether the provider was skipped as not an
// OAuth provider (no options object, or neither key).
func (r *opencodeReader) readProviderOptions(id string) (skipped bool) {
	d := r.d
	entry, ok := r.providers.get(id)
	if !ok {
		return false
	}
	path := r.providers.at(id)
	e, isObj := entry.(map[string]any)
	if !isObj {
		return true // not ours to judge
	}
	po := object{d: d, path: path, m: e}
	opts, isObj := e["options"].(map[string]any)
	if !isObj {
		return true
	}
	oo := object{d: d, path: po.at("options"), m: opts}
	var oauth object
	found := false
	for _, k := range oauthOptionKeys {
		if oo.has(k) {
			oauth, found = oo.child(k)
			break
		}
	}
	if !found {
		return !oo.has(oauthOptionKeys[0]) && !oo.has(oauthOptionKeys[1])
	}
	if !validID(d, path, id) {
		return false
	}
	p := Provider{ID: id, Name: po.str("name"), BaseURL: oo.str("baseURL")}
	readProvider(oauth, &p, r.t)
	secretInForm(&p)
	oauth.warnUnknown(upstreamFields, upstreamIgnored, extensionFields)
	finish(d, &p, func(field string) string {
		switch field {
		case "name":
			return po.at("name")
		case "baseURL":
			return oo.at("baseURL")
		}
		return oauth.at(field)
	})
	if prev, dup := r.serverAt[id]; dup {
		d.warn(prev, "overridden by %s", oauth.path)
	}
	r.byID[id] = p
	return false
}

// secretInForm sends a client secret the way the plugin does, in the form
// body (client_secret_post), unless clientAuth.method names a method.
// Native configs keep auto (client_secret_basic with a secret).
func secretInForm(p *Provider) {
	if p.ClientAuth.Method == oauth.AuthAuto && p.HasClientSecret() {
		p.ClientAuth.Method = oauth.AuthClientSecretPost
	}
}

// logLevels are upstream's logLevel values; trace is fedtoken's debug.
var logLevels = []string{"trace", "debug", "info", "warn", "error"}

// readLogLevel reads pluginConfig.oauth2ModelSync.logLevel.
func readLogLevel(o object) string {
	lv := o.str("logLevel")
	if lv == "" || !o.oneOf("logLevel", lv, logLevels) {
		return ""
	}
	if lv == "trace" {
		return "debug"
	}
	return lv
}
