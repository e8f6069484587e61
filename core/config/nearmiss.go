package config

import (
	"strings"
	"unicode"
)

// nearMiss returns the known key that k looks like a mistyped spelling of,
// or "": the same key in another case or with underscores or hyphens
// (auth_flow, clientID, extra-params), or one a small edit away (isuer,
// scope). Such a key is an error rather than a warning: ignoring it would
// silently change the meaning of the file (a missing authFlow is
// authorization_code). Keys that are not close to any known one stay
// warnings, so settings that only other tools read keep working.
func nearMiss(k string, known []string) string {
	fk := fold(k)
	best, bestDist := "", -1
	for _, c := range known {
		fc := fold(c)
		if fk == fc {
			return c
		}
		limit := 1
		if len(fc) >= 8 {
			limit = 2
		}
		if len(fk) < 5 || len(fc) < 5 {
			continue // short keys differ by one letter by chance
		}
		if d := editDistance(fk, fc, limit); d <= limit && (bestDist < 0 || d < bestDist) {
			best, bestDist = c, d
		}
	}
	return best
}

// fold lower-cases s and drops '_', '-' and spaces.
func fold(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '_', '-', ' ':
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// editDistance is the Levenshtein distance of a and b (runes), or limit+1
// when it exceeds limit.
func editDistance(a, b string, limit int) int {
	ra, rb := []rune(a), []rune(b)
	if d := len(ra) - len(rb); d > limit || -d > limit {
		return limit + 1
	}
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	if prev[len(rb)] > limit {
		return limit + 1
	}
	return prev[len(rb)]
}
