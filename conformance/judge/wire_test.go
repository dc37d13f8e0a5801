package judge

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/interop-suite/interop/conformance/netsim/trace"
	"github.com/interop-suite/interop/conformance/results"
)

// writeTCPTrace writes a simulator trace whose segments carry the given
// client and server bytes, split into tiny chunks as the simulator does.
func writeTCPTrace(t *testing.T, client, server string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "trace.jsonl")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tw, err := trace.NewWriter(f, trace.Header{Mode: "tcp", Start: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	for dir, s := range map[string]string{trace.Fwd: client, trace.Rev: server} {
		for i := 0; i < len(s); i += 3 {
			chunk := []byte(s[i:min(i+3, len(s))])
			tw.Event(&trace.Event{T: float64(i), Flow: 0, Dir: dir, Idx: uint64(i / 3), Action: trace.Segment, Size: len(chunk), Data: chunk})
		}
	}
	if err := tw.Close(trace.Footer{}); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestHelloJudgedOnTheWire(t *testing.T) {
	for _, tc := range []struct {
		name           string
		client, server string
		want           results.Verdict
		reason         string
	}{
		{"by the book", "Hello in Python\n", "Goodbye in Rust\n", results.Pass, ""},
		{"client message without newline", "Hello in Python", "Goodbye in Rust\n", results.Lenient, "client's message on the wire"},
		{"garbage before the message", "\x00\xffHello in Python\n", "Goodbye in Rust\n", results.Fail, "on the wire"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Both programs print the right text: only the wire differs.
			o := helloObs("Goodbye in Rust\n", "Hello in Python\n", true, nil)
			o.TracePath = writeTCPTrace(t, tc.client, tc.server)
			var r results.Result
			Judge(o, &r)
			text := r.Reason + strings.Join(r.Leniencies, ";")
			if r.Verdict != tc.want || !strings.Contains(text, tc.reason) {
				t.Fatalf("verdict %s (%s), want %s containing %q; wire %q / %q", r.Verdict, text, tc.want, tc.reason, o.WireClientToServer, o.WireServerToClient)
			}
		})
	}
}

func TestHelloWireUnjudgedWithoutCapture(t *testing.T) {
	o := helloObs("Goodbye in Rust\n", "Hello in Python\n", true, nil)
	o.TracePath = filepath.Join(t.TempDir(), "missing.jsonl")
	var r results.Result
	Judge(o, &r)
	if r.Verdict != results.Pass || o.WireClientToServer != nil {
		t.Fatalf("without a trace the output alone decides: %s %q", r.Verdict, r.Reason)
	}
}
