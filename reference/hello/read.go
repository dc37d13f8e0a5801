package hello

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"
)

// Termination tells how a received message ended (HELLO-1, HELLO-2).
type Termination int

// The ways a message can end. Only ByNewline is strict (HELLO-1); the others
// are what a conforming receiver also accepts (HELLO-2).
const (
	ByNewline Termination = iota + 1 // a '\n' arrived
	ByClose                          // the peer half-closed or closed (EOF)
	ByIdleGap                        // no byte arrived for the idle gap
	ByReset                          // the peer reset the connection after sending
)

func (t Termination) String() string {
	switch t {
	case ByNewline:
		return "newline"
	case ByClose:
		return "close"
	case ByIdleGap:
		return "idle gap"
	case ByReset:
		return "reset"
	}
	return fmt.Sprintf("Termination(%d)", int(t))
}

// Errors returned by ReadMessage.
var (
	// ErrTooLong: the peer sent more than MaxMessage bytes without ending
	// the message (HELLO-1).
	ErrTooLong = fmt.Errorf("message longer than %d bytes", MaxMessage)
	// ErrNoMessage: the connection ended before the first byte arrived.
	ErrNoMessage = errors.New("connection closed before any byte of a message arrived")
)

// deadliner is the part of net.Conn that ReadMessage needs for the idle gap.
type deadliner interface {
	SetReadDeadline(t time.Time) error
}

// maxEmptyReads bounds consecutive reads that return neither data nor an
// error, as bufio does, so a broken reader cannot make ReadMessage spin.
const maxEmptyReads = 100

// ReadMessage reads one message from r the way a conforming receiver does
// (HELLO-2): the message ends at the first '\n', at EOF (the peer
// half-closed or closed), when the peer resets the connection after sending
// at least one byte, or after idleGap with no new byte once at least one byte
// has arrived. Whitespace is left in place; use Text for the message's text.
//
// msg holds the bytes of the message as received, including the '\n' when
// how is ByNewline. Bytes after that '\n' that arrived in the same read are
// discarded: each side sends one message per connection (HELLO-1).
//
// The idle gap needs read deadlines: it applies when r has a
// SetReadDeadline method (a net.Conn) and idleGap > 0; with other readers
// the message ends only at '\n' or EOF. The idle gap starts only after the
// first byte: before that, ReadMessage waits until deadline. deadline (zero
// for none) bounds the whole read; it is passed in rather than set on the
// connection by the caller because ReadMessage moves the connection's read
// deadline for the idle gap, and it leaves the read deadline at deadline when
// it returns.
//
// A message longer than MaxMessage bytes gives ErrTooLong after reading at
// most MaxMessage plus one buffer, whatever the peer sends (HELLO-1). EOF
// before any byte gives ErrNoMessage. Other errors are returned as they are,
// wrapped when part of a message had arrived (a deadline gives an error
// matching os.ErrDeadlineExceeded); msg then holds the partial message.
func ReadMessage(r io.Reader, idleGap time.Duration, deadline time.Time) (msg string, how Termination, err error) {
	d, _ := r.(deadliner)
	idle := d != nil && idleGap > 0
	if d != nil {
		if err := d.SetReadDeadline(deadline); err != nil {
			return "", 0, err
		}
		defer d.SetReadDeadline(deadline)
	}
	var (
		got   []byte
		buf   [512]byte
		empty int
	)
	for {
		n, rerr := r.Read(buf[:])
		if n > 0 {
			empty = 0
			chunk := buf[:n]
			i := bytes.IndexByte(chunk, '\n')
			if i >= 0 {
				chunk = chunk[:i+1]
			}
			if len(got)+len(chunk) > MaxMessage {
				return "", 0, ErrTooLong
			}
			got = append(got, chunk...)
			if i >= 0 {
				return string(got), ByNewline, nil
			}
			if idle {
				next := time.Now().Add(idleGap)
				if !deadline.IsZero() && deadline.Before(next) {
					next = deadline
				}
				if err := d.SetReadDeadline(next); err != nil {
					return string(got), 0, err
				}
			}
		}
		if rerr == nil {
			if n == 0 {
				if empty++; empty >= maxEmptyReads {
					return string(got), 0, io.ErrNoProgress
				}
			}
			continue
		}
		switch {
		case len(got) == 0 && errors.Is(rerr, io.EOF):
			return "", 0, ErrNoMessage
		case len(got) == 0:
			return "", 0, rerr
		case errors.Is(rerr, io.EOF):
			return string(got), ByClose, nil
		case errors.Is(rerr, syscall.ECONNRESET):
			// A server that closes with unread input resets the connection
			// instead of closing it; the reply before the reset is intact.
			return string(got), ByReset, nil
		case idle && errors.Is(rerr, os.ErrDeadlineExceeded) && (deadline.IsZero() || time.Now().Before(deadline)):
			return string(got), ByIdleGap, nil
		}
		return string(got), 0, fmt.Errorf("message incomplete after %d bytes: %w", len(got), rerr)
	}
}
