package trace

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"sync"
	"unicode/utf8"
)

// Writer writes a trace. It is safe for concurrent use (the TCP relay
// writes from one goroutine per connection); the UDP relay writes from a
// single loop, so the lock is never contended there.
//
// Write errors are sticky: the first one is kept, later writes are
// skipped, and Flush and Close report it. A relay never stops forwarding
// because its trace disk is full.
type Writer struct {
	mu  sync.Mutex
	w   *bufio.Writer
	buf []byte
	err error
}

// NewWriter writes h (with V and Kind filled in) and returns a Writer for
// the events that follow.
func NewWriter(w io.Writer, h Header) (*Writer, error) {
	h.V, h.Kind = Version, "header"
	line, err := json.Marshal(h)
	if err != nil {
		return nil, fmt.Errorf("trace header: %w", err)
	}
	tw := &Writer{w: bufio.NewWriterSize(w, 64<<10)}
	tw.w.Write(append(line, '\n'))
	if err := tw.w.Flush(); err != nil {
		return nil, fmt.Errorf("trace header: %w", err)
	}
	return tw, nil
}

// Event appends one event line. It does not flush.
func (tw *Writer) Event(e *Event) {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	if tw.err != nil {
		return
	}
	tw.buf = AppendEvent(tw.buf[:0], e)
	tw.buf = append(tw.buf, '\n')
	_, tw.err = tw.w.Write(tw.buf)
}

// Flush writes buffered events to the underlying writer.
func (tw *Writer) Flush() error {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	if tw.err == nil {
		tw.err = tw.w.Flush()
	}
	return tw.err
}

// Close writes the footer and flushes. The caller closes the file.
func (tw *Writer) Close(f Footer) error {
	f.Kind = "footer"
	line, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("trace footer: %w", err)
	}
	tw.mu.Lock()
	if tw.err == nil {
		_, tw.err = tw.w.Write(append(line, '\n'))
	}
	tw.mu.Unlock()
	return tw.Flush()
}

// AppendEvent appends e's JSON object (without a newline) to b. Field order
// is fixed, and t has microsecond resolution.
func AppendEvent(b []byte, e *Event) []byte {
	b = append(b, `{"t":`...)
	b = strconv.AppendFloat(b, e.T, 'f', 3, 64)
	b = append(b, `,"flow":`...)
	b = strconv.AppendInt(b, int64(e.Flow), 10)
	b = append(b, `,"dir":`...)
	b = appendString(b, e.Dir)
	b = append(b, `,"idx":`...)
	b = strconv.AppendUint(b, e.Idx, 10)
	b = append(b, `,"action":`...)
	b = appendString(b, e.Action)
	if e.Detail != "" {
		b = append(b, `,"detail":`...)
		b = appendString(b, e.Detail)
	}
	if e.Copy != 0 {
		b = append(b, `,"copy":`...)
		b = strconv.AppendInt(b, int64(e.Copy), 10)
	}
	b = append(b, `,"size":`...)
	b = strconv.AppendInt(b, int64(e.Size), 10)
	if e.Type != "" {
		b = append(b, `,"type":`...)
		b = appendString(b, e.Type)
	}
	if e.HasSeq {
		b = append(b, `,"seq":`...)
		b = strconv.AppendUint(b, e.Seq, 10)
	}
	if len(e.Sacks) > 0 {
		b = append(b, `,"sacks":[`...)
		for i, s := range e.Sacks {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendUint(b, s, 10)
		}
		b = append(b, ']')
	}
	if e.HasCsum {
		b = append(b, `,"csum_ok":`...)
		b = strconv.AppendBool(b, e.CsumOK)
	}
	if e.Err != "" {
		b = append(b, `,"err":`...)
		b = appendString(b, e.Err)
	}
	if e.PLen != 0 {
		b = append(b, `,"plen":`...)
		b = strconv.AppendInt(b, int64(e.PLen), 10)
	}
	if len(e.Data) > 0 {
		b = append(b, `,"data":"`...)
		b = base64.StdEncoding.AppendEncode(b, e.Data)
		b = append(b, '"')
	}
	return append(b, '}')
}

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD,
// as encoding/json does, so any Go string round-trips to valid JSON.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return append(b, '"')
}
