// Package hello is the Go reference for the course's "Hello Internet" exchange
// over TCP (spec/hello.md): message framing, a client, a server, and the
// classifier the conformance suite uses to judge what other programs send and
// print.
//
// Every protocol decision cites its requirement number in spec/hello.md.
//
// The exchange: the client connects, sends "Hello in <Language>\n", reads the
// reply "Goodbye in <Language>\n", prints it and exits; the server prints each
// client's message, replies and closes. Strictly a message is one line ending
// in '\n' (HELLO-1), but receivers also accept a message ended by the peer's
// close or by an idle gap (HELLO-2), because the course never fixed the
// framing and real programs differ.
//
// ReadMessage is that lenient receiver; Client and Server are the reference
// programs; ClassifyWire and ClassifyOutput judge what another program sent
// and printed: strict, lenient (with named leniencies) or mismatch (with a
// reason a student can act on).
package hello

import (
	"strings"
	"time"
	"unicode"
)

// Protocol constants.
const (
	// MaxMessage is the longest message a receiver accepts, in bytes,
	// terminator included (HELLO-1). Real messages are a few dozen bytes;
	// the bound keeps a peer that never sends '\n' from exhausting memory.
	MaxMessage = 64 << 10

	// DefaultIdleGap is how long a receiver that has read part of a message
	// waits for more bytes before treating the message as complete (HELLO-2).
	DefaultIdleGap = 1 * time.Second

	// MaxIdleGap is the longest idle gap a receiver SHOULD use (HELLO-2).
	MaxIdleGap = 2 * time.Second

	// DefaultTimeout bounds a whole exchange: the client gives up after it
	// (HELLO-8), the server drops a connection that has not finished by then.
	DefaultTimeout = 10 * time.Second

	// HalfCloseDelay is how long the reference client waits for the reply
	// with the connection fully open before it half-closes its side (HELLO-6;
	// see HalfClose). It is MaxIdleGap plus a second of margin, so a
	// conforming server has answered before, even to a message without '\n'.
	HalfCloseDelay = MaxIdleGap + 1*time.Second

	// DefaultLang is the language the reference names in its messages.
	DefaultLang = "Go"
)

// FormatHello returns the client's message, "Hello in <lang>\n" (HELLO-1,
// HELLO-3).
func FormatHello(lang string) string { return "Hello in " + lang + "\n" }

// FormatGoodbye returns the server's reply, "Goodbye in <lang>\n" (HELLO-1,
// HELLO-4).
func FormatGoodbye(lang string) string { return "Goodbye in " + lang + "\n" }

// ChallengeReply returns the challenge server's reply to clientMsg,
// "Goodbye <ClientLanguage> from <serverLang>\n" (HELLO-20).
//
// ClientLanguage is parsed leniently from the client's message: runs of
// whitespace (and NUL bytes) count as one space; if the message is "Hello in
// X" (the first two words compared without regard to case) ClientLanguage is
// X; otherwise it is the whole message, so a client that says something else
// sees its own words echoed back and can tell what went wrong. An empty
// message gives "Goodbye from <serverLang>\n". The reply is always one line.
func ChallengeReply(clientMsg, serverLang string) string {
	f := fields(clientMsg)
	if len(f) >= 3 && strings.EqualFold(f[0], "Hello") && strings.EqualFold(f[1], "in") {
		f = f[2:]
	}
	if len(f) == 0 {
		return "Goodbye from " + serverLang + "\n"
	}
	return "Goodbye " + strings.Join(f, " ") + " from " + serverLang + "\n"
}

// Text returns the text of a message as received: with the leading and
// trailing whitespace, '\r', '\n' and NUL bytes removed, which receivers
// tolerate (HELLO-15). A C program that sends its whole char buffer pads the
// message with NULs; they are treated as whitespace.
func Text(raw string) string { return strings.TrimFunc(raw, isBlank) }

// isBlank reports whether r is whitespace for the purposes of HELLO-15:
// Unicode white space or NUL.
func isBlank(r rune) bool { return r == 0 || unicode.IsSpace(r) }

// fields splits s at runs of blanks (see isBlank).
func fields(s string) []string { return strings.FieldsFunc(s, isBlank) }

// normalize returns s with blanks trimmed and every inner run of blanks
// replaced by one space: the form in which receivers compare messages
// (HELLO-15).
func normalize(s string) string { return strings.Join(fields(s), " ") }
