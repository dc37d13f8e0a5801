// Command rudp is the Go reference for the course's reliable file transfer
// over UDP (spec/rudp.md), built on package reference/rudp.
//
// Usage (the course's flags, RUDP-60, RUDP-61):
//
//	rudp send -a HOST -p PORT [-f FILE] [-k] [-d] [-giveup DURATION] [-seq N]
//	rudp receive [-p PORT] [-o DIR] [-t SECONDS] [-k] [-d]
//
// send reads FILE (standard input without -f), sends it to HOST:PORT (a name
// or an address) and exits 0 once the receiver has acknowledged end
// (RUDP-45). It prints one summary line on stderr. It exits 1 with a
// message on stderr if it cannot read the input, cannot resolve HOST, or
// gets no acknowledgement progress for the -giveup duration (default 60s,
// RUDP-44). The start seqno is random unless -seq is given (RUDP-7).
//
// receive listens on PORT (default 33122) on all addresses and writes each
// transfer into DIR (default: the working directory) as <ip>.<port>, named
// <ip>.<port>.partial until complete. It drops a transfer idle for -t
// seconds (default 10, RUDP-15). It logs each transfer's start and finish on
// stderr and runs until SIGINT or SIGTERM, then exits 0, leaving incomplete
// transfers as .partial files.
//
// -k turns on selective acknowledgements (RUDP-30..RUDP-32) and must be
// given to both sides; -d logs every datagram on stderr.
//
// Exit status: 0 success, 1 failure, 2 bad usage.
//
// It builds static: CGO_ENABLED=0 go build ./reference/cmd/rudp
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/interop-suite/interop/reference/rudp"
)

// DefaultPort is the course receiver's port (RUDP-61).
const DefaultPort = 33122

const usage = `usage:
  rudp send -a HOST -p PORT [-f FILE] [-k] [-d] [-giveup DURATION] [-seq N]
  rudp receive [-p PORT] [-o DIR] [-t SECONDS] [-k] [-d]
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stderr)
	stop()
	os.Exit(code)
}

// run is main without the process: it returns the exit status.
func run(ctx context.Context, args []string, stdin io.Reader, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "send":
		return send(ctx, args[1:], stdin, stderr)
	case "receive":
		return receive(ctx, args[1:], stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stderr, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "rudp: unknown command %q: want send or receive\n%s", args[0], usage)
		return 2
	}
}

// flags returns a flag set for cmd whose errors and help go to stderr.
func flags(cmd string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("rudp "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args and reports the exit status to return, if any.
func parse(fs *flag.FlagSet, args []string, stderr io.Writer) (int, bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0, false
		}
		return 2, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "%s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		fs.Usage()
		return 2, false
	}
	return 0, true
}

func logger(stderr io.Writer, debug bool) *slog.Logger {
	level := slog.LevelInfo
	if debug {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
}

func send(ctx context.Context, args []string, stdin io.Reader, stderr io.Writer) int {
	fs := flags("send", stderr)
	host := fs.String("a", "", "receiver `host` name or address (required)")
	port := fs.Int("p", 0, "receiver `port` (required)")
	file := fs.String("f", "", "`file` to send (default: standard input)")
	sack := fs.Bool("k", false, "selective acknowledgements (RUDP-30); the receiver needs -k too")
	debug := fs.Bool("d", false, "log every datagram on stderr")
	giveUp := fs.Duration("giveup", rudp.DefaultGiveUp, "give up after this long without acknowledgement progress (RUDP-44)")
	seq := fs.String("seq", "", "start `seqno` (default: random below 2^30)")
	if code, ok := parse(fs, args, stderr); !ok {
		return code
	}
	bad := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "rudp send: "+format+"\n", a...)
		fs.Usage()
		return 2
	}
	switch {
	case *host == "":
		return bad("-a HOST is required")
	case *port <= 0 || *port > 65535:
		return bad("-p PORT is required, 1..65535")
	case *giveUp <= 0:
		return bad("-giveup must be positive")
	}
	first := rand.Uint64N(1 << 30)
	if *seq != "" {
		n, err := strconv.ParseUint(*seq, 10, 64)
		if err != nil {
			return bad("-seq: %v", err)
		}
		first = n
	}

	in := stdin
	name := "standard input"
	if *file != "" {
		f, err := os.Open(*file)
		if err != nil {
			fmt.Fprintf(stderr, "rudp send: %v\n", err)
			return 1
		}
		defer f.Close()
		in, name = f, *file
	}
	// A host name is resolved here (the course's senders took names too).
	raddr, err := net.ResolveUDPAddr("udp", net.JoinHostPort(*host, strconv.Itoa(*port)))
	if err != nil {
		fmt.Fprintf(stderr, "rudp send: cannot resolve %s: %v\n", *host, err)
		return 1
	}
	network := "udp6"
	if raddr.IP.To4() != nil {
		network = "udp4"
	}
	conn, err := net.ListenUDP(network, nil)
	if err != nil {
		fmt.Fprintf(stderr, "rudp send: %v\n", err)
		return 1
	}
	defer conn.Close()

	st, err := rudp.Send(ctx, conn, raddr, in, rudp.Options{
		SACK:     *sack,
		FirstSeq: first,
		GiveUp:   *giveUp,
		Logger:   logger(stderr, *debug),
	})
	if err != nil {
		fmt.Fprintf(stderr, "rudp send: %s to %s: %v (%d packets, %d transmissions)\n", name, raddr, err, st.Packets, st.Transmissions)
		return 1
	}
	fmt.Fprintf(stderr, "rudp send: %s: %d bytes to %s in %d packets, %d transmissions (%d retransmissions, %d timeouts), %v\n",
		name, st.Bytes, raddr, st.Packets, st.Transmissions, st.Retransmissions, st.Timeouts, st.Duration.Round(time.Millisecond))
	return 0
}

func receive(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flags("receive", stderr)
	port := fs.Int("p", DefaultPort, "UDP `port` to listen on, all addresses (0: any free port)")
	dir := fs.String("o", ".", "output `directory`")
	timeout := fs.String("t", "10", "drop a transfer idle this many `seconds` (RUDP-15)")
	sack := fs.Bool("k", false, "selective acknowledgements (RUDP-30); the sender needs -k too")
	debug := fs.Bool("d", false, "log every datagram on stderr")
	if code, ok := parse(fs, args, stderr); !ok {
		return code
	}
	secs, err := strconv.ParseFloat(*timeout, 64)
	if err != nil || secs <= 0 || secs > 1e6 {
		fmt.Fprintf(stderr, "rudp receive: -t %q: want a positive number of seconds\n", *timeout)
		fs.Usage()
		return 2
	}
	if *port < 0 || *port > 65535 {
		fmt.Fprintf(stderr, "rudp receive: -p %d: want 0..65535\n", *port)
		fs.Usage()
		return 2
	}
	conn, err := net.ListenPacket("udp", ":"+strconv.Itoa(*port))
	if err != nil {
		fmt.Fprintf(stderr, "rudp receive: %v\n", err)
		return 1
	}
	defer conn.Close()
	log := logger(stderr, *debug)
	log.Info("rudp receive: listening", "addr", conn.LocalAddr().String(), "dir", *dir, "sack", *sack, "timeout", *timeout+"s")
	err = rudp.Serve(ctx, conn, rudp.ReceiverOptions{
		Dir:         *dir,
		IdleTimeout: time.Duration(secs * float64(time.Second)),
		SACK:        *sack,
		Logger:      log,
	})
	if err != nil {
		fmt.Fprintf(stderr, "rudp receive: %v\n", err)
		return 1
	}
	log.Info("rudp receive: stopped")
	return 0
}
