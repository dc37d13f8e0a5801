// Package baseline is the sender the course's assignment describes, kept
// as the yardstick for the reference sender's benchmarks: Go-Back-N with a
// window of 5 packets, one fixed 500 ms timer for the oldest unacked packet,
// on expiry the whole window is sent again, duplicate acks are ignored (no
// fast retransmit) and the RTT is never measured.
package baseline

import (
	"context"
	"net"
	"time"

	"github.com/interop-suite/interop/reference/rudp"
)

// Timeout is the course's fixed retransmission timeout.
const Timeout = 500 * time.Millisecond

// Stats mirror the reference sender's counters the benchmark compares.
type Stats struct {
	Packets       int64
	Transmissions int64
	Duration      time.Duration
}

// Send sends data to addr over conn and returns once end is acked.
func Send(ctx context.Context, conn net.PacketConn, addr net.Addr, data []byte, first uint64) (Stats, error) {
	var st Stats
	begin := time.Now()
	pkts := split(data, first)
	st.Packets = int64(len(pkts))

	acks := make(chan uint64, 64)
	done := make(chan struct{})
	defer func() {
		conn.SetReadDeadline(time.Unix(1, 0))
		<-done
		conn.SetReadDeadline(time.Time{})
	}()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		defer close(done)
		buf := make([]byte, rudp.MaxDatagram+1)
		for {
			n, _, err := conn.ReadFrom(buf)
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				continue
			}
			if p, err := rudp.Parse(buf[:n]); err == nil && p.Type == rudp.TypeAck {
				select {
				case acks <- p.Seq:
				case <-ctx.Done():
					return
				}
			}
		}
	}()

	base, next := 0, 0 // indexes into pkts: oldest unacked, next to send
	timer := time.NewTimer(Timeout)
	defer timer.Stop()
	send := func(i int) {
		conn.WriteTo(pkts[i], addr)
		st.Transmissions++
	}
	for {
		for next < len(pkts) && next < base+rudp.Window {
			send(next)
			next++
		}
		select {
		case <-ctx.Done():
			return st, ctx.Err()
		case a := <-acks:
			i := int(a - first)
			if a < first || i <= base || i > next {
				continue // duplicate or bogus: Go-Back-N ignores it
			}
			base = i
			if base == len(pkts) {
				st.Duration = time.Since(begin)
				return st, nil
			}
			timer.Reset(Timeout)
		case <-timer.C:
			for i := base; i < next; i++ {
				send(i)
			}
			timer.Reset(Timeout)
		}
	}
}

// split makes the datagrams as the reference sender does: start with the
// first payload, data, and end with the last one (empty if everything fits
// in start).
func split(data []byte, first uint64) [][]byte {
	n := min(len(data), rudp.MaxPayload(rudp.TypeStart, first))
	out := [][]byte{rudp.Encode(rudp.Packet{Type: rudp.TypeStart, Seq: first, Data: data[:n]})}
	data = data[n:]
	for seq := first + 1; ; seq++ {
		n := min(len(data), rudp.MaxPayload(rudp.TypeData, seq))
		if n == len(data) {
			return append(out, rudp.Encode(rudp.Packet{Type: rudp.TypeEnd, Seq: seq, Data: data}))
		}
		out = append(out, rudp.Encode(rudp.Packet{Type: rudp.TypeData, Seq: seq, Data: data[:n]}))
		data = data[n:]
	}
}
