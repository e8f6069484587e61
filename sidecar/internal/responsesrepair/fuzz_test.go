package responsesrepair

import (
	"bytes"
	"encoding/json"
	"io"
	"testing"
)

// FuzzRepair feeds arbitrary streams, in arbitrary chunks, and checks the
// rules that hold for every input: bytes outside data lines are kept; a
// repaired data line is still JSON with every original member unchanged;
// repairing the output again changes nothing; and splitting the input
// differently gives the same output.
func FuzzRepair(f *testing.F) {
	f.Add([]byte(omitting), uint8(7))
	f.Add(bytes.ReplaceAll([]byte(omitting), []byte("\n"), []byte("\r\n")), uint8(1))
	f.Add([]byte("data: {}\n\ndata: { }\n\n"), uint8(3))
	f.Add([]byte(`data:{"type":"response.output_text.delta","item_id":"x","content_index":null}`+"\n\n"), uint8(2))
	f.Add([]byte("event: x\nid: 4\ndata: \t{\"type\":\"response.content_part.done\"}\r\n\r\n: c\n\n"), uint8(5))
	f.Fuzz(func(t *testing.T, in []byte, chunk uint8) {
		whole := repair(t, in, len(in)+1)
		split := repair(t, in, int(chunk%32)+1)
		if !bytes.Equal(whole, split) {
			t.Fatalf("chunking changed the output:\n%q\n%q", whole, split)
		}
		if again := repair(t, whole, len(whole)+1); !bytes.Equal(again, whole) {
			t.Fatalf("repair is not idempotent:\n%q\n%q", whole, again)
		}
		inLines, outLines := bytes.SplitAfter(in, []byte("\n")), bytes.SplitAfter(whole, []byte("\n"))
		if len(inLines) != len(outLines) {
			t.Fatalf("%d lines became %d", len(inLines), len(outLines))
		}
		for i := range inLines {
			if bytes.Equal(inLines[i], outLines[i]) {
				continue
			}
			if !bytes.HasPrefix(inLines[i], []byte("data:")) {
				t.Fatalf("line %d is not a data line and changed: %q → %q", i, inLines[i], outLines[i])
			}
			var before, after map[string]json.RawMessage
			b, _ := bytes.CutPrefix(bytes.TrimRight(inLines[i], "\r\n"), []byte("data:"))
			a, _ := bytes.CutPrefix(bytes.TrimRight(outLines[i], "\r\n"), []byte("data:"))
			if json.Unmarshal(b, &before) != nil || json.Unmarshal(a, &after) != nil {
				t.Fatalf("line %d: changed a line that is not a JSON object, or broke it: %q → %q", i, inLines[i], outLines[i])
			}
			for k, v := range before {
				if !bytes.Equal(after[k], v) {
					t.Fatalf("line %d: member %q changed", i, k)
				}
			}
			for k := range after {
				if _, ok := before[k]; !ok && k != "output_index" && k != "content_index" {
					t.Fatalf("line %d: added member %q", i, k)
				}
			}
		}
	})
}

// repair runs in through a Reader, writing it in chunks of n bytes.
func repair(t *testing.T, in []byte, n int) []byte {
	t.Helper()
	pr, pw := io.Pipe()
	go func() {
		for len(in) > 0 {
			k := min(n, len(in))
			_, _ = pw.Write(in[:k])
			in = in[k:]
		}
		pw.Close()
	}()
	out, err := io.ReadAll(NewReader(pr))
	if err != nil {
		t.Fatal(err)
	}
	return out
}
