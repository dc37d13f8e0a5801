package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/interop-suite/interop/reference/rudp"
)

// TestMain lets the test binary act as the command, so that a test can
// run it as a real process and signal it.
func TestMain(m *testing.M) {
	if args, ok := os.LookupEnv("RUDP_TEST_MAIN_ARGS"); ok {
		os.Args = append([]string{"rudp"}, strings.Split(args, "\x1f")...)
		main()
		return
	}
	os.Exit(m.Run())
}

// syncBuffer is a bytes.Buffer safe for one writer and polling readers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var listenRE = regexp.MustCompile(`rudp receive: listening" addr=\S*:(\d+)`)

// waitPort polls a receiver's log for its listening line.
func waitPort(t *testing.T, log func() string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if m := listenRE.FindStringSubmatch(log()); m != nil {
			return m[1]
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("receiver never said it was listening: %s", log())
	return ""
}

func TestUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "usage:"},
		{[]string{"bogus"}, 2, `unknown command "bogus"`},
		{[]string{"send"}, 2, "-a HOST is required"},
		{[]string{"send", "-a", "localhost"}, 2, "-p PORT is required"},
		{[]string{"send", "-a", "localhost", "-p", "70000"}, 2, "-p PORT is required"},
		{[]string{"send", "-a", "localhost", "-p", "1", "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"send", "-a", "localhost", "-p", "1", "-seq", "-1"}, 2, "-seq"},
		{[]string{"send", "-a", "localhost", "-p", "1", "-f", "/nonexistent/file"}, 1, "no such file"},
		{[]string{"receive", "-t", "soon"}, 2, "positive number of seconds"},
		{[]string{"receive", "-t", "0"}, 2, "positive number of seconds"},
		{[]string{"receive", "-p", "0", "-o", "/nonexistent/dir"}, 1, "output directory"},
		{[]string{"help"}, 0, "usage:"},
	} {
		var stderr bytes.Buffer
		code := run(context.Background(), c.args, strings.NewReader(""), &stderr)
		if code != c.code || !strings.Contains(stderr.String(), c.want) {
			t.Errorf("rudp %q: exit %d, stderr %q; want exit %d and %q", c.args, code, stderr.String(), c.code, c.want)
		}
	}
}

// TestSendReceive runs both commands in-process: a file and standard
// input, with and without -k.
func TestSendReceive(t *testing.T) {
	for _, sack := range []bool{false, true} {
		dir := t.TempDir()
		ctx, cancel := context.WithCancel(context.Background())
		var rlog syncBuffer
		args := []string{"receive", "-p", "0", "-o", dir, "-t", "30"}
		if sack {
			args = append(args, "-k")
		}
		done := make(chan int, 1)
		go func() { done <- run(ctx, args, nil, &rlog) }()
		port := waitPort(t, rlog.String)

		data := make([]byte, 200_000)
		rand.NewChaCha8([32]byte{7}).Read(data)
		in := filepath.Join(t.TempDir(), "in.bin")
		if err := os.WriteFile(in, data[:50_000], 0o644); err != nil {
			t.Fatal(err)
		}
		for _, sargs := range [][]string{
			{"send", "-a", "localhost", "-p", port, "-f", in}, // a name, resolved (RUDP-60)
			{"send", "-a", "127.0.0.1", "-p", port, "-seq", "18446744073709551000"},
		} {
			if sack {
				sargs = append(sargs, "-k")
			}
			var slog bytes.Buffer
			if code := run(context.Background(), sargs, bytes.NewReader(data), &slog); code != 0 {
				t.Fatalf("rudp %q: exit %d: %s", sargs, code, slog.String())
			}
			if !strings.Contains(slog.String(), "rudp send: ") {
				t.Errorf("no summary line: %q", slog.String())
			}
		}
		cancel()
		if code := <-done; code != 0 {
			t.Fatalf("receive: exit %d: %s", code, rlog.String())
		}
		ents, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var got [][]byte
		for _, e := range ents {
			if strings.HasSuffix(e.Name(), rudp.PartialSuffix) {
				t.Errorf("partial file %s", e.Name())
				continue
			}
			b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
			got = append(got, b)
		}
		if len(got) != 2 || !(bytes.Equal(got[0], data[:50_000]) && bytes.Equal(got[1], data) || bytes.Equal(got[1], data[:50_000]) && bytes.Equal(got[0], data)) {
			t.Fatalf("sack=%v: output files do not match the inputs (%d files)", sack, len(got))
		}
		if n := strings.Count(rlog.String(), "transfer finished"); n != 2 {
			t.Errorf("receiver logged %d finished transfers, want 2:\n%s", n, rlog.String())
		}
	}
}

// TestSendGivesUp: no receiver, a short -giveup: exit 1 with a reason a
// student can act on (RUDP-44, RUDP-45).
func TestSendGivesUp(t *testing.T) {
	sink, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	_, port, _ := net.SplitHostPort(sink.LocalAddr().String())
	var stderr bytes.Buffer
	code := run(context.Background(), []string{"send", "-a", "127.0.0.1", "-p", port, "-giveup", "1s"}, strings.NewReader("hi"), &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "never acknowledged start") {
		t.Fatalf("exit %d, stderr %q; want 1 and a give-up message", code, stderr.String())
	}
}

// TestReceiveSignal runs the receiver as a process, leaves a transfer
// incomplete, and stops it with SIGTERM: it must exit 0 and leave the
// transfer as a .partial file (RUDP-15, RUDP-61).
func TestReceiveSignal(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "RUDP_TEST_MAIN_ARGS="+strings.Join([]string{"receive", "-p", "0", "-o", dir}, "\x1f"))
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	var log syncBuffer
	copied := make(chan struct{})
	go func() { io.Copy(&log, bufio.NewReader(stderr)); close(copied) }()
	port := waitPort(t, log.String)

	conn, err := net.Dial("udp", "127.0.0.1:"+port)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for i, p := range []rudp.Packet{{Type: rudp.TypeStart, Seq: 9, Data: []byte("half ")}, {Type: rudp.TypeData, Seq: 10, Data: []byte("a file")}} {
		// Loopback does not lose datagrams, but a slow start of the
		// process might: retry until acked.
		want := rudp.Encode(rudp.Packet{Type: rudp.TypeAck, Seq: p.Seq + 1})
		for try := 0; ; try++ {
			if try == 50 {
				t.Fatalf("packet %d never acked", i)
			}
			conn.Write(rudp.Encode(p))
			conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
			buf := make([]byte, 100)
			if n, err := conn.Read(buf); err == nil && bytes.Equal(buf[:n], want) {
				break
			}
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-copied
	if err := cmd.Wait(); err != nil {
		t.Fatalf("receiver after SIGTERM: %v\n%s", err, log.String())
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 || !strings.HasSuffix(ents[0].Name(), rudp.PartialSuffix) {
		t.Fatalf("output directory holds %v, want one .partial file", ents)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, ents[0].Name())); string(b) != "half a file" {
		t.Fatalf("partial file holds %q", b)
	}
	if !strings.Contains(log.String(), "transfer started") || !strings.Contains(log.String(), "transfer left incomplete") {
		t.Errorf("receiver log lacks the transfer's start or its incomplete end:\n%s", log.String())
	}
}
