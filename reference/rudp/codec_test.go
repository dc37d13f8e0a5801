package rudp_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/interop-suite/interop/reference/rudp"
	"github.com/interop-suite/interop/reference/rudp/internal/vectors"
)

// TestVectorsCoverRequirements: every requirement about datagrams and the
// receiver is exercised by at least one vector, so a requirement cannot
// silently lose its tests when vectors are edited.
func TestVectorsCoverRequirements(t *testing.T) {
	df := loadJSON[vectors.DatagramFile](t, "datagrams.json")
	rf := loadJSON[vectors.ReceiverFile](t, "receiver.json")
	seen := map[string]int{}
	for _, v := range df.Vectors {
		for _, r := range v.Requirements {
			seen[r]++
		}
	}
	for _, v := range rf.Vectors {
		for _, r := range v.Requirements {
			seen[r]++
		}
	}
	for _, id := range []string{"RUDP-1", "RUDP-2", "RUDP-3", "RUDP-4", "RUDP-5", "RUDP-6", "RUDP-7", "RUDP-8",
		"RUDP-10", "RUDP-11", "RUDP-12", "RUDP-13", "RUDP-14", "RUDP-15", "RUDP-17", "RUDP-18", "RUDP-30", "RUDP-31"} {
		if seen[id] == 0 {
			t.Errorf("no vector exercises %s", id)
		}
	}
}

// TestMaxPayload: a packet carrying MaxPayload bytes fits in a datagram
// whatever its checksum, and one byte more may not (RUDP-2, RUDP-46).
func TestMaxPayload(t *testing.T) {
	for _, c := range []struct {
		typ string
		seq uint64
	}{{rudp.TypeStart, 0}, {rudp.TypeData, 1}, {rudp.TypeData, 999_999}, {rudp.TypeEnd, 1 << 40}, {rudp.TypeData, 1<<64 - 2}} {
		n := rudp.MaxPayload(c.typ, c.seq)
		worst := len(c.typ) + len(strconv.FormatUint(c.seq, 10)) + 3 + 10 + n
		if worst != rudp.MaxDatagram {
			t.Errorf("MaxPayload(%s, %d) = %d: a 10-digit checksum gives %d bytes, want %d", c.typ, c.seq, n, worst, rudp.MaxDatagram)
		}
		for i := range 20 { // various data, so various checksum lengths
			b := rudp.Encode(rudp.Packet{Type: c.typ, Seq: c.seq, Data: []byte(strings.Repeat(string(rune('a'+i)), n))})
			if len(b) > rudp.MaxDatagram {
				t.Fatalf("%s %d with %d bytes of data is %d bytes", c.typ, c.seq, n, len(b))
			}
		}
	}
}

// TestOutputName pins the names the receiver gives its files (RUDP-16).
func TestOutputName(t *testing.T) {
	for src, want := range map[string]string{
		"172.18.0.3:40000":    "172.18.0.3.40000", // the course receiver's name
		"[::1]:5000":          "__1.5000",
		"[fe80::1%eth0]:1":    "fe80__1_eth0.1",
		"../../etc/passwd":    "_.._.._etc_passwd",
		"":                    "_",
		"host.partial":        "host.partial_",
		"10.0.0.1:5000\x00/x": "10.0.0.1.5000__x",
	} {
		if got := rudp.OutputName(src); got != want {
			t.Errorf("OutputName(%q) = %q, want %q", src, got, want)
		}
	}
	if got := rudp.OutputName(strings.Repeat("a", 500)); len(got) != 200 {
		t.Errorf("long name: %d bytes", len(got))
	}
}
