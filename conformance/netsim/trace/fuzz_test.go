package trace

import (
	"bytes"
	"testing"
)

// FuzzParseEvent checks that any line either fails to parse or parses to
// an event whose encoding parses back to the same encoding: the relay's
// hand-written encoder and encoding/json agree on everything a trace can
// hold.
func FuzzParseEvent(f *testing.F) {
	for _, e := range samples {
		f.Add(AppendEvent(nil, &e))
	}
	f.Add([]byte(`{"t":1e308,"dir":"rev","action":"\u2028","sacks":[18446744073709551615]}`))
	f.Add([]byte(`{"t":0.0004,"dir":"fwd","action":"x","detail":"\ud800"}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		e, err := ParseEvent(line)
		if err != nil {
			return
		}
		once := AppendEvent(nil, &e)
		e2, err := ParseEvent(once)
		if err != nil {
			t.Fatalf("re-encoded event does not parse: %v\n%s", err, once)
		}
		twice := AppendEvent(nil, &e2)
		if !bytes.Equal(once, twice) {
			t.Fatalf("encoding not stable:\n%s\n%s", once, twice)
		}
	})
}

// FuzzReader feeds whole traces: the reader must never panic, and must
// stop (EOF or error) within one call per line.
func FuzzReader(f *testing.F) {
	f.Add([]byte(`{"v":1,"kind":"header","mode":"udp","seed":1,"scenario":"x","start":"2025-01-01T00:00:00Z"}` + "\n" +
		`{"t":1,"flow":0,"dir":"fwd","idx":0,"action":"forwarded","size":3}` + "\n" +
		`{"kind":"footer","t":2}` + "\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		tr, err := NewReader(bytes.NewReader(in))
		if err != nil {
			return
		}
		for range bytes.Count(in, []byte{'\n'}) + 2 {
			if _, err := tr.Next(); err != nil {
				return
			}
		}
		t.Fatalf("reader returned more events than the input has lines")
	})
}
