package rudp_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/interop-suite/interop/reference/rudp"
	"github.com/interop-suite/interop/reference/rudp/internal/vectors"
)

// vectorDatagrams returns every datagram of the vector files, as fuzz
// seeds.
func vectorDatagrams(f *testing.F) [][]byte {
	d, r, err := vectors.Build()
	if err != nil {
		f.Fatal(err)
	}
	var out [][]byte
	var df vectors.DatagramFile
	var rf vectors.ReceiverFile
	if err := json.Unmarshal(d, &df); err != nil {
		f.Fatal(err)
	}
	if err := json.Unmarshal(r, &rf); err != nil {
		f.Fatal(err)
	}
	for _, v := range df.Vectors {
		b, _ := v.Datagram.Bytes()
		out = append(out, b)
	}
	for _, v := range rf.Vectors {
		for _, s := range v.Steps {
			b, _ := s.Datagram.Bytes()
			out = append(out, b)
		}
	}
	return out
}

// FuzzParse: Parse never panics, and whatever it accepts survives an
// Encode/Parse round trip unchanged.
func FuzzParse(f *testing.F) {
	for _, b := range vectorDatagrams(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		orig := slices.Clone(b)
		p, err := rudp.Parse(b)
		if !bytes.Equal(b, orig) {
			t.Fatal("Parse modified its input")
		}
		if err != nil {
			if p.Type != "" || p.Data != nil || p.Sacks != nil {
				t.Fatalf("Parse returned %+v with error %v", p, err)
			}
			return
		}
		if len(b) > rudp.MaxDatagram {
			t.Fatalf("accepted a datagram of %d bytes", len(b))
		}
		if p.Data != nil {
			// Data must be a copy: changing the input must not change it.
			c := slices.Clone(b)
			q, _ := rudp.Parse(c)
			for j := range c {
				c[j] ^= 0xff
			}
			if !bytes.Equal(q.Data, p.Data) {
				t.Fatal("Data aliases the input")
			}
		}
		q, err := rudp.Parse(rudp.Encode(p))
		if err != nil || !packetsEqual(p, q) {
			t.Fatalf("round trip: %+v -> %q -> %+v, %v", p, rudp.Encode(p), q, err)
		}
	})
}

// FuzzEncode: every packet that fits in a datagram parses back to itself.
func FuzzEncode(f *testing.F) {
	f.Add(uint8(0), uint64(0), []byte("hello"), []byte{})
	f.Add(uint8(1), uint64(1<<63), []byte("a|b|"), []byte{})
	f.Add(uint8(4), uint64(17), []byte{}, []byte{1, 2, 5})
	f.Fuzz(func(t *testing.T, typ uint8, seq uint64, data, sacks []byte) {
		types := []string{rudp.TypeStart, rudp.TypeData, rudp.TypeEnd, rudp.TypeAck, rudp.TypeSack}
		p := rudp.Packet{Type: types[int(typ)%len(types)], Seq: seq}
		switch p.Type {
		case rudp.TypeAck:
		case rudp.TypeSack:
			for _, s := range sacks {
				p.Sacks = append(p.Sacks, seq+uint64(s))
			}
		default:
			p.Data = data
		}
		b := rudp.Encode(p)
		if p.Type == rudp.TypeData && len(data) <= rudp.MaxPayload(p.Type, seq) && len(b) > rudp.MaxDatagram {
			t.Fatalf("MaxPayload(%d) = %d allows a datagram of %d bytes", seq, rudp.MaxPayload(p.Type, seq), len(b))
		}
		if len(b) > rudp.MaxDatagram {
			return
		}
		q, err := rudp.Parse(b)
		if err != nil {
			t.Fatalf("Parse(Encode(%+v)) = %v", p, err)
		}
		if p.Data == nil && p.Type != rudp.TypeAck && p.Type != rudp.TypeSack {
			p.Data = []byte{}
		}
		if !packetsEqual(p, q) {
			t.Fatalf("round trip %+v -> %+v", p, q)
		}
	})
}

// FuzzOutputName: whatever the source address text, the output file name
// is one plain, visible file name inside the directory (RUDP-16).
func FuzzOutputName(f *testing.F) {
	for _, s := range []string{"172.18.0.3:40000", "[::1]:5000", "[fe80::1%eth0]:1", "../../etc/passwd", "", ".", "..", "a/b:1", "x.partial", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		name := rudp.OutputName(src)
		dir := "/out/dir"
		if name == "" || name == "." || name == ".." || strings.HasPrefix(name, ".") ||
			strings.ContainsAny(name, "/\\\x00") || filepath.Base(name) != name ||
			filepath.Dir(filepath.Join(dir, name)) != dir ||
			strings.HasSuffix(name, rudp.PartialSuffix) || len(name) > 200 {
			t.Fatalf("OutputName(%q) = %q", src, name)
		}
		for _, c := range []byte(name) {
			if !(c == '.' || c == '-' || c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
				t.Fatalf("OutputName(%q) = %q has byte %#x", src, name, c)
			}
		}
	})
}

// FuzzMachine drives the receiver state machine with arbitrary sequences
// of datagrams from three sources: starts (repeated or new), data and end
// packets at any seqno near the transfer's, garbage, corrupt packets and
// idle gaps. The payload of seqno k is a fixed function of (source,
// generation, k), so the invariants are exact:
//   - nothing panics; invalid datagrams are never acked (RUDP-8);
//   - every ack is the transfer's next expected seqno (RUDP-13), never
//     decreases within a transfer, and in SACK mode lists held seqnos
//     inside the window, ascending (RUDP-31);
//   - the bytes delivered for a transfer are exactly the payloads of
//     first .. next-1 in order (RUDP-14): a prefix of the true stream;
//   - completion happens once, at an end packet, and nothing is
//     delivered after it (RUDP-7, RUDP-17).
func FuzzMachine(f *testing.F) {
	f.Add(false, []byte{0, 0, 0, 0, 0, 2, 1, 0, 0, 5, 2, 0})
	f.Add(true, []byte{0, 0, 0, 0, 0, 3, 3, 0, 0, 2, 1, 0, 0, 5, 2, 0, 1, 0, 0, 0})
	f.Add(false, []byte{0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 5, 1, 0, 0, 2, 0, 21, 0, 6, 9, 9, 2, 7, 1, 0})
	f.Fuzz(func(t *testing.T, sack bool, ops []byte) {
		const nsrc = 3
		srcs := [nsrc]string{"10.0.0.1:1", "10.0.0.2:2", "[::1]:3"}
		gen := [nsrc]uint64{}
		base := func(i int) uint64 { return uint64(i)*1_000_000 + gen[i]*100 }
		payload := func(i int, seq uint64) []byte { return fmt.Appendf(nil, "%d.%d.%d;", i, gen[i], seq) }
		type rec struct {
			first, lastAck uint64
			out            []byte
			complete       bool
			ends           map[uint64]bool
		}
		cur := [nsrc]*rec{}
		m := rudp.NewMachine(sack, 10*time.Second, 0)
		now := time.Unix(1_700_000_000, 0)
		for len(ops) >= 4 {
			op := ops[:4]
			ops = ops[4:]
			i := int(op[0]) % nsrc
			now = now.Add(time.Duration(op[3]>>4) * time.Second)
			m.Expire(now)
			seq := base(i) + uint64(op[2]%12)
			var dg []byte
			invalid, isStart := false, false
			switch op[1] % 8 {
			case 0:
				dg, isStart = rudp.Encode(rudp.Packet{Type: rudp.TypeStart, Seq: base(i), Data: payload(i, base(i))}), true
			case 1:
				gen[i]++
				dg, isStart = rudp.Encode(rudp.Packet{Type: rudp.TypeStart, Seq: base(i), Data: payload(i, base(i))}), true
			case 2, 3, 4:
				dg = rudp.Encode(rudp.Packet{Type: rudp.TypeData, Seq: seq, Data: payload(i, seq)})
			case 5:
				dg = rudp.Encode(rudp.Packet{Type: rudp.TypeEnd, Seq: seq, Data: payload(i, seq)})
				if cur[i] != nil && cur[i].first == base(i) {
					cur[i].ends[seq] = true
				}
			case 6:
				dg, invalid = slices.Clone(op), true
			case 7:
				dg = rudp.Encode(rudp.Packet{Type: rudp.TypeData, Seq: seq, Data: payload(i, seq)})
				dg[int(op[2])%len(dg)] ^= 1 << (op[3] % 8)
				invalid = true
			}
			st := m.Handle(now, srcs[i], dg)
			if invalid && (st.Ack != nil || st.Begin || st.Deliver != nil) {
				t.Fatalf("invalid datagram %q acked or delivered: %+v", dg, st)
			}
			if st.Begin {
				if !isStart {
					t.Fatalf("a %s packet began a transfer", st.Packet.Type)
				}
				cur[i] = &rec{first: st.First, lastAck: st.First, ends: map[uint64]bool{}}
			}
			if st.Ack == nil {
				continue
			}
			r, tr := cur[i], m.Transfer(srcs[i])
			if r == nil || tr == nil || tr.First() != r.first {
				t.Fatalf("ack %q without a matching transfer", st.Ack)
			}
			a, err := rudp.Parse(st.Ack)
			if err != nil {
				t.Fatalf("unparsable ack %q: %v", st.Ack, err)
			}
			if want := map[bool]string{false: rudp.TypeAck, true: rudp.TypeSack}[sack]; a.Type != want {
				t.Fatalf("ack type %s, want %s", a.Type, want)
			}
			if a.Seq != tr.Next() || a.Seq < r.lastAck {
				t.Fatalf("ack %d: next expected %d, previous ack %d", a.Seq, tr.Next(), r.lastAck)
			}
			r.lastAck = a.Seq
			if !slices.IsSorted(a.Sacks) || slices.ContainsFunc(a.Sacks, func(s uint64) bool { return s <= a.Seq || s >= a.Seq+rudp.Window }) {
				t.Fatalf("sack list %v for next %d", a.Sacks, a.Seq)
			}
			if st.Deliver != nil && r.complete {
				t.Fatal("delivery after completion")
			}
			r.out = append(r.out, st.Deliver...)
			var want []byte
			for k := r.first; k < a.Seq; k++ {
				want = append(want, payload(i, k)...)
			}
			if !bytes.Equal(r.out, want) {
				t.Fatalf("delivered %q, want %q (first %d, next %d)", r.out, want, r.first, a.Seq)
			}
			if st.Complete {
				if r.complete || !r.ends[a.Seq-1] || !tr.Done() {
					t.Fatalf("completion at next %d: ends sent %v, already complete %v", a.Seq, r.ends, r.complete)
				}
				r.complete = true
			}
			if tr.Done() != r.complete {
				t.Fatal("Done() disagrees with the completion seen")
			}
		}
	})
}
