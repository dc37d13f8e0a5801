package trace

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
)

// MaxLine is the longest trace line a Reader accepts. Event lines are
// under 300 bytes; the header carries the configuration.
const MaxLine = 1 << 20

// ErrTruncated is returned by Reader.Next for a last line without its
// newline that does not parse: the relay was killed mid-write.
var ErrTruncated = errors.New("trace: last line cut short")

// Reader reads a trace line by line.
type Reader struct {
	Header Header
	Footer *Footer // set once Next has returned io.EOF after a footer

	sc   *bufio.Scanner
	line int
}

// NewReader reads and checks the header line.
func NewReader(r io.Reader) (*Reader, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), MaxLine)
	tr := &Reader{sc: sc}
	if !sc.Scan() {
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("trace header: %w", err)
		}
		return nil, errors.New("trace header: empty trace")
	}
	tr.line = 1
	if err := json.Unmarshal(sc.Bytes(), &tr.Header); err != nil {
		return nil, fmt.Errorf("trace header (line 1): %w", err)
	}
	if tr.Header.Kind != "header" {
		return nil, fmt.Errorf("trace header (line 1): kind is %q, want \"header\"", tr.Header.Kind)
	}
	if tr.Header.V != Version {
		return nil, fmt.Errorf("trace header (line 1): version %d, this reader knows %d", tr.Header.V, Version)
	}
	return tr, nil
}

// Next returns the next event, io.EOF after the last one (with Footer set
// if the trace has one), or an error naming the bad line.
func (tr *Reader) Next() (Event, error) {
	for tr.sc.Scan() {
		tr.line++
		b := bytes.TrimSpace(tr.sc.Bytes())
		if len(b) == 0 {
			continue
		}
		if tr.Footer != nil {
			return Event{}, fmt.Errorf("trace line %d: data after the footer", tr.line)
		}
		if bytes.Contains(b, []byte(`"kind"`)) {
			var f Footer
			if err := json.Unmarshal(b, &f); err == nil && f.Kind == "footer" {
				tr.Footer = &f
				continue
			}
		}
		e, err := ParseEvent(b)
		if err != nil {
			if tr.atEnd() {
				return Event{}, ErrTruncated
			}
			return Event{}, fmt.Errorf("trace line %d: %w", tr.line, err)
		}
		return e, nil
	}
	if err := tr.sc.Err(); err != nil {
		return Event{}, fmt.Errorf("trace line %d: %w", tr.line+1, err)
	}
	return Event{}, io.EOF
}

// atEnd reports whether the line just scanned was the last one. The
// scanner gives no way to see a missing final newline, so this asks for
// one more line: a bad line is forgiven only when nothing follows it.
func (tr *Reader) atEnd() bool {
	return !tr.sc.Scan() && tr.sc.Err() == nil
}

// Line is the number of the line Next read last (the header is line 1).
func (tr *Reader) Line() int { return tr.line }

// wireEvent is the JSON shape of Event, with pointers for the fields whose
// zero value is meaningful.
type wireEvent struct {
	T      *float64 `json:"t"`
	Flow   int      `json:"flow"`
	Dir    string   `json:"dir"`
	Idx    uint64   `json:"idx"`
	Action string   `json:"action"`
	Detail string   `json:"detail"`
	Copy   int      `json:"copy"`
	Size   int      `json:"size"`
	Type   string   `json:"type"`
	Seq    *uint64  `json:"seq"`
	Sacks  []uint64 `json:"sacks"`
	CsumOK *bool    `json:"csum_ok"`
	Err    string   `json:"err"`
	PLen   int      `json:"plen"`
	Data   []byte   `json:"data"` // base64
}

// ParseEvent decodes one event line. Unknown fields are ignored (later
// minor versions may add some); t, dir and action are required.
func ParseEvent(line []byte) (Event, error) {
	var w wireEvent
	if err := json.Unmarshal(line, &w); err != nil {
		return Event{}, err
	}
	switch {
	case w.T == nil:
		return Event{}, errors.New(`event without "t"`)
	case *w.T < 0 || math.IsInf(*w.T, 0) || math.IsNaN(*w.T):
		return Event{}, fmt.Errorf("event time %v out of range", *w.T)
	case w.Dir != Fwd && w.Dir != Rev:
		return Event{}, fmt.Errorf("event dir %q, want %q or %q", w.Dir, Fwd, Rev)
	case w.Action == "":
		return Event{}, errors.New(`event without "action"`)
	case w.Size < 0 || w.Copy < 0 || w.PLen < 0 || w.Flow < -1:
		return Event{}, errors.New("event with a negative size, copy, plen or flow")
	}
	e := Event{
		T: *w.T, Flow: w.Flow, Dir: w.Dir, Idx: w.Idx, Action: w.Action,
		Detail: w.Detail, Copy: w.Copy, Size: w.Size, Type: w.Type,
		Sacks: w.Sacks, Err: w.Err, PLen: w.PLen, Data: w.Data,
	}
	if w.Seq != nil {
		e.Seq, e.HasSeq = *w.Seq, true
	}
	if w.CsumOK != nil {
		e.CsumOK, e.HasCsum = *w.CsumOK, true
	}
	return e, nil
}
