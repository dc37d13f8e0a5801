package netsim

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Dir is a direction through the relay.
type Dir uint8

const (
	// Fwd carries datagrams from the relay's clients to the upstream: RUDP
	// data (sender to receiver), the Hello client's message.
	Fwd Dir = iota
	// Rev carries the upstream's replies back: RUDP acks, the Hello reply.
	Rev
)

func (d Dir) String() string {
	if d == Rev {
		return "rev"
	}
	return "fwd"
}

// Modes.
const (
	ModeUDP = "udp"
	ModeTCP = "tcp"
)

// Config is everything the relay does to traffic, apart from the seed.
// It is plain data so that the scenario library, the command's flags and
// the trace header all share one shape.
type Config struct {
	Mode  string `json:"mode"`
	Fwd   Link   `json:"fwd"`
	Rev   Link   `json:"rev"`
	Rules []Rule `json:"rules,omitempty"` // UDP only; matched by packet type, in either direction
}

// Link returns the impairments of one direction.
func (c *Config) Link(d Dir) *Link {
	if d == Rev {
		return &c.Rev
	}
	return &c.Fwd
}

// Link is what happens to the datagrams (or, in TCP mode, the byte
// stream) going one way. The zero Link passes everything unchanged.
type Link struct {
	// Loss is the probability that a datagram is dropped.
	Loss float64 `json:"loss,omitempty"`
	// Burst adds Gilbert-Elliott bursty loss on top of Loss.
	Burst *GilbertElliott `json:"burst,omitempty"`
	// Dup is the probability that a datagram is sent twice.
	Dup float64 `json:"dup,omitempty"`
	// Reorder is the probability that a datagram copy is held back until
	// 1..ReorderDepth later datagrams have passed it, or ReorderHold ran out.
	Reorder      float64  `json:"reorder,omitempty"`
	ReorderDepth int      `json:"reorder_depth,omitempty"`
	ReorderHold  Duration `json:"reorder_hold,omitempty"`
	// Corrupt is the probability that a copy has 1 to 3 bits flipped, in
	// one of CorruptParts (default: all of header, data, checksum).
	Corrupt      float64  `json:"corrupt,omitempty"`
	CorruptParts []string `json:"corrupt_parts,omitempty"`
	// Delay and Jitter: each copy leaves Delay ± Jitter (uniform) after it
	// arrived. Jitter alone can reorder, as on a real path.
	Delay  Duration `json:"delay,omitempty"`
	Jitter Duration `json:"jitter,omitempty"`
	// Rate limits the link to Rate bytes/s; up to Queue datagrams wait for
	// it (default 32), the rest are dropped (tail drop).
	Rate  int64 `json:"rate,omitempty"`
	Queue int   `json:"queue,omitempty"`
	// Blackouts are periods of 100 % loss, timed from the flow's first
	// datagram.
	Blackouts []Blackout `json:"blackouts,omitempty"`

	// TCP mode: each read is cut into chunks of SegMin..SegMax bytes (0:
	// as read), each written after Delay ± Jitter, and EOF is passed on as
	// a half-close CloseDelay later.
	SegMin     int      `json:"seg_min,omitempty"`
	SegMax     int      `json:"seg_max,omitempty"`
	CloseDelay Duration `json:"close_delay,omitempty"`
}

// Corruptible parts of a datagram.
const (
	PartHeader   = "header"   // type and seqno, up to the second '|'
	PartData     = "data"     // between the second and the last '|'
	PartChecksum = "checksum" // after the last '|'
)

// GilbertElliott is a two-state loss model: in the good state datagrams
// are lost with LossGood, in the bad state with LossBad; before each
// datagram the state flips good→bad with P and bad→good with R. Mean
// burst length is 1/R datagrams; the long-run loss rate is Mean().
type GilbertElliott struct {
	P        float64 `json:"p"`
	R        float64 `json:"r"`
	LossGood float64 `json:"loss_good,omitempty"`
	LossBad  float64 `json:"loss_bad"`
}

// Mean is the stationary loss probability.
func (g GilbertElliott) Mean() float64 {
	if g.P+g.R == 0 {
		return g.LossGood
	}
	bad := g.P / (g.P + g.R)
	return bad*g.LossBad + (1-bad)*g.LossGood
}

// Blackout drops everything from At to At+For after the flow's first
// datagram, and again every Every if it is not zero. With After > 0 the
// clock starts at the flow's After-th datagram in the fwd direction
// instead, so a blackout lands inside a transfer however fast the path
// is (on loopback a whole file can pass in a few milliseconds).
type Blackout struct {
	At    Duration `json:"at"`
	After int      `json:"after,omitempty"`
	For   Duration `json:"for"`
	Every Duration `json:"every,omitempty"`
}

// active reports whether the blackout is on t after its clock started.
func (b Blackout) active(t time.Duration) bool {
	at, dur, every := time.Duration(b.At), time.Duration(b.For), time.Duration(b.Every)
	if t < at {
		return false
	}
	off := t - at
	if every > 0 {
		off %= every
	}
	return off < dur
}

// Rule drops chosen RUDP packets, matched by the packet's parsed type and
// seqno; netsim counts per flow.
type Rule struct {
	// Drop is one of: "start" (the first Count transmissions of start),
	// "end" (likewise end), "ack" (the first Count acks or sacks),
	// "every-ack" (every N-th ack), "seq" (the first Count transmissions
	// of start/data/end with seqno Seq).
	Drop  string `json:"drop"`
	Count int    `json:"count,omitempty"` // default 1
	N     int    `json:"n,omitempty"`
	Seq   uint64 `json:"seq,omitempty"`
}

func (r Rule) String() string {
	switch r.Drop {
	case "every-ack":
		return fmt.Sprintf("every %d-th ack", r.N)
	case "seq":
		return fmt.Sprintf("first transmission of seqno %d", r.Seq)
	}
	return "first " + r.Drop
}

// Defaults filled in by Normalize.
const (
	DefaultReorderDepth = 3
	DefaultReorderHold  = 200 * time.Millisecond
	DefaultQueue        = 32
	// MaxTCPChunkDelay bounds Delay+Jitter in TCP mode: Hello receivers end
	// a message without newline after a 1 s idle gap (HELLO-2), and a
	// chunk delay near that would cut messages in two.
	MaxTCPChunkDelay = 500 * time.Millisecond
)

// Normalize fills in defaults, so the trace header shows the values used.
func (c *Config) Normalize() {
	if c.Mode == "" {
		c.Mode = ModeUDP
	}
	for i := range c.Rules {
		if c.Rules[i].Count == 0 && c.Rules[i].Drop != "every-ack" {
			c.Rules[i].Count = 1
		}
	}
	if c.Mode != ModeUDP {
		return
	}
	for _, l := range []*Link{&c.Fwd, &c.Rev} {
		if l.Reorder > 0 {
			if l.ReorderDepth == 0 {
				l.ReorderDepth = DefaultReorderDepth
			}
			if l.ReorderHold == 0 {
				l.ReorderHold = Duration(DefaultReorderHold)
			}
		}
		if l.Corrupt > 0 && len(l.CorruptParts) == 0 {
			l.CorruptParts = []string{PartHeader, PartData, PartChecksum}
		}
		if l.Rate > 0 && l.Queue == 0 {
			l.Queue = DefaultQueue
		}
	}
}

// Validate reports every problem with c, each naming the field.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if c.Mode != ModeUDP && c.Mode != ModeTCP {
		bad("mode %q: want %q or %q", c.Mode, ModeUDP, ModeTCP)
	}
	for _, d := range []Dir{Fwd, Rev} {
		l := c.Link(d)
		prob := func(name string, p float64) {
			if !(p >= 0 && p <= 1) {
				bad("%s %s = %v: want a probability in [0, 1]", d, name, p)
			}
		}
		nonNeg := func(name string, v Duration) {
			if v < 0 {
				bad("%s %s = %v: must not be negative", d, name, v)
			}
		}
		prob("loss", l.Loss)
		prob("dup", l.Dup)
		prob("reorder", l.Reorder)
		prob("corrupt", l.Corrupt)
		if g := l.Burst; g != nil {
			prob("burst p", g.P)
			prob("burst r", g.R)
			prob("burst loss_good", g.LossGood)
			prob("burst loss_bad", g.LossBad)
		}
		nonNeg("delay", l.Delay)
		nonNeg("jitter", l.Jitter)
		nonNeg("reorder_hold", l.ReorderHold)
		nonNeg("close_delay", l.CloseDelay)
		if l.ReorderDepth < 0 || l.Queue < 0 || l.Rate < 0 || l.SegMin < 0 || l.SegMax < 0 {
			bad("%s: reorder_depth, queue, rate, seg_min and seg_max must not be negative", d)
		}
		for _, p := range l.CorruptParts {
			if p != PartHeader && p != PartData && p != PartChecksum {
				bad("%s corrupt_parts: %q is not one of header, data, checksum", d, p)
			}
		}
		for i, b := range l.Blackouts {
			if b.At < 0 || b.After < 0 || b.For <= 0 || b.Every < 0 || (b.Every > 0 && b.Every <= b.For) {
				bad("%s blackout %d (%+v): want at >= 0, after >= 0, for > 0, and every = 0 or > for", d, i, b)
			}
		}
		udpOnly := l.Loss > 0 || l.Burst != nil || l.Dup > 0 || l.Reorder > 0 || l.Corrupt > 0 ||
			l.Rate > 0 || l.Queue > 0 || len(l.Blackouts) > 0 || l.ReorderDepth > 0 || l.ReorderHold > 0
		tcpOnly := l.SegMin > 0 || l.SegMax > 0 || l.CloseDelay > 0
		switch c.Mode {
		case ModeTCP:
			if udpOnly {
				bad("%s: loss, burst, dup, reorder, corrupt, rate, queue and blackouts are UDP impairments; TCP mode re-segments and delays", d)
			}
			if l.SegMax > 0 && l.SegMin > l.SegMax {
				bad("%s seg_min %d > seg_max %d", d, l.SegMin, l.SegMax)
			}
			if l.Delay+l.Jitter > Duration(MaxTCPChunkDelay) {
				bad("%s delay+jitter = %v: TCP chunk delays must stay within %v (Hello receivers end a message after a 1 s idle gap)",
					d, l.Delay+l.Jitter, MaxTCPChunkDelay)
			}
		case ModeUDP:
			if tcpOnly {
				bad("%s: seg_min, seg_max and close_delay apply to TCP mode only", d)
			}
		}
	}
	if c.Mode == ModeTCP && len(c.Rules) > 0 {
		bad("rules match RUDP packets: UDP mode only")
	}
	for i, r := range c.Rules {
		switch r.Drop {
		case "start", "end", "ack", "seq":
			if r.Count < 0 {
				bad("rule %d (%s): count must not be negative", i, r.Drop)
			}
		case "every-ack":
			if r.N < 1 {
				bad("rule %d (every-ack): n must be at least 1", i)
			}
		default:
			bad("rule %d: drop %q is not one of start, end, ack, every-ack, seq", i, r.Drop)
		}
	}
	return errors.Join(errs...)
}

// Duration is a time.Duration that reads and writes as text ("50ms") in
// JSON, so trace headers and scenario listings are readable.
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

func (d Duration) String() string { return time.Duration(d).String() }

// MarshalJSON writes d as a duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON accepts a duration string or a number of nanoseconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	if s := strings.TrimSpace(string(b)); !strings.HasPrefix(s, `"`) {
		var n int64
		if err := json.Unmarshal(b, &n); err != nil {
			return fmt.Errorf("duration: %w", err)
		}
		*d = Duration(n)
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration: %w", err)
	}
	*d = Duration(v)
	return nil
}
