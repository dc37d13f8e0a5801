package hello

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"time"
)

// HalfClose says when the client shuts down its sending side of the
// connection (a TCP half-close: the server reads EOF but can still reply).
// It implements flag.Value with the names "delayed", "never" and "now".
//
// Why the default is HalfCloseDelayed (HELLO-6): a half-close after the
// message is legal TCP and is the only way to reach servers that read until
// EOF before replying. But some course servers treat EOF as "client gone"
// and skip the reply (e.g. a Node server whose socket ends itself when the
// client's FIN arrives before an asynchronous reply is written). A
// conforming server replies within MaxIdleGap of the message, so the client
// first waits HalfCloseDelay for the reply with the connection fully open,
// which suits every server that answers without EOF, and only then
// half-closes, which rescues the servers that wait for EOF, at the cost of
// HalfCloseDelay of extra latency for them alone.
type HalfClose int

// Half-close policies.
const (
	HalfCloseDelayed HalfClose = iota // after HalfCloseDelay without a reply byte (default)
	HalfCloseNever                    // never: the server must see '\n' or the idle gap
	HalfCloseNow                      // right after sending the message
)

var halfCloseNames = [...]string{HalfCloseDelayed: "delayed", HalfCloseNever: "never", HalfCloseNow: "now"}

func (h HalfClose) String() string {
	if h >= 0 && int(h) < len(halfCloseNames) {
		return halfCloseNames[h]
	}
	return fmt.Sprintf("HalfClose(%d)", int(h))
}

// Set parses a policy name, for flag.Var.
func (h *HalfClose) Set(s string) error {
	for i, name := range halfCloseNames {
		if s == name {
			*h = HalfClose(i)
			return nil
		}
	}
	return fmt.Errorf("unknown half-close policy %q (want delayed, never or now)", s)
}

// Client is the reference Hello client. The zero value is ready to use and
// behaves strictly: it sends "Hello in Go\n".
type Client struct {
	// Lang is the language named in the message; empty means DefaultLang.
	Lang string
	// Timeout bounds the whole exchange, connecting included (HELLO-8);
	// zero means DefaultTimeout.
	Timeout time.Duration
	// IdleGap ends a reply that has no '\n' (HELLO-2); zero means
	// DefaultIdleGap.
	IdleGap time.Duration
	// HalfClose says when to half-close; see HalfClose.
	HalfClose HalfClose
	// OmitNewline sends the message without its '\n'. It is a probe for
	// testing that a server accepts a message ended by a half-close or an
	// idle gap (HELLO-2); a conforming client never does this (HELLO-1).
	OmitNewline bool
}

// Exchange connects to address ("host:port"; a host name is resolved,
// HELLO-5), sends the message (HELLO-1, HELLO-3), and reads the reply the way
// a conforming receiver does (HELLO-2, HELLO-6). reply is the reply as
// received; print Text(reply) (HELLO-7).
//
// The error says what went wrong in words meant for a person (HELLO-8):
// "could not resolve host", "could not connect", "server closed the
// connection without replying", "no reply ... within".
func (c *Client) Exchange(ctx context.Context, address string) (reply string, how Termination, err error) {
	timeout := or(c.Timeout, DefaultTimeout)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	deadline, _ := ctx.Deadline()

	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", address)
	if err != nil {
		return "", 0, dialError(address, timeout, err)
	}
	defer conn.Close()
	// A cancelled parent context (SIGINT) interrupts the exchange at once.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	msg := FormatHello(or(c.Lang, DefaultLang))
	if c.OmitNewline {
		msg = msg[:len(msg)-1]
	}
	if err := conn.SetWriteDeadline(deadline); err != nil {
		return "", 0, err
	}
	if _, err := conn.Write([]byte(msg)); err != nil {
		return "", 0, fmt.Errorf("could not send the message to %s: %w", address, err)
	}

	if tc, ok := conn.(closeWriter); ok {
		switch c.HalfClose {
		case HalfCloseNow:
			tc.CloseWrite()
		case HalfCloseDelayed:
			// Fires only while the reply is still being awaited; see HalfClose.
			t := time.AfterFunc(HalfCloseDelay, func() { tc.CloseWrite() })
			defer t.Stop()
		}
	}

	reply, how, err = ReadMessage(conn, or(c.IdleGap, DefaultIdleGap), deadline)
	switch {
	case err == nil:
		return reply, how, nil
	case ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded):
		return reply, 0, ctx.Err()
	case errors.Is(err, ErrNoMessage):
		return "", 0, fmt.Errorf("server %s closed the connection without replying", address)
	case errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded):
		if reply != "" {
			return reply, 0, fmt.Errorf("reply from %s incomplete within %v: got %s, still no newline, close or pause", address, timeout, quote(reply))
		}
		return "", 0, fmt.Errorf("no reply from %s within %v", address, timeout)
	case errors.Is(err, ErrTooLong):
		return "", 0, fmt.Errorf("reply from %s: %w", address, err)
	}
	return reply, 0, fmt.Errorf("reading the reply from %s: %w", address, err)
}

// dialError turns a dial failure into a message a student can act on
// (HELLO-5, HELLO-8).
func dialError(address string, timeout time.Duration, err error) error {
	var dns *net.DNSError
	var op *net.OpError
	switch {
	case errors.As(err, &dns):
		return fmt.Errorf("could not resolve host %q: %w", dns.Name, err)
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Errorf("could not connect to %s within %v", address, timeout)
	case errors.As(err, &op) && op.Err != nil:
		return fmt.Errorf("could not connect to %s: %w", address, op.Err)
	}
	return fmt.Errorf("could not connect to %s: %w", address, err)
}

// closeWriter is the half-close of *net.TCPConn.
type closeWriter interface{ CloseWrite() error }

// or returns d if v is zero.
func or[T comparable](v, d T) T {
	var zero T
	if v == zero {
		return d
	}
	return v
}
