package main

// The --silent probes: peers that never finish an exchange, for the suite's
// Hello probes (spec/hello.md, "Cases"). Neither conforms to the protocol;
// they exist to test how another program copes with a peer that stays
// silent.
//
//   - hello --silent server PORT: accepts every connection, reads and
//     discards what arrives, and never replies nor closes until it is
//     stopped (the client probe silent-server, HELLO-8).
//   - hello --silent client HOST PORT: opens two connections to the server,
//     one that sends nothing and one that sends the first 3 bytes of its
//     message ("Hel") and stops, and keeps both open until --timeout or
//     SIGTERM (the server probe silent-client, HELLO-14). It prints
//     "hello client: silent: 2 connections open" on stderr once both are
//     connected, which the suite waits for before it starts the real client.

import (
	"context"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/interop-suite/interop/reference/hello"
)

// SilentReady is the stderr line of the silent client once its connections
// are open.
const SilentReady = "hello client: silent: 2 connections open"

// silentPrefix is what the second silent connection sends: the start of a
// message, never finished.
const silentPrefix = 3

func runSilentServer(ctx context.Context, o options, stderr io.Writer) int {
	ln, err := net.Listen("tcp", net.JoinHostPort("", o.args[0]))
	if err != nil {
		fmt.Fprintf(stderr, "hello server: %v\n", err)
		return 1
	}
	fmt.Fprintf(stderr, "hello server: listening on %s\n", ln.Addr())
	fmt.Fprintf(stderr, "hello server: --silent probe: reads, never replies, never closes (not conforming, HELLO-12)\n")
	var mu sync.Mutex
	logf := func(format string, a ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(stderr, "hello server: silent: "+format+"\n", a...)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return 0
			}
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				continue
			}
			fmt.Fprintf(stderr, "hello server: %v\n", err)
			return 1
		}
		wg.Go(func() {
			defer conn.Close()
			stop := context.AfterFunc(ctx, func() { conn.Close() })
			defer stop()
			peer := conn.RemoteAddr().String()
			// Reads the message as a conforming server would, says what
			// it got, then keeps reading (and discarding) without ever
			// answering, until the client closes or the server is stopped.
			raw, how, err := hello.ReadMessage(conn, o.idleGap, time.Now().Add(24*time.Hour))
			if err != nil {
				logf("%s: %v", peer, err)
			} else {
				logf("%s: got %q (ended by %v); not replying", peer, raw, how)
			}
			n, _ := io.Copy(io.Discard, conn)
			if ctx.Err() == nil {
				logf("%s: the client closed its side (%d more bytes); not closing", peer, n)
				<-ctx.Done()
			}
		})
	}
}

func runSilentClient(ctx context.Context, o options, stderr io.Writer) int {
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	address := net.JoinHostPort(o.args[0], o.args[1])
	msg := hello.FormatHello(o.lang)
	sends := []string{"", msg[:silentPrefix]}
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	var d net.Dialer
	for _, s := range sends {
		c, err := d.DialContext(ctx, "tcp", address)
		if err != nil {
			fmt.Fprintf(stderr, "hello client: silent: could not connect to %s: %v\n", address, err)
			return 1
		}
		conns = append(conns, c)
		if s != "" {
			if _, err := io.WriteString(c, s); err != nil {
				fmt.Fprintf(stderr, "hello client: silent: could not send %q to %s: %v\n", s, address, err)
				return 1
			}
		}
	}
	fmt.Fprintf(stderr, "%s to %s (one sent nothing, one sent %q); holding them for %v (--silent probe, not conforming)\n", SilentReady, address, sends[1], o.timeout)
	// Whatever a server answers on them is read (so closing them later
	// never resets a connection with unread data) and reported.
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i, c := range conns {
		wg.Go(func() {
			b, _ := io.ReadAll(io.LimitReader(c, hello.MaxMessage))
			if ctx.Err() == nil {
				mu.Lock()
				fmt.Fprintf(stderr, "hello client: silent: connection %d got %q and was closed by the server\n", i+1, b)
				mu.Unlock()
			}
		})
	}
	<-ctx.Done()
	for _, c := range conns {
		c.Close()
	}
	wg.Wait()
	fmt.Fprintf(stderr, "hello client: silent: closed both connections\n")
	return 0
}
