package trace

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"
)

var samples = []Event{
	{T: 0, Flow: 0, Dir: Fwd, Idx: 0, Action: Forwarded, Size: 1472, Type: "start", Seq: 0, HasSeq: true, CsumOK: true, HasCsum: true, PLen: 1449},
	{T: 12.345, Flow: 2, Dir: Rev, Idx: 7, Action: Dropped, Detail: "rule: first ack", Size: 16, Type: "ack", Seq: 8, HasSeq: true, CsumOK: true, HasCsum: true},
	{T: 99.5, Dir: Fwd, Idx: 3, Action: Release, Copy: 2, Detail: "corrupted: data: bit 3 of byte 40", Size: 100, Type: "data", Seq: 3, HasSeq: true, HasCsum: true, Err: ErrBadChecksum},
	{T: 1, Dir: Rev, Action: Forwarded, Size: 30, Type: "sack", Seq: 5, HasSeq: true, Sacks: []uint64{7, 9}, CsumOK: true, HasCsum: true},
	{T: 2, Flow: -1, Dir: Fwd, Action: Dropped, Detail: "quote \" backslash \\ newline \n tab \t bell \a non-utf8 \xff ünïcode", Size: 3, Err: ErrMalformed},
}

func TestEventRoundTrip(t *testing.T) {
	for _, e := range samples {
		line := AppendEvent(nil, &e)
		if !json.Valid(line) {
			t.Fatalf("invalid JSON: %s", line)
		}
		got, err := ParseEvent(line)
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		want := e
		want.Detail = strings.ToValidUTF8(want.Detail, "\ufffd")
		if !reflect.DeepEqual(got, want) {
			t.Errorf("round trip of %s\n got %+v\nwant %+v", line, got, want)
		}
	}
}

func TestOmitsEmptyOptionalFields(t *testing.T) {
	line := string(AppendEvent(nil, &Event{T: 1.5, Dir: Fwd, Action: Dropped, Size: 4, Err: ErrMalformed}))
	want := `{"t":1.500,"flow":0,"dir":"fwd","idx":0,"action":"dropped","size":4,"err":"malformed"}`
	if line != want {
		t.Errorf("got  %s\nwant %s", line, want)
	}
}

func TestParseEventRejects(t *testing.T) {
	for _, line := range []string{
		`{}`,
		`{"t":1,"dir":"up","action":"forwarded"}`,
		`{"t":-1,"dir":"fwd","action":"forwarded"}`,
		`{"t":1,"dir":"fwd"}`,
		`{"t":1,"dir":"fwd","action":"x","size":-3}`,
		`{"t":1,"dir":"fwd","action":"x","seq":-1}`,
		`not json`,
	} {
		if _, err := ParseEvent([]byte(line)); err == nil {
			t.Errorf("accepted %s", line)
		}
	}
}

func writeTrace(t *testing.T, events []Event, footer bool) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, Header{Mode: "udp", Seed: 42, Scenario: "loss-10", Start: time.Unix(0, 0).UTC(),
		Config: json.RawMessage(`{"mode":"udp"}`)})
	if err != nil {
		t.Fatal(err)
	}
	for i := range events {
		w.Event(&events[i])
	}
	if footer {
		if err := w.Close(Footer{T: 100, Counts: map[string]int64{"fwd_in": 3}}); err != nil {
			t.Fatal(err)
		}
	} else if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return &buf
}

func readAll(r io.Reader) (*Reader, []Event, error) {
	tr, err := NewReader(r)
	if err != nil {
		return nil, nil, err
	}
	var out []Event
	for {
		e, err := tr.Next()
		if err == io.EOF {
			return tr, out, nil
		}
		if err != nil {
			return tr, out, err
		}
		out = append(out, e)
	}
}

func TestReaderWithFooter(t *testing.T) {
	tr, got, err := readAll(writeTrace(t, samples, true))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(samples) || tr.Footer == nil || tr.Footer.Counts["fwd_in"] != 3 {
		t.Fatalf("%d events, footer %+v", len(got), tr.Footer)
	}
	if tr.Header.Seed != 42 || tr.Header.Scenario != "loss-10" || tr.Header.V != Version {
		t.Fatalf("header %+v", tr.Header)
	}
}

func TestReaderTruncatedLastLine(t *testing.T) {
	buf := writeTrace(t, samples[:2], false)
	buf.WriteString(`{"t":3.1,"flow":0,"dir":"fw`) // killed mid-write
	tr, got, err := readAll(buf)
	if !errors.Is(err, ErrTruncated) || len(got) != 2 || tr.Footer != nil {
		t.Fatalf("err %v, %d events", err, len(got))
	}
}

func TestReaderBadLineInTheMiddle(t *testing.T) {
	buf := writeTrace(t, nil, false)
	buf.WriteString("{\"t\":1,\"dir\":\"fwd\",\"action\":\"forwarded\"}\ngarbage\n{\"t\":2,\"dir\":\"fwd\",\"action\":\"forwarded\"}\n")
	_, got, err := readAll(buf)
	if err == nil || errors.Is(err, ErrTruncated) || !strings.Contains(err.Error(), "line 3") || len(got) != 1 {
		t.Fatalf("err %v after %d events", err, len(got))
	}
}

func TestReaderRejectsBadHeader(t *testing.T) {
	for _, in := range []string{"", "{}\n", `{"v":2,"kind":"header"}` + "\n", `{"t":1,"dir":"fwd","action":"x"}` + "\n"} {
		if _, err := NewReader(strings.NewReader(in)); err == nil {
			t.Errorf("accepted header %q", in)
		}
	}
}

func TestWriterStickyError(t *testing.T) {
	w, err := NewWriter(&limitWriter{n: 1 << 20}, Header{})
	if err != nil {
		t.Fatal(err)
	}
	w.w.Reset(&limitWriter{n: 10})
	for range 10000 {
		w.Event(&samples[0])
	}
	if err := w.Flush(); err == nil {
		t.Fatal("no error from a full disk")
	}
}

type limitWriter struct{ n int }

func (l *limitWriter) Write(p []byte) (int, error) {
	if len(p) > l.n {
		return 0, errors.New("disk full")
	}
	l.n -= len(p)
	return len(p), nil
}
