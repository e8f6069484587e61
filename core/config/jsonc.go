package config

// stripJSONC turns JSON with comments (// and /* */) and trailing commas
// into plain JSON, as opencode accepts in opencode.json. Comments and
// trailing commas become spaces (newlines are kept), so byte offsets and
// line numbers in later JSON errors still point into the original text.
// The input is not modified.
func stripJSONC(in []byte) []byte {
	out := make([]byte, len(in))
	copy(out, in)
	inString := false
	lastComma := -1 // offset of a comma after a value, not yet followed by another value
	var prev byte   // last significant byte outside strings and comments
	for i := 0; i < len(out); i++ {
		c := out[i]
		if inString {
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
				prev = '"'
			}
			continue
		}
		switch {
		case c == '"':
			inString = true
			lastComma = -1
		case c == '/' && i+1 < len(out) && out[i+1] == '/':
			for ; i < len(out) && out[i] != '\n'; i++ {
				out[i] = ' '
			}
		case c == '/' && i+1 < len(out) && out[i+1] == '*':
			out[i], out[i+1] = ' ', ' '
			for i += 2; i < len(out); i++ {
				if out[i] == '*' && i+1 < len(out) && out[i+1] == '/' {
					out[i], out[i+1] = ' ', ' '
					i++
					break
				}
				if out[i] != '\n' {
					out[i] = ' '
				}
			}
		case c == ',':
			lastComma = -1
			if prev != 0 && prev != '{' && prev != '[' && prev != ',' && prev != ':' {
				lastComma = i
			}
			prev = c
		case c == '}' || c == ']':
			if lastComma >= 0 {
				out[lastComma] = ' '
			}
			lastComma = -1
			prev = c
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
		default:
			lastComma = -1
			prev = c
		}
	}
	return out
}

// PlainJSON returns opencode.json text, which may hold comments and
// trailing commas (JSONC), as plain JSON. The input is not modified.
func PlainJSON(data []byte) []byte { return stripJSONC(data) }
