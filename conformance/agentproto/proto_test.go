package agentproto

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestParseRequest(t *testing.T) {
	ok := []string{
		`{"op":"ping"}`,
		`{"op":"exec","argv":["/x","-p","1"],"dir":"/out","env":["HOME=/tmp","A=b=c"]}`,
		`{"op":"exec","argv":["sh"]}` + "\n",
		`{"op":"signal","sig":15}`,
		`{"op":"signal","sig":9}`,
		`{"op":"reset"}`,
		`{"op":"reset","dirs":["/tmp","/out"]}`,
	}
	for _, line := range ok {
		if _, err := ParseRequest([]byte(line)); err != nil {
			t.Errorf("%s: %v", line, err)
		}
	}
	bad := map[string]string{
		``:                                        "bad request",
		`{"op":"ping"} {"op":"ping"}`:             "text after",
		`{"op":"ping","extra":1}`:                 "unknown field",
		`{"op":"fork"}`:                           "unknown op",
		`{"op":"exec"}`:                           "empty argv",
		`{"op":"exec","argv":[""]}`:               "empty argv",
		`{"op":"exec","argv":["a\u0000b"]}`:       "NUL",
		`{"op":"exec","argv":["a"],"dir":"x"}`:    "not absolute",
		`{"op":"exec","argv":["a"],"env":["X"]}`:  "not K=V",
		`{"op":"exec","argv":["a"],"env":["=X"]}`: "not K=V",
		`{"op":"signal","sig":19}`:                "not one of",
		`{"op":"signal"}`:                         "not one of",
		`{"op":"reset","dirs":["tmp"]}`:           "clean absolute",
		`{"op":"reset","dirs":["/out/../etc"]}`:   "clean absolute",
		`{"op":"reset","dirs":["/"]}`:             "clean absolute",
		`[1,2]`:                                   "bad request",
	}
	for line, want := range bad {
		_, err := ParseRequest([]byte(line))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want an error with %q", line, err, want)
		}
	}
}

// A peer that sends an endless line is cut off at the limit, without the
// reader buffering it all.
func TestReadRequestBounded(t *testing.T) {
	endless := io.MultiReader(strings.NewReader(`{"op":"exec","argv":["`), &repeat{b: 'a'})
	cr := &countingReader{r: endless}
	_, err := ReadRequest(bufio.NewReaderSize(cr, 4096))
	if !errors.Is(err, ErrTooLong) {
		t.Fatalf("got %v, want ErrTooLong", err)
	}
	if cr.n > MaxRequest+8192 {
		t.Errorf("read %d bytes for a request limit of %d", cr.n, MaxRequest)
	}
	// Two requests on one connection are read one at a time.
	br := bufio.NewReader(strings.NewReader(`{"op":"exec","argv":["a"]}` + "\n" + `{"op":"signal","sig":15}` + "\n"))
	q1, err1 := ReadRequest(br)
	q2, err2 := ReadRequest(br)
	_, err3 := ReadRequest(br)
	if err1 != nil || err2 != nil || q1.Op != OpExec || q2.Sig != 15 || err3 != io.EOF {
		t.Errorf("got %v %v, %v %v, %v", q1, err1, q2, err2, err3)
	}
	// A line cut by the end of the connection is not a request.
	if _, err := ReadRequest(bufio.NewReader(strings.NewReader(`{"op":"ping"}`))); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("unterminated line: %v", err)
	}
}

func TestFrames(t *testing.T) {
	var b bytes.Buffer
	big := bytes.Repeat([]byte{0, '|', 0xff}, MaxFrame/3)
	for _, f := range []struct {
		typ byte
		p   []byte
	}{{FrameStdout, []byte("hello\n")}, {FrameStderr, nil}, {FrameStdout, big}} {
		if err := WriteFrame(&b, f.typ, f.p); err != nil {
			t.Fatal(err)
		}
	}
	if err := WriteFrame(&b, FrameStdout, make([]byte, MaxFrame+1)); err == nil {
		t.Error("an oversized frame was written")
	}
	WriteJSON(&b, FrameExit, ExitStatus{Code: 137, Signal: 9})
	var buf []byte
	for i, want := range [][]byte{[]byte("hello\n"), {}, big, []byte(`{"code":137,"signal":9}`)} {
		typ, p, err := ReadFrame(&b, &buf)
		if err != nil || !bytes.Equal(p, want) {
			t.Fatalf("frame %d: %c %q %v", i, typ, p, err)
		}
	}
	if _, _, err := ReadFrame(&b, &buf); err != io.EOF {
		t.Errorf("after the last frame: %v", err)
	}
	// A length beyond the limit is refused before anything is allocated.
	if _, _, err := ReadFrame(bytes.NewReader([]byte{'o', 0xff, 0xff, 0xff, 0xff}), &buf); err == nil {
		t.Error("a 4 GiB frame was accepted")
	}
	if _, _, err := ReadFrame(bytes.NewReader([]byte{'o', 0, 0, 0, 9, 'a'}), &buf); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("a cut frame: %v", err)
	}
}

// Any program in a host container can write to the agent's socket: no
// line may crash the parser, and what it accepts must pass Check.
func FuzzParseRequest(f *testing.F) {
	for _, s := range []string{`{"op":"ping"}`, `{"op":"exec","argv":["/x"],"dir":"/out","env":["A=b"]}`,
		`{"op":"signal","sig":15}`, `{"op":"reset","dirs":["/tmp"]}`, `{"op":"exec","argv":null}`, `{"op":1}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		q, err := ParseRequest(line)
		if err != nil {
			return
		}
		if err := q.Check(); err != nil {
			t.Fatalf("accepted %q but Check says %v", line, err)
		}
		if q.Op == OpExec && (len(q.Argv) == 0 || len(q.Argv) > MaxArgs) {
			t.Fatalf("accepted argv %q", q.Argv)
		}
		// What the suite would send for it parses back the same.
		if q2, err := ParseRequest(q.Marshal()); err != nil || q2.Op != q.Op {
			t.Fatalf("re-encoding %q: %v", line, err)
		}
	})
}

// The suite reads frames from the socket; whatever stands behind it, a
// frame never exceeds the limit and the reader never panics.
func FuzzReadFrame(f *testing.F) {
	var b bytes.Buffer
	WriteFrame(&b, FrameStdout, []byte("x"))
	WriteJSON(&b, FrameExit, ExitStatus{Code: 1})
	f.Add(b.Bytes())
	f.Add([]byte{'o', 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		var buf []byte
		for {
			_, p, err := ReadFrame(r, &buf)
			if err != nil {
				return
			}
			if len(p) > MaxFrame {
				t.Fatalf("frame of %d bytes", len(p))
			}
		}
	})
}

type repeat struct{ b byte }

func (r *repeat) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = r.b
	}
	return len(p), nil
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}
