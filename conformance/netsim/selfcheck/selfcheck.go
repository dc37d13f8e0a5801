// Package selfcheck measures what a netsim scenario really does: it sends
// probe traffic through an in-process relay on loopback and compares the
// loss, duplication, reordering, corruption and delay seen on the wire
// with the configured values. The suite runs it before a matrix, so that
// a verdict on an implementation never rests on a simulator that does
// not do what its scenario says.
package selfcheck

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"slices"
	"strconv"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/interop-suite/interop/conformance/netsim"
	"github.com/interop-suite/interop/reference/rudp"
)

// Options tune a self-check. The zero value is the default.
type Options struct {
	Probes int     // datagrams sent (UDP); default 2000, more to outlast blackouts
	PPS    int     // probe rate; default 2000 per second
	Seed   uint64  // netsim seed; default 1
	Sigmas float64 // tolerance in binomial standard deviations; default 4
}

// Metric is one configured value against its measurement.
type Metric struct {
	Name       string  `json:"name"` // e.g. "fwd loss"
	Configured float64 `json:"configured"`
	Measured   float64 `json:"measured"`
	// Tolerance: OK when |Measured-Configured| <= Tolerance. For bounds
	// (delay, rate) see Note.
	Tolerance float64 `json:"tolerance"`
	Unit      string  `json:"unit,omitempty"` // "" for fractions
	OK        bool    `json:"ok"`
	// Warn marks a measurement past a bound that only a busy host can
	// push it over (a delay longer, a rate lower than configured): not
	// the simulator's fault, so OK stays true. The other side of each
	// bound (early, faster) is never excused.
	Warn bool   `json:"warn,omitempty"`
	Note string `json:"note,omitempty"`
}

// Result is the outcome of a self-check.
type Result struct {
	Scenario string   `json:"scenario"`
	Seed     uint64   `json:"seed"`
	Probes   int      `json:"probes"`
	Metrics  []Metric `json:"metrics"`
	OK       bool     `json:"ok"`
}

// WriteText prints the result as a table.
func (r *Result) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "selfcheck %s (seed %d, %d probes)\n", r.Scenario, r.Seed, r.Probes)
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "METRIC\tCONFIGURED\tMEASURED\tTOLERANCE\tOK\tNOTE")
	for _, m := range r.Metrics {
		f := func(v float64) string {
			if m.Unit == "" {
				return strconv.FormatFloat(v, 'f', 4, 64)
			}
			return strconv.FormatFloat(v, 'f', 1, 64) + " " + m.Unit
		}
		ok := "ok"
		switch {
		case !m.OK:
			ok = "FAIL"
		case m.Warn:
			ok = "warn"
		}
		tol := ""
		if m.Tolerance > 0 {
			tol = "±" + f(m.Tolerance)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", m.Name, f(m.Configured), f(m.Measured), tol, ok, m.Note)
	}
	tw.Flush()
	verdict := "PASS"
	if !r.OK {
		verdict = "FAIL"
	}
	_, err := fmt.Fprintf(w, "selfcheck %s: %s\n", r.Scenario, verdict)
	return err
}

// Run checks scenario sc.
func Run(ctx context.Context, sc netsim.Scenario, o Options) (Result, error) {
	if o.Probes <= 0 {
		o.Probes = 2000
	}
	if o.PPS <= 0 {
		o.PPS = 2000
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Sigmas <= 0 {
		o.Sigmas = 4
	}
	cfg := sc.Config.Clone()
	cfg.Normalize()
	if err := cfg.Validate(); err != nil {
		return Result{}, fmt.Errorf("selfcheck %s: %w", sc.Name, err)
	}
	res := Result{Scenario: sc.Name, Seed: o.Seed}
	var err error
	if cfg.Mode == netsim.ModeTCP {
		res.Probes = 1
		res.Metrics, err = runTCP(ctx, sc.Name, cfg, o)
	} else {
		res.Probes = max(o.Probes, probesToCover(&cfg, o.PPS))
		res.Metrics, err = runUDP(ctx, sc.Name, cfg, o)
	}
	if err != nil {
		return Result{}, fmt.Errorf("selfcheck %s: %w", sc.Name, err)
	}
	res.OK = true
	for _, m := range res.Metrics {
		res.OK = res.OK && m.OK
	}
	return res, nil
}

// startRelay runs an in-process relay to upstream; stop ends it and
// returns its trace (and may be called again, for a defer).
func startRelay(ctx context.Context, name string, cfg netsim.Config, seed uint64, upstream string) (net.Addr, func() ([]byte, error), error) {
	var buf lockedBuffer
	r, err := netsim.Listen(netsim.Options{Listen: "127.0.0.1:0", Upstream: upstream, Scenario: name, Config: cfg, Seed: seed, Trace: &buf})
	if err != nil {
		return nil, nil, err
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- r.Run(rctx) }()
	var once sync.Once
	var runErr error
	return r.Addr(), func() ([]byte, error) {
		once.Do(func() {
			cancel()
			runErr = <-done
		})
		return buf.bytes(), runErr
	}, nil
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) bytes() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return bytes.Clone(l.b.Bytes())
}

// binomialTol is the tolerance for a rate p measured over n trials:
// sigmas standard deviations (inflated by vif for correlated trials),
// plus a floor for the odd datagram a busy host loses on loopback.
func binomialTol(p float64, n int, vif, sigmas float64) float64 {
	if n == 0 {
		return 1
	}
	return sigmas*math.Sqrt(p*(1-p)*vif/float64(n)) + 0.005
}

func rateMetric(name string, want, got float64, n int, vif, sigmas float64) Metric {
	tol := binomialTol(want, n, vif, sigmas)
	return Metric{Name: name, Configured: want, Measured: got, Tolerance: tol, OK: math.Abs(got-want) <= tol}
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(xs))
	return s[len(s)/2]
}

// errNoTraffic is returned when nothing at all came through.
var errNoTraffic = errors.New("no probe reached the upstream: the relay does not forward")

// idOf recovers a probe's number from a datagram that may have flipped
// bits: the number is written several times, and the value that occurs
// most often wins (the checksum occurs once).
func idOf(b []byte) (uint64, bool) {
	counts := map[uint64]int{}
	for tok := range bytes.FieldsFuncSeq(b, func(r rune) bool { return r < '0' || r > '9' }) {
		if v, err := strconv.ParseUint(string(tok), 10, 64); err == nil {
			counts[v]++
		}
	}
	var best uint64
	n := 0
	for v, c := range counts {
		if c > n || (c == n && v < best) {
			best, n = v, c
		}
	}
	return best, n >= 2
}

const (
	idDigits  = 10
	idCopies  = 5
	probeSize = 240 // bytes of payload: ids and padding
)

// probe is the RUDP datagram for probe i of n: start, data..., end, its
// number written idCopies times so corruption cannot hide it.
func probe(i, n int) []byte {
	typ := rudp.TypeData
	switch i {
	case 0:
		typ = rudp.TypeStart
	case n - 1:
		typ = rudp.TypeEnd
	}
	var data []byte
	for range idCopies {
		data = fmt.Appendf(data, "<%0*d>", idDigits, i)
	}
	for len(data) < probeSize {
		data = append(data, '.')
	}
	return rudp.Encode(rudp.Packet{Type: typ, Seq: uint64(i), Data: data})
}

// echo is the upstream's answer number k: a sack (so ack rules apply to
// it) whose list repeats k.
func echo(k uint64) []byte {
	list := make([]uint64, idCopies-1)
	for i := range list {
		list[i] = k
	}
	return rudp.Encode(rudp.Packet{Type: rudp.TypeSack, Seq: k, Sacks: list})
}

// seen collects what arrived in one direction.
type seen struct {
	mu        sync.Mutex
	datagrams int
	corrupt   int
	unknown   int // so damaged the id was lost
	first     map[uint64]time.Time
	count     map[uint64]int
	late      int // first copies that came after a higher id
	maxID     uint64
	anyID     bool
	bytes     int
	firstAt   time.Time
	lastAt    time.Time
}

func newSeen() *seen { return &seen{first: map[uint64]time.Time{}, count: map[uint64]int{}} }

func (s *seen) add(b []byte, at time.Time) (uint64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.datagrams++
	s.bytes += len(b)
	if s.firstAt.IsZero() {
		s.firstAt = at
	}
	s.lastAt = at
	if _, err := rudp.Parse(b); err != nil {
		s.corrupt++
	}
	id, ok := idOf(b)
	if !ok {
		s.unknown++
		return 0, false
	}
	if s.count[id] == 0 {
		s.first[id] = at
		if s.anyID && id < s.maxID {
			s.late++
		}
		if !s.anyID || id > s.maxID {
			s.maxID, s.anyID = id, true
		}
	}
	s.count[id]++
	return id, true
}

func (s *seen) lastArrival() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastAt
}

func (s *seen) total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.datagrams
}
