package models

import (
	"regexp"
	"strings"
	"unicode"
)

// acronyms are tokens shown in capitals.
var acronyms = map[string]string{
	"ai": "AI", "api": "API", "cpu": "CPU", "gpu": "GPU", "glm": "GLM", "gpt": "GPT",
	"llm": "LLM", "nlp": "NLP", "ocr": "OCR", "tts": "TTS", "stt": "STT",
}

var (
	separators = regexp.MustCompile(`[-_/:]+`)
	digits     = regexp.MustCompile(`^[0-9]+$`)
	sizeLike   = regexp.MustCompile(`^[0-9]+[A-Za-z]$`)              // 7b, 32k
	wordDigits = regexp.MustCompile(`^[A-Za-z]+[0-9]+[A-Za-z0-9]*$`) // qwen3, o4mini
	digitsWord = regexp.MustCompile(`^[0-9]+[A-Za-z]+$`)             // 4bit
)

// DisplayName is the name opencode shows for model id: overrides[id] when
// set, else id split at - _ / : and each part normalised — known
// acronyms in capitals (GLM, GPT), sizes with an upper-case unit (7B,
// 32K), other words capitalised ("glm-4.5-air" → "GLM 4.5 Air").
func DisplayName(id string, overrides map[string]string) string {
	if n, ok := overrides[id]; ok && n != "" {
		return n
	}
	var parts []string
	for _, p := range separators.Split(id, -1) {
		if p = strings.TrimSpace(p); p != "" {
			parts = append(parts, normalisePart(p))
		}
	}
	if len(parts) == 0 {
		return id
	}
	return strings.Join(parts, " ")
}

func normalisePart(p string) string {
	lower := strings.ToLower(p)
	if a, ok := acronyms[lower]; ok {
		return a
	}
	switch {
	case digits.MatchString(p):
		return p
	case sizeLike.MatchString(p):
		unit := lower[len(lower)-1:]
		if strings.Contains("bkmgt", unit) {
			unit = strings.ToUpper(unit)
		}
		return p[:len(p)-1] + unit
	case wordDigits.MatchString(p):
		return capitalise(lower)
	case digitsWord.MatchString(p):
		return lower
	}
	return capitalise(lower)
}

// capitalise upper-cases the first letter of a lower-cased word.
func capitalise(s string) string {
	for i, r := range s {
		return string(unicode.ToUpper(r)) + s[i+len(string(r)):]
	}
	return s
}

// Diff is what changed between two lists.
type Diff struct {
	// Added and Removed are model ids.
	Added, Removed []string
	// Renamed are the ids whose display name changed.
	Renamed []string
}

// Changed reports whether anything changed.
func (d Diff) Changed() bool { return len(d.Added)+len(d.Removed)+len(d.Renamed) > 0 }

// compare returns what changed from before to after.
func compare(before, after []Model) Diff {
	var d Diff
	old := make(map[string]string, len(before))
	for _, m := range before {
		old[m.ID] = m.Name
	}
	now := make(map[string]bool, len(after))
	for _, m := range after {
		now[m.ID] = true
		name, ok := old[m.ID]
		switch {
		case !ok:
			d.Added = append(d.Added, m.ID)
		case name != m.Name:
			d.Renamed = append(d.Renamed, m.ID)
		}
	}
	for _, m := range before {
		if !now[m.ID] {
			d.Removed = append(d.Removed, m.ID)
		}
	}
	return d
}
