// Command hello is the Go reference for the course's Hello Internet exchange
// over TCP (spec/hello.md), built on package reference/hello.
//
// Usage (the course's argument order, HELLO-30):
//
//	hello [flags] client HOST PORT
//	hello [flags] server PORT
//
// Flags may come anywhere: before the role, between the role and its
// arguments, or after them ("--" ends the flags). Each may be written with
// one dash or two.
//
//	--lang NAME          language named in the message or reply (default Go)
//	--challenge          server: challenge variant; reply "Goodbye <ClientLanguage>
//	                     from <ServerLanguage>" and print each client's IP (HELLO-20, HELLO-21)
//	--timeout D          client: bound on the whole exchange; server: bound on each
//	                     connection (default 10s)
//	--idle-gap D         end a message without '\n' after this pause (default 1s, HELLO-2)
//	--half-close POLICY  client: delayed (default), never or now (see hello.HalfClose)
//	--no-newline         probe: send the message or reply without its '\n', to test
//	                     that the peer accepts it (HELLO-2); not conforming (HELLO-1)
//	--silent             probe: server: accept and read, never reply nor close
//	                     (HELLO-8); client: open two connections that never finish
//	                     a message and hold them for --timeout (HELLO-14). Not
//	                     conforming; see silent.go
//
// The client connects to HOST (a name or an address) and PORT, sends
// "Hello in <lang>\n", prints the reply's text on stdout and exits 0. On
// failure (cannot resolve, cannot connect, no reply within the timeout) it
// prints "hello client: <reason>" on stderr and exits 1.
//
// The server listens on PORT on all addresses (0 picks a free port), prints
// "hello server: listening on ADDR" on stderr, and serves clients
// concurrently until SIGINT or SIGTERM, then exits 0. For each client it
// prints the message's text on stdout, one line (in challenge mode preceded
// by a line with the client's IP address), and a diagnostic line on stderr.
//
// Exit status: 0 success, 1 failure, 2 bad usage.
//
// It builds static: CGO_ENABLED=0 go build ./reference/cmd/hello
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/interop-suite/interop/reference/hello"
)

const usage = `usage:
  hello [flags] client HOST PORT
  hello [flags] server PORT
flags:
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// errUsage marks a command line that run rejects; the message has been
// printed already.
var errUsage = errors.New("usage")

// options is the parsed command line.
type options struct {
	role      string
	args      []string // positional arguments after the role
	lang      string
	challenge bool
	timeout   time.Duration
	idleGap   time.Duration
	halfClose hello.HalfClose
	noNewline bool
	silent    bool
}

// run is main without the process: it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parse(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		return 2
	}
	switch {
	case o.silent && o.role == "client":
		return runSilentClient(ctx, o, stderr)
	case o.silent:
		return runSilentServer(ctx, o, stderr)
	case o.role == "client":
		return runClient(ctx, o, stdout, stderr)
	}
	return runServer(ctx, o, stdout, stderr)
}

// parse reads the command line, allowing flags anywhere (the flag package
// stops at the first positional argument, so parsing resumes after each).
func parse(args []string, stderr io.Writer) (options, error) {
	o := options{lang: hello.DefaultLang, timeout: hello.DefaultTimeout, idleGap: hello.DefaultIdleGap}
	fs := flag.NewFlagSet("hello", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	fs.StringVar(&o.lang, "lang", o.lang, "language named in the message or reply")
	fs.BoolVar(&o.challenge, "challenge", false, "server: challenge variant (HELLO-20, HELLO-21)")
	fs.DurationVar(&o.timeout, "timeout", o.timeout, "client: bound on the whole exchange; server: on each connection")
	fs.DurationVar(&o.idleGap, "idle-gap", o.idleGap, "end a message without a newline after this pause (HELLO-2)")
	fs.Var(&o.halfClose, "half-close", "client: `policy` for the half-close: delayed (default), never or now")
	fs.BoolVar(&o.noNewline, "no-newline", false, "probe: send without the trailing newline (not conforming, HELLO-1)")
	fs.BoolVar(&o.silent, "silent", false, "probe: server never replies nor closes; client holds two unfinished connections (not conforming)")

	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return o, err
		}
		rest := fs.Args()
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		if len(rest) == 0 {
			break
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}

	bad := func(format string, a ...any) (options, error) {
		fmt.Fprintf(stderr, "hello: "+format+"\n", a...)
		fs.Usage()
		return o, errUsage
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if len(pos) == 0 {
		return bad("missing role: client or server")
	}
	o.role, o.args = pos[0], pos[1:]
	switch {
	case o.role == "client" && len(o.args) != 2:
		return bad("client takes HOST PORT, got %d arguments", len(o.args))
	case o.role == "client" && set["challenge"]:
		return bad("--challenge applies to the server only")
	case o.role == "server" && len(o.args) != 1:
		return bad("server takes PORT, got %d arguments", len(o.args))
	case o.role == "server" && set["half-close"]:
		return bad("--half-close applies to the client only")
	case o.role != "client" && o.role != "server":
		return bad("unknown role %q: want client or server", o.role)
	case o.silent && (set["no-newline"] || set["half-close"] || set["challenge"]):
		return bad("--silent cannot be combined with --no-newline, --half-close or --challenge")
	case o.timeout <= 0 || o.idleGap <= 0:
		return bad("--timeout and --idle-gap must be positive")
	case o.lang == "":
		return bad("--lang must not be empty")
	}
	port := o.args[len(o.args)-1]
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 || (n == 0 && o.role == "client") {
		return bad("bad port %q", port)
	}
	return o, nil
}

func runClient(ctx context.Context, o options, stdout, stderr io.Writer) int {
	c := hello.Client{
		Lang:        o.lang,
		Timeout:     o.timeout,
		IdleGap:     o.idleGap,
		HalfClose:   o.halfClose,
		OmitNewline: o.noNewline,
	}
	// HELLO-5: HOST may be a name; the dialer resolves it.
	reply, how, err := c.Exchange(ctx, net.JoinHostPort(o.args[0], o.args[1]))
	if err != nil {
		fmt.Fprintf(stderr, "hello client: %v\n", err) // HELLO-8
		return 1
	}
	if how != hello.ByNewline {
		fmt.Fprintf(stderr, "hello client: note: the reply ended by %v, not by a newline (HELLO-1)\n", how)
	}
	fmt.Fprintln(stdout, hello.Text(reply)) // HELLO-7
	return 0
}

func runServer(ctx context.Context, o options, stdout, stderr io.Writer) int {
	// HELLO-10: the empty host listens on all addresses, IPv4 and IPv6.
	ln, err := net.Listen("tcp", net.JoinHostPort("", o.args[0]))
	if err != nil {
		fmt.Fprintf(stderr, "hello server: %v\n", err)
		return 1
	}
	fmt.Fprintf(stderr, "hello server: listening on %s\n", ln.Addr())
	s := hello.Server{
		Lang:        o.lang,
		Challenge:   o.challenge,
		OmitNewline: o.noNewline,
		IdleGap:     o.idleGap,
		Timeout:     o.timeout,
		Out:         stdout, // os.Stdout is unbuffered: every line is out at once (HELLO-11)
		Log:         log.New(stderr, "hello server: ", 0),
	}
	if err := s.Serve(ctx, ln); err != nil {
		fmt.Fprintf(stderr, "hello server: %v\n", err)
		return 1
	}
	return 0
}
