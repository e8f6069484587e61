package inspect

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/fedtoken/fedtoken/core/jwt"

	"github.com/fedtoken/fedtoken/cli/internal/humantime"
)

// registered lists the claims shown first, in this order; the others
// follow alphabetically.
var registered = []string{"iss", "sub", "aud", "exp", "iat", "nbf", "jti"}

// kubernetesClaim marks a Kubernetes ServiceAccount token.
const kubernetesClaim = "kubernetes.io"

// report is what inspect shows about one token.
type report struct {
	Source   string         `json:"source"`
	Header   jwtHeader      `json:"header"`
	Claims   map[string]any `json:"claims"`
	Times    map[string]at  `json:"times,omitempty"`
	Expired  bool           `json:"expired"`
	Lifetime string         `json:"lifetime,omitempty"`
	// Rotation is set for a Kubernetes ServiceAccount token.
	Rotation *at `json:"kubeletRotation,omitempty"`

	claims jwt.Claims
	now    time.Time
}

type jwtHeader struct {
	Alg string `json:"alg"`
	Kid string `json:"kid,omitempty"`
	Typ string `json:"typ,omitempty"`
}

// at is a point in time in both forms.
type at struct {
	Time     string `json:"time"`
	Relative string `json:"relative"`
}

func newAt(t, now time.Time) at {
	return at{Time: t.UTC().Format(time.RFC3339), Relative: humantime.Relative(t, now)}
}

func newReport(source string, h jwt.Header, c jwt.Claims, now time.Time) *report {
	r := &report{
		Source: source,
		Header: jwtHeader{Alg: h.Alg, Kid: h.Kid, Typ: h.Typ},
		Claims: c.Raw,
		Times:  map[string]at{},
		claims: c,
		now:    now,
	}
	for name, t := range map[string]time.Time{"exp": c.ExpiresAt, "iat": c.IssuedAt, "nbf": c.NotBefore} {
		if !t.IsZero() {
			r.Times[name] = newAt(t, now)
		}
	}
	r.Expired = c.Expired(now, 0)
	if life := c.Lifetime(); life > 0 {
		r.Lifetime = humantime.Duration(life)
	}
	// Only a pod-bound token (kubernetes.io.pod) is kept fresh by the
	// kubelet; a TokenRequest or Secret token is not rotated by anyone.
	if k, _ := c.Raw[kubernetesClaim].(map[string]any); k["pod"] != nil {
		if rt := c.RotationTime(); !rt.IsZero() {
			a := newAt(rt, now)
			r.Rotation = &a
		}
	}
	return r
}

func (r *report) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

func (r *report) writeText(w io.Writer) error {
	var t table
	t.section("source", r.Source)
	t.section("header", "")
	t.row("alg", r.Header.Alg)
	t.row("kid", r.Header.Kid)
	t.row("typ", r.Header.Typ)
	t.section("claims", "")
	for _, name := range claimOrder(r.Claims) {
		t.row(name, r.claimText(name))
	}
	t.section("status", "")
	t.row("expiry", r.expiryText())
	t.row("lifetime", r.Lifetime)
	if r.Rotation != nil {
		t.row("kubelet rotation", r.rotationText())
	}
	return t.write(w)
}

// table is a two-column listing with section headings, its values
// aligned across sections.
type table struct {
	lines []tableLine
	width int
}

type tableLine struct {
	key, value string
	heading    bool
}

func (t *table) section(name, value string) {
	t.lines = append(t.lines, tableLine{key: name + ":", value: value, heading: true})
}

// row adds an indented key and value; an empty value is left out.
func (t *table) row(key, value string) {
	if value == "" {
		return
	}
	t.lines = append(t.lines, tableLine{key: key, value: value})
	t.width = max(t.width, len(key))
}

func (t *table) write(w io.Writer) error {
	var b strings.Builder
	for _, l := range t.lines {
		switch {
		case l.heading && l.value == "":
			b.WriteString(l.key + "\n")
		case l.heading:
			b.WriteString(l.key + " " + l.value + "\n")
		default:
			fmt.Fprintf(&b, "  %-*s  %s\n", t.width, l.key, l.value)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func claimOrder(claims map[string]any) []string {
	var rest []string
	for k := range claims {
		if !slices.Contains(registered, k) {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	var out []string
	for _, k := range registered {
		if _, ok := claims[k]; ok {
			out = append(out, k)
		}
	}
	return append(out, rest...)
}

func (r *report) claimText(name string) string {
	if t, ok := r.Times[name]; ok {
		return t.Time + " (" + t.Relative + ")"
	}
	switch v := r.Claims[name].(type) {
	case string:
		return v
	case []any:
		if s, ok := stringList(v); ok {
			return s
		}
	}
	b, err := json.Marshal(r.Claims[name])
	if err != nil {
		return fmt.Sprint(r.Claims[name])
	}
	return string(b)
}

// stringList joins an array of strings with ", ".
func stringList(v []any) (string, bool) {
	parts := make([]string, len(v))
	for i, e := range v {
		s, ok := e.(string)
		if !ok {
			return "", false
		}
		parts[i] = s
	}
	return strings.Join(parts, ", "), true
}

func (r *report) expiryText() string {
	switch {
	case r.claims.ExpiresAt.IsZero():
		return "no exp claim: the token never expires by its own account"
	case r.Expired:
		return "EXPIRED " + humantime.Relative(r.claims.ExpiresAt, r.now)
	default:
		return "valid, expires " + humantime.Relative(r.claims.ExpiresAt, r.now)
	}
}

func (r *report) rotationText() string {
	s := r.Rotation.Time + " (" + r.Rotation.Relative + "), at 80 % of the lifetime"
	if r.claims.RotationTime().Before(r.now) {
		s += "; overdue: a projected volume would hold a newer token by now (check the kubelet)"
	}
	return s
}
