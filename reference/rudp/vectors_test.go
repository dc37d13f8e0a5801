package rudp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"testing/synctest"
	"time"

	"github.com/interop-suite/interop/reference/rudp"
	"github.com/interop-suite/interop/reference/rudp/internal/vectors"
)

const vectorDir = "../../spec/vectors"

func loadJSON[T any](t *testing.T, name string) T {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(vectorDir, name))
	if err != nil {
		t.Fatal(err)
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return v
}

func mustBytes(t *testing.T, b vectors.Blob) []byte {
	t.Helper()
	out, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if got := vectors.Escape(out); got != b.Escaped {
		t.Fatalf("base64 and escaped forms disagree: %q vs %q", got, b.Escaped)
	}
	return out
}

// TestVectorsUpToDate fails when spec/vectors/ differs from what
// internal/vectors builds: run go run ./reference/rudp/internal/genvectors.
func TestVectorsUpToDate(t *testing.T) {
	d, r, err := vectors.Build()
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string][]byte{"datagrams.json": d, "receiver.json": r} {
		got, err := os.ReadFile(filepath.Join(vectorDir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("spec/vectors/%s is stale: run go run ./reference/rudp/internal/genvectors", name)
		}
	}
}

func errorClass(err error) string {
	for _, c := range []struct {
		err   error
		class string
	}{
		{rudp.ErrTooLong, vectors.ClassTooLong},
		{rudp.ErrMalformed, vectors.ClassMalformed},
		{rudp.ErrBadChecksum, vectors.ClassChecksum},
		{rudp.ErrUnknownType, vectors.ClassType},
		{rudp.ErrBadSeqno, vectors.ClassSeqno},
		{rudp.ErrBadSackField, vectors.ClassSack},
	} {
		if errors.Is(err, c.err) {
			return c.class
		}
	}
	return "unknown: " + err.Error()
}

// TestDatagramVectors runs spec/vectors/datagrams.json through Parse and
// Encode (RUDP-1..RUDP-8, RUDP-30).
func TestDatagramVectors(t *testing.T) {
	f := loadJSON[vectors.DatagramFile](t, "datagrams.json")
	if len(f.Vectors) < 40 {
		t.Fatalf("only %d datagram vectors", len(f.Vectors))
	}
	for _, v := range f.Vectors {
		t.Run(v.Name, func(t *testing.T) {
			dg := mustBytes(t, v.Datagram)
			p, err := rudp.Parse(dg)
			if !v.Valid {
				if err == nil {
					t.Fatalf("Parse(%q) = %+v, want error class %s", dg, p, v.Error)
				}
				if got := errorClass(err); got != v.Error {
					t.Fatalf("Parse(%q): %v (class %s), want class %s", dg, err, got, v.Error)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v, want valid", dg, err)
			}
			want := v.Packet
			if p.Type != want.Type || strconv.FormatUint(p.Seq, 10) != want.Seqno {
				t.Fatalf("Parse(%q) = %s %d, want %s %s", dg, p.Type, p.Seq, want.Type, want.Seqno)
			}
			if want.Data != nil {
				if d := mustBytes(t, *want.Data); !bytes.Equal(p.Data, d) {
					t.Fatalf("data %q, want %q", p.Data, d)
				}
			} else if p.Data != nil {
				t.Fatalf("data %q on a %s packet", p.Data, p.Type)
			}
			var sacks []string
			for _, s := range p.Sacks {
				sacks = append(sacks, strconv.FormatUint(s, 10))
			}
			if !slices.Equal(sacks, want.Sacks) {
				t.Fatalf("sacks %v, want %v", sacks, want.Sacks)
			}
			enc := rudp.Encode(p)
			if v.Canonical && !bytes.Equal(enc, dg) {
				t.Fatalf("Encode = %q, want %q", enc, dg)
			}
			if q, err := rudp.Parse(enc); err != nil || !packetsEqual(p, q) {
				t.Fatalf("Parse(Encode(p)) = %+v, %v; want %+v", q, err, p)
			}
		})
	}
}

func packetsEqual(a, b rudp.Packet) bool {
	return a.Type == b.Type && a.Seq == b.Seq && bytes.Equal(a.Data, b.Data) && slices.Equal(a.Sacks, b.Sacks)
}

type gotTransfer struct {
	from, first string
	complete    bool
	out         []byte
}

// TestReceiverVectors drives the pure state machine with
// spec/vectors/receiver.json: the exact ack after every datagram, and
// the output of every transfer (RUDP-8..RUDP-18, RUDP-30, RUDP-31).
func TestReceiverVectors(t *testing.T) {
	f := loadJSON[vectors.ReceiverFile](t, "receiver.json")
	for _, v := range f.Vectors {
		t.Run(v.Name, func(t *testing.T) {
			m := rudp.NewMachine(v.Sack, time.Duration(v.IdleTimeoutMs)*time.Millisecond, 0)
			t0 := time.Unix(1_700_000_000, 0)
			var got []gotTransfer
			cur := map[string]int{}
			for i, s := range v.Steps {
				now := t0.Add(time.Duration(s.AtMs) * time.Millisecond)
				m.Expire(now)
				st := m.Handle(now, s.From, mustBytes(t, s.Datagram))
				checkAck(t, i, s, st.Ack)
				if (st.Err == nil) != (st.Ack != nil) {
					t.Fatalf("step %d: Err %v with ack %q", i, st.Err, st.Ack)
				}
				if st.Begin {
					got = append(got, gotTransfer{from: s.From, first: strconv.FormatUint(st.First, 10)})
					cur[s.From] = len(got) - 1
				}
				if len(st.Deliver) > 0 || st.Complete {
					j, ok := cur[s.From]
					if !ok {
						t.Fatalf("step %d: delivery from %s without a transfer", i, s.From)
					}
					if got[j].complete {
						t.Fatalf("step %d: delivery after completion", i)
					}
					got[j].out = append(got[j].out, st.Deliver...)
					got[j].complete = st.Complete
				}
			}
			if len(got) != len(v.Transfers) {
				t.Fatalf("%d transfers, want %d", len(got), len(v.Transfers))
			}
			for i, w := range v.Transfers {
				g := got[i]
				if g.from != w.From || g.first != w.StartSeqno || g.complete != w.Complete || !bytes.Equal(g.out, mustBytes(t, w.Output)) {
					t.Errorf("transfer %d = {%s %s complete=%v %q}, want {%s %s complete=%v %q}",
						i, g.from, g.first, g.complete, g.out, w.From, w.StartSeqno, w.Complete, w.Output.Escaped)
				}
			}
		})
	}
}

func checkAck(t *testing.T, i int, s vectors.Step, got []byte) {
	t.Helper()
	switch {
	case s.Ack == nil && got != nil:
		t.Fatalf("step %d (%s): ack %q, want none", i, s.Datagram.Escaped, got)
	case s.Ack != nil && !bytes.Equal(got, mustBytes(t, *s.Ack)):
		t.Fatalf("step %d (%s): ack %q, want %q", i, s.Datagram.Escaped, got, s.Ack.Escaped)
	}
}

// TestReceiverVectorsServe replays the same scripts through Serve, with a
// fake clock (testing/synctest) and an in-memory PacketConn, and then
// checks the files left in the output directory (RUDP-14..RUDP-16).
func TestReceiverVectorsServe(t *testing.T) {
	f := loadJSON[vectors.ReceiverFile](t, "receiver.json")
	for _, v := range f.Vectors {
		t.Run(v.Name, func(t *testing.T) {
			dir := t.TempDir()
			synctest.Test(t, func(t *testing.T) {
				conn := &fakeConn{in: make(chan fakeDatagram), out: make(chan fakeDatagram, 16)}
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan error, 1)
				go func() {
					done <- rudp.Serve(ctx, conn, rudp.ReceiverOptions{Dir: dir, SACK: v.Sack,
						IdleTimeout: time.Duration(v.IdleTimeoutMs) * time.Millisecond})
				}()
				start := time.Now()
				for i, s := range v.Steps {
					time.Sleep(time.Until(start.Add(time.Duration(s.AtMs) * time.Millisecond)))
					conn.in <- fakeDatagram{mustBytes(t, s.Datagram), fakeAddr(s.From)}
					synctest.Wait() // Serve has handled it and waits for the next
					var got []byte
					select {
					case a := <-conn.out:
						if a.addr.String() != s.From {
							t.Fatalf("step %d: ack sent to %s, want %s", i, a.addr, s.From)
						}
						got = a.b
					default:
					}
					checkAck(t, i, s, got)
					if len(conn.out) > 0 {
						t.Fatalf("step %d: more than one ack", i)
					}
				}
				cancel()
				if err := <-done; err != nil {
					t.Fatalf("Serve: %v", err)
				}
			})
			ents, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, e := range ents {
				names = append(names, e.Name())
			}
			var want []string
			for _, w := range v.Files {
				want = append(want, w.Name)
				b, err := os.ReadFile(filepath.Join(dir, w.Name))
				if err != nil {
					t.Errorf("%v (files: %v)", err, names)
					continue
				}
				if !bytes.Equal(b, mustBytes(t, w.Content)) {
					t.Errorf("%s = %q, want %q", w.Name, b, w.Content.Escaped)
				}
			}
			slices.Sort(want)
			if !slices.Equal(names, want) {
				t.Errorf("files %v, want %v", names, want)
			}
		})
	}
}

type fakeAddr string

func (a fakeAddr) Network() string { return "udp" }
func (a fakeAddr) String() string  { return string(a) }

type fakeDatagram struct {
	b    []byte
	addr net.Addr
}

// fakeConn is a net.PacketConn on channels, so that Serve blocks durably
// inside a synctest bubble. Only Serve's goroutine calls ReadFrom and
// SetReadDeadline.
type fakeConn struct {
	in, out  chan fakeDatagram
	deadline time.Time
}

func (c *fakeConn) ReadFrom(b []byte) (int, net.Addr, error) {
	var timeout <-chan time.Time
	if !c.deadline.IsZero() {
		t := time.NewTimer(time.Until(c.deadline))
		defer t.Stop()
		timeout = t.C
	}
	select {
	case d := <-c.in:
		return copy(b, d.b), d.addr, nil
	case <-timeout:
		return 0, nil, os.ErrDeadlineExceeded
	}
}

func (c *fakeConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	c.out <- fakeDatagram{append([]byte{}, b...), addr}
	return len(b), nil
}

func (c *fakeConn) Close() error                       { return nil }
func (c *fakeConn) LocalAddr() net.Addr                { return fakeAddr("receiver:33122") }
func (c *fakeConn) SetDeadline(t time.Time) error      { c.deadline = t; return nil }
func (c *fakeConn) SetReadDeadline(t time.Time) error  { c.deadline = t; return nil }
func (c *fakeConn) SetWriteDeadline(t time.Time) error { return nil }
