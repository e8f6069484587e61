package config

import (
	"encoding/json"
	"strings"
)

// nativeTop are the top-level keys of the native config.
var nativeTop = []string{
	"$schema", "providers", "cache", "sidecar",
	"httpTimeout", "httpTimeoutMs", "tokenExpirySkew", "tokenExpirySkewMs",
}

// parseNative reads the native config: providers (id → provider), cache,
// sidecar and the file-wide httpTimeout / tokenExpirySkew defaults.
func parseNative(root object) *File {
	d := root.d
	f := &File{Format: FormatNative}
	t := readTiming(root, defaultTiming)

	if c, ok := root.child("cache"); ok {
		f.Cache.Dir = c.str("dir")
		f.Cache.Namespace = c.str("namespace")
		c.warnUnknown([]string{"dir", "namespace"})
	}
	if v, ok := root.get("sidecar"); ok {
		if _, isObj := v.(map[string]any); isObj {
			d.checkPrintable("sidecar", v)
			f.Sidecar, _ = json.Marshal(v) // cannot fail: decoded JSON
		} else {
			d.fail("sidecar", "expected an object, got %s", typeName(v))
		}
	}
	root.warnUnknown(nativeTop)

	v, _ := root.get("providers")
	if v == nil {
		d.fail("providers", "expected an object mapping provider id to provider, got null")
		return f
	}
	if _, isObj := v.(map[string]any); !isObj {
		d.fail("providers", "expected an object mapping provider id to provider, got %s", typeName(v))
		return f
	}
	providers, _ := root.child("providers")
	if len(providers.m) == 0 {
		d.fail("providers", "no provider defined")
	}
	for _, id := range providers.keys() {
		path := providers.at(id)
		entry, _ := providers.get(id)
		po, ok := d.asObject(path, entry)
		if !ok {
			continue
		}
		if !validID(d, path, id) {
			continue
		}
		p := Provider{ID: id, Name: po.str("name"), BaseURL: po.str("baseURL")}
		if inner := po.str("id"); inner != "" && inner != id {
			d.fail(po.at("id"), "%s does not match the key %s; drop it or make them equal", quote(inner), quote(id))
		}
		readProvider(po, &p, t)
		po.warnUnknown(identityFields, upstreamFields, upstreamIgnored, extensionFields)
		finish(d, &p, func(field string) string { return po.at(field) })
		f.Providers = append(f.Providers, p)
	}
	return f
}

// validID checks a provider id taken from a map key.
func validID(d *decoder, path, id string) bool {
	switch {
	case strings.TrimSpace(id) == "":
		d.fail(path, "a provider id must not be empty")
	case !printable(id):
		d.fail(path, "a provider id must not contain control characters")
	case strings.TrimSpace(id) != id:
		d.fail(path, "a provider id must not start or end with white space")
	default:
		return true
	}
	return false
}
