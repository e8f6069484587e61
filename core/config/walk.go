package config

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// decoder walks a document decoded into map[string]any / []any /
// json.Number / string / bool / nil, collecting every error and warning
// with its JSON path.
type decoder struct {
	file   string
	errs   []error
	warns  []string
	failed map[string]bool // paths with an error
}

func (d *decoder) fail(path, format string, args ...any) {
	d.errs = append(d.errs, &FieldError{File: d.file, Path: path, Msg: fmt.Sprintf(format, args...)})
	if d.failed == nil {
		d.failed = map[string]bool{}
	}
	d.failed[path] = true
}

// hasErr reports whether path already has an error, so that a rule that
// depends on the field does not pile a second, misleading error on it.
func (d *decoder) hasErr(path string) bool { return d.failed[path] }

func (d *decoder) warn(path, format string, args ...any) {
	d.warns = append(d.warns, path+": "+fmt.Sprintf(format, args...))
}

// object is a JSON object found at path.
type object struct {
	d    *decoder
	path string
	m    map[string]any
}

// asObject returns v as an object, or records a type error.
func (d *decoder) asObject(path string, v any) (object, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		d.fail(path, "expected an object, got %s", typeName(v))
		return object{}, false
	}
	return object{d: d, path: path, m: m}, true
}

// at is the path of key inside o.
func (o object) at(key string) string { return joinPath(o.path, key) }

// get returns the value under key; JSON null (YAML ~ or an empty value)
// counts as absent, as upstream treats it.
func (o object) get(key string) (any, bool) {
	v, ok := o.m[key]
	if !ok || v == nil {
		return nil, false
	}
	return v, true
}

// has reports whether key holds a non-null value.
func (o object) has(key string) bool {
	_, ok := o.get(key)
	return ok
}

// keys returns the keys of o, sorted.
func (o object) keys() []string {
	ks := make([]string, 0, len(o.m))
	for k := range o.m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// child returns the object under key; ok is false when absent or not an
// object (the latter is an error).
func (o object) child(key string) (object, bool) {
	v, ok := o.get(key)
	if !ok {
		return object{}, false
	}
	return o.d.asObject(o.at(key), v)
}

// str returns the trimmed string under key; "" when absent, blank or
// invalid (an error).
func (o object) str(key string) string {
	return strings.TrimSpace(o.rawStr(key))
}

// rawStr is str without trimming (secrets are used as written).
func (o object) rawStr(key string) string {
	v, ok := o.get(key)
	if !ok {
		return ""
	}
	s, _ := o.d.asString(o.at(key), v)
	return s
}

// asString returns v as a string, or records an error: wrong type, or a
// control character (never printed: the value may be a secret).
func (d *decoder) asString(path string, v any) (string, bool) {
	s, ok := v.(string)
	if !ok {
		d.fail(path, "expected a string, got %s", typeName(v))
		return "", false
	}
	if !printable(s) {
		d.fail(path, "contains a control character")
		return "", false
	}
	return s, true
}

// printable reports whether s has no control characters (C0, DEL, C1)
// and no U+FFFE/U+FFFF, none of which belong in a config value.
func printable(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) || r == 0xFFFE || r == 0xFFFF {
			return false
		}
	}
	return true
}

// strList reads an array of non-empty strings. With split, a single string
// is also accepted and split on spaces and commas (upstream's scopes rule);
// without it a single string is one element.
func (o object) strList(key string, split bool) []string {
	v, ok := o.get(key)
	if !ok {
		return nil
	}
	switch v := v.(type) {
	case string:
		if !printable(v) {
			o.d.fail(o.at(key), "contains a control character")
			return nil
		}
		if split {
			f := strings.FieldsFunc(v, func(r rune) bool { return r == ',' || unicode.IsSpace(r) })
			if len(f) == 0 {
				return nil
			}
			return f
		}
		if s := strings.TrimSpace(v); s != "" {
			return []string{s}
		}
		return nil
	case []any:
		out := make([]string, 0, len(v))
		for i, e := range v {
			p := o.at(key) + "[" + strconv.Itoa(i) + "]"
			s, ok := o.d.asString(p, e)
			if !ok {
				continue
			}
			if s = strings.TrimSpace(s); s == "" {
				o.d.fail(p, "must not be empty")
				continue
			}
			out = append(out, s)
		}
		if len(out) == 0 {
			return nil
		}
		return out
	default:
		o.d.fail(o.at(key), "expected an array of strings, got %s", typeName(v))
		return nil
	}
}

// boolPtr reads a boolean; nil when absent or of the wrong type.
func (o object) boolPtr(key string) *bool {
	v, ok := o.get(key)
	if !ok {
		return nil
	}
	b, ok := v.(bool)
	if !ok {
		o.d.fail(o.at(key), "expected a boolean (true or false), got %s", typeName(v))
		return nil
	}
	return &b
}

// number reads a finite JSON number.
func (o object) number(key string) (float64, bool) {
	v, ok := o.get(key)
	if !ok {
		return 0, false
	}
	n, ok := v.(json.Number)
	if !ok {
		o.d.fail(o.at(key), "expected a number, got %s", typeName(v))
		return 0, false
	}
	f, err := n.Float64()
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		o.d.fail(o.at(key), "%s is not a finite number", quote(n.String()))
		return 0, false
	}
	return f, true
}

// integer reads an integer in [lo, hi].
func (o object) integer(key string, lo, hi int64) (int64, bool) {
	f, ok := o.number(key)
	if !ok {
		return 0, false
	}
	if f != math.Trunc(f) || f < float64(lo) || f > float64(hi) {
		o.d.fail(o.at(key), "must be an integer from %d to %d, got %s", lo, hi, strconv.FormatFloat(f, 'g', -1, 64))
		return 0, false
	}
	return int64(f), true
}

// duration reads key as a Go duration string ("15s") or msKey as a number
// of milliseconds (the upstream spelling); setting both is an error. The
// value must lie in [lo, hi]. ok is false when neither is set or the value
// is invalid.
func (o object) duration(key, msKey string, lo, hi time.Duration) (time.Duration, bool) {
	hasS, hasMs := o.has(key), o.has(msKey)
	if hasS && hasMs {
		o.d.fail(o.at(msKey), "set only one of %s and %s", key, msKey)
		return 0, false
	}
	var d time.Duration
	switch {
	case hasS:
		v, _ := o.get(key)
		s, isStr := v.(string)
		if isStr && !printable(s) {
			o.d.fail(o.at(key), "contains a control character")
			return 0, false
		}
		if !isStr {
			o.d.fail(o.at(key), "expected a duration string such as \"15s\" or \"1m30s\", got %s (use %s for milliseconds)", typeName(v), msKey)
			return 0, false
		}
		var err error
		if d, err = time.ParseDuration(strings.TrimSpace(s)); err != nil {
			o.d.fail(o.at(key), "%s is not a duration; use a number with a unit, such as \"15s\" or \"1m30s\"", quote(s))
			return 0, false
		}
		if d < lo || d > hi {
			o.d.fail(o.at(key), "%s is out of range; must be from %s to %s", d, lo, hi)
			return 0, false
		}
	case hasMs:
		ms, ok := o.number(msKey)
		if !ok {
			return 0, false
		}
		if ms < float64(lo)/float64(time.Millisecond) || ms > float64(hi)/float64(time.Millisecond) {
			o.d.fail(o.at(msKey), "%s is out of range; must be from %d to %d (milliseconds)",
				strconv.FormatFloat(ms, 'g', -1, 64), lo.Milliseconds(), hi.Milliseconds())
			return 0, false
		}
		d = time.Duration(ms * float64(time.Millisecond))
	default:
		return 0, false
	}
	return d, true
}

// stringMap reads an object whose values are all strings.
func (o object) stringMap(key string) map[string]string {
	c, ok := o.child(key)
	if !ok {
		return nil
	}
	out := make(map[string]string, len(c.m))
	for _, k := range c.keys() {
		if !printable(k) {
			o.d.fail(c.path, "a key contains a control character")
			continue
		}
		if v, ok := c.get(k); ok {
			if s, ok := o.d.asString(c.at(k), v); ok {
				out[k] = s
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// warnUnknown checks every key of o against known: a key close to a known
// one (see nearMiss) is an error naming it, any other unknown key a
// warning.
func (o object) warnUnknown(known ...[]string) {
	all := slices.Concat(known...)
	for _, k := range o.keys() {
		if slices.Contains(all, k) {
			continue
		}
		if s := nearMiss(k, all); s != "" {
			o.d.fail(o.at(k), "unknown field; did you mean %s?", s)
			continue
		}
		o.d.warn(o.at(k), "unknown field, ignored")
	}
}

// oneOf checks that s is one of allowed and records an error naming them.
func (o object) oneOf(key, s string, allowed []string) bool {
	if slices.Contains(allowed, s) {
		return true
	}
	o.d.fail(o.at(key), "%s is not one of %s", quote(s), strings.Join(allowed, ", "))
	return false
}

// joinPath appends key to path: ".key" for identifier-like keys,
// `["key"]` otherwise, so ids with dots or spaces stay unambiguous.
func joinPath(path, key string) string {
	if !isIdent(key) {
		return path + "[" + strconv.Quote(key) + "]"
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r == '_', r == '$':
		case i > 0 && (r >= '0' && r <= '9' || r == '-'):
		default:
			return false
		}
	}
	return true
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "boolean"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// checkPrintable reports every string and key under v (the opaque sidecar
// section) that contains a control character.
func (d *decoder) checkPrintable(path string, v any) {
	switch v := v.(type) {
	case string:
		if !printable(v) {
			d.fail(path, "contains a control character")
		}
	case []any:
		for i, e := range v {
			d.checkPrintable(path+"["+strconv.Itoa(i)+"]", e)
		}
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(v)) {
			if !printable(k) {
				d.fail(path, "a key contains a control character")
				continue
			}
			d.checkPrintable(joinPath(path, k), v[k])
		}
	}
}
