package netsim

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Scenario is a named network condition. Names are lowercase letters,
// digits and dashes, because the suite puts them in test names and
// Ginkgo labels.
type Scenario struct {
	Name        string
	Description string // one line a student understands
	Config      Config
}

func both(l Link) (Link, Link) { return l, l }

func udp(fwd, rev Link, rules ...Rule) Config {
	return Config{Mode: ModeUDP, Fwd: fwd, Rev: rev, Rules: rules}
}

func tcp(l Link) Config { return Config{Mode: ModeTCP, Fwd: l, Rev: l} }

func ms(n int) Duration { return Duration(time.Duration(n) * time.Millisecond) }

// library is the one place scenarios are defined.
var library = []Scenario{
	{"clean", "No impairment: every datagram arrives once, intact, at once.",
		udp(Link{}, Link{})},
	{"loss-10", "10 % of datagrams are lost at random, in both directions.",
		udp(both(Link{Loss: 0.10}))},
	{"loss-30", "30 % of datagrams are lost at random, in both directions.",
		udp(both(Link{Loss: 0.30}))},
	{"loss-50", "Half of all datagrams are lost at random, in both directions (the course's hard test).",
		udp(both(Link{Loss: 0.50}))},
	{"burst-loss", "Losses come in bursts of about 3 datagrams (Gilbert-Elliott), about 14 % overall, both directions.",
		udp(both(Link{Burst: &GilbertElliott{P: 0.05, R: 0.30, LossBad: 1}}))},
	{"reorder", "20 % of datagrams are held back behind 1 to 3 later ones, in both directions.",
		udp(both(Link{Reorder: 0.20, ReorderDepth: 3, ReorderHold: ms(200)}))},
	{"duplicate", "20 % of datagrams arrive twice, in both directions.",
		udp(both(Link{Dup: 0.20}))},
	{"corrupt", "10 % of datagrams arrive with 1 to 3 flipped bits (header, data or checksum), both directions: the checksum must catch them.",
		udp(both(Link{Corrupt: 0.10}))},
	{"delay-jitter", "Every datagram is delayed 50 ms ± 20 ms, so some overtake others.",
		udp(both(Link{Delay: ms(50), Jitter: ms(20)}))},
	{"ack-loss", "30 % of acks are lost, plus the very first one; data is untouched.",
		udp(Link{}, Link{Loss: 0.30}, Rule{Drop: "ack", Count: 1})},
	{"blackout", "The network goes dead (100 % loss both ways) for 3 s from the sender's 20th datagram: the sender must keep trying.",
		udp(both(Link{Blackouts: []Blackout{{After: 20, For: ms(3000)}}}))},
	{"rate-limited", "The data direction carries only 100 kB/s with room for 3 waiting datagrams; bursts beyond that are dropped.",
		udp(Link{Rate: 100_000, Queue: 3}, Link{})},
	{"mixed", "A bit of everything, both ways: 5 % loss, 5 % duplicates, 5 % reordered, 2 % corrupted, 20 ms ± 10 ms delay.",
		udp(both(Link{Loss: 0.05, Dup: 0.05, Reorder: 0.05, Corrupt: 0.02, Delay: ms(20), Jitter: ms(10)}))},
	{"edge-drops", "Loses the first start, the first end, the first ack and every 4th ack: the corners a timer must cover.",
		udp(Link{}, Link{},
			Rule{Drop: "start", Count: 1}, Rule{Drop: "end", Count: 1},
			Rule{Drop: "ack", Count: 1}, Rule{Drop: "every-ack", N: 4})},

	{"tcp-clean", "TCP passed through unchanged.",
		tcp(Link{})},
	{"tcp-tiny-segments", "TCP bytes arrive in chunks of 1 to 3 bytes, 0 to 4 ms apart: a message can take many reads.",
		tcp(Link{SegMin: 1, SegMax: 3, Delay: ms(2), Jitter: ms(2)})},
	{"tcp-delay", "Every TCP chunk is delayed 300 ms ± 100 ms, in both directions.",
		tcp(Link{Delay: ms(300), Jitter: ms(100)})},
	{"tcp-slow-close", "Each side's close reaches the other 1.5 s late: longer than the 1 s idle gap that also ends a message.",
		tcp(Link{CloseDelay: ms(1500)})},
}

var nameRE = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// Scenarios returns the library, in a fixed order, with defaults filled
// in. The caller may modify the result.
func Scenarios() []Scenario {
	out := make([]Scenario, len(library))
	for i, s := range library {
		s.Config = s.Config.Clone()
		s.Config.Normalize()
		out[i] = s
	}
	return out
}

// Lookup returns the scenario called name.
func Lookup(name string) (Scenario, error) {
	for _, s := range Scenarios() {
		if s.Name == name {
			return s, nil
		}
	}
	names := make([]string, len(library))
	for i, s := range library {
		names[i] = s.Name
	}
	return Scenario{}, fmt.Errorf("no scenario %q; known: %s", name, strings.Join(names, ", "))
}

// Clone deep-copies the slices and pointers in c, so that callers who
// change a scenario never change the library.
func (c Config) Clone() Config {
	c.Rules = slices.Clone(c.Rules)
	for _, l := range []*Link{&c.Fwd, &c.Rev} {
		if l.Burst != nil {
			g := *l.Burst
			l.Burst = &g
		}
		l.CorruptParts = slices.Clone(l.CorruptParts)
		l.Blackouts = slices.Clone(l.Blackouts)
	}
	return c
}
