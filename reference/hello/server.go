package hello

import (
	"context"
	"errors"
	"io"
	"log"
	"net"
	"strings"
	"sync"
	"time"
)

// lingerTime bounds how long the server waits, after replying, for the client
// to close before it closes the connection itself (HELLO-12).
const lingerTime = MaxIdleGap

// Server is the reference Hello server. The zero value is ready to use and
// behaves strictly: it replies "Goodbye in Go\n".
type Server struct {
	// Lang is the language named in the reply; empty means DefaultLang.
	Lang string
	// Challenge turns on the challenge variant: the reply is
	// ChallengeReply (HELLO-20) and the client's IP address is printed
	// (HELLO-21).
	Challenge bool
	// OmitNewline sends the reply without its '\n'. It is a probe for
	// testing that a client accepts a reply ended by the close or an idle gap
	// (HELLO-2, HELLO-6); a conforming server never does this (HELLO-1).
	OmitNewline bool
	// IdleGap ends a message that has no '\n' (HELLO-2); zero means
	// DefaultIdleGap.
	IdleGap time.Duration
	// Timeout bounds each connection's exchange: a client that has sent no
	// complete message by then is dropped without a reply; zero means
	// DefaultTimeout.
	Timeout time.Duration
	// Out receives what the protocol says to print (HELLO-11, HELLO-21), one
	// line per write; nil discards it. Lines of different connections never
	// interleave.
	Out io.Writer
	// Log receives diagnostics (peer address, raw message, how it ended,
	// errors); nil discards them.
	Log *log.Logger

	outMu sync.Mutex
}

// Serve accepts connections on ln and serves each in its own goroutine, so
// a slow or silent client never blocks another (HELLO-13, HELLO-14). When
// ctx is done it closes ln and every open connection, waits for their
// goroutines and returns nil. It also closes ln when it returns an error.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	defer ln.Close()
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	var wg sync.WaitGroup
	defer wg.Wait()

	var backoff time.Duration
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, net.ErrClosed) {
				return err
			}
			// E.g. out of file descriptors: keep serving once it passes,
			// as net/http does (HELLO-13).
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			s.logf("accept: %v; retrying in %v", err, backoff)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(backoff):
			}
			continue
		}
		backoff = 0
		wg.Go(func() { s.serveConn(ctx, conn) })
	}
}

// serveConn runs one exchange: read the message, print it, reply, close.
func (s *Server) serveConn(ctx context.Context, conn net.Conn) {
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	peer := conn.RemoteAddr().String()
	deadline := time.Now().Add(or(s.Timeout, DefaultTimeout))
	raw, how, err := ReadMessage(conn, or(s.IdleGap, DefaultIdleGap), deadline)
	if err != nil {
		s.logf("%s: no reply sent: %v", peer, err)
		return
	}

	lang := or(s.Lang, DefaultLang)
	reply, out := FormatGoodbye(lang), Text(raw)+"\n" // HELLO-4, HELLO-11
	if s.Challenge {
		reply = ChallengeReply(raw, lang)              // HELLO-20
		out = clientIP(conn.RemoteAddr()) + "\n" + out // HELLO-21
	}
	if s.OmitNewline {
		reply = strings.TrimSuffix(reply, "\n")
	}
	// Printed before replying, so the message is on stdout by the time the
	// client has its reply (HELLO-11).
	s.print(out)

	if err := conn.SetWriteDeadline(deadline); err != nil {
		s.logf("%s: %v", peer, err)
		return
	}
	if _, err := io.WriteString(conn, reply); err != nil {
		s.logf("%s: sending the reply: %v", peer, err)
		return
	}
	s.logf("%s: got %s (ended by %v), replied %s", peer, quote(raw), how, quote(reply))

	// HELLO-12: reply, then close. Closing a socket that still holds unread
	// input makes the kernel reset the connection instead of closing it, and
	// some stacks then drop a reply the client has not read yet. So the
	// server half-closes (the client sees EOF right after the reply), then
	// discards what the client still sends until the client closes, for at
	// most lingerTime, and only then closes.
	if tc, ok := conn.(closeWriter); ok {
		tc.CloseWrite()
	}
	conn.SetReadDeadline(time.Now().Add(lingerTime))
	io.Copy(io.Discard, io.LimitReader(conn, MaxMessage))
}

func (s *Server) print(out string) {
	if s.Out == nil {
		return
	}
	s.outMu.Lock()
	defer s.outMu.Unlock()
	io.WriteString(s.Out, out)
}

func (s *Server) logf(format string, args ...any) {
	if s.Log != nil {
		s.Log.Printf(format, args...)
	}
}

// clientIP returns the IP address of a peer, IPv4-mapped IPv6 addresses in
// their IPv4 form (HELLO-21).
func clientIP(a net.Addr) string {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.AddrPort().Addr().Unmap().String()
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}
