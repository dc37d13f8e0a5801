// Package relay is a small seeded, lossy UDP relay for the RUDP tests and
// benchmarks: it sits between senders and one receiver on loopback and
// drops, duplicates, reorders, corrupts and delays datagrams in both
// directions, or cuts everything for a while (a blackout).
//
// Each client address gets its own upstream socket, so the receiver sees
// one distinct source address per sender, as it would without the relay.
// Duplicates and corrupted copies are independent copies of the datagram:
// corrupting one never alters another (the course harness's flaw).
//
// Random decisions come from PCG generators seeded from Config.Seed, one
// per direction and client, so a configuration is reproducible as far as
// the senders' own timing allows.
package relay

import (
	"container/heap"
	"errors"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Config describes the impairments. Probabilities are in [0, 1] and apply
// to each datagram independently.
type Config struct {
	Seed uint64

	Loss      float64 // sender -> receiver datagrams dropped
	AckLoss   float64 // receiver -> sender datagrams dropped
	Duplicate float64 // an extra, independent copy is sent (both directions)
	Reorder   float64 // the datagram is held back by ReorderDelay (both directions)
	Corrupt   float64 // one random bit of the (copy of the) datagram is flipped (both directions)

	Delay        time.Duration // one-way delay, both directions; gives the RTT
	ReorderDelay time.Duration // extra delay of reordered datagrams; default 3*Delay + 5 ms

	// After BlackoutAfter sender->receiver datagrams (0: never), every
	// datagram in both directions is dropped for Blackout.
	BlackoutAfter int64
	Blackout      time.Duration
}

// Stats count what the relay did.
type Stats struct {
	Forward, Backward      int64 // datagrams received from senders, from the receiver
	Dropped, Duplicated    int64
	Reordered, Corrupted   int64
	BlackedOut, Clients    int64
	DeliveredF, DeliveredB int64 // datagrams (copies included) passed on
}

// Relay forwards datagrams between clients and a target.
type Relay struct {
	cfg    Config
	conn   *net.UDPConn // client-facing
	target *net.UDPAddr

	mu      sync.Mutex
	clients map[string]*client
	nclient uint64
	closed  bool

	fwdCount      atomic.Int64
	blackoutStart atomic.Int64 // unix nanos; 0 = not started
	st            struct {
		sync.Mutex
		Stats
	}
	wg sync.WaitGroup
	dl *delayLine
}

type client struct {
	addr *net.UDPAddr
	up   *net.UDPConn // connected to target
	fwd  *rand.Rand   // used only by the client-facing reader goroutine
	back *rand.Rand   // used only by this client's upstream reader goroutine
}

// Start listens on an ephemeral loopback port and relays to target.
func Start(target *net.UDPAddr, cfg Config) (*Relay, error) {
	if cfg.ReorderDelay == 0 {
		cfg.ReorderDelay = 3*cfg.Delay + 5*time.Millisecond
	}
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, err
	}
	r := &Relay{cfg: cfg, conn: conn, target: target, clients: map[string]*client{}, dl: newDelayLine()}
	r.wg.Add(2)
	go func() { defer r.wg.Done(); r.dl.run() }()
	go func() { defer r.wg.Done(); r.forward() }()
	return r, nil
}

// Addr is where senders should send.
func (r *Relay) Addr() *net.UDPAddr { return r.conn.LocalAddr().(*net.UDPAddr) }

// Stats returns a snapshot of the counters.
func (r *Relay) Stats() Stats {
	r.st.Lock()
	defer r.st.Unlock()
	return r.st.Stats
}

// Close stops the relay and waits for its goroutines.
func (r *Relay) Close() error {
	r.mu.Lock()
	r.closed = true
	err := r.conn.Close()
	for _, c := range r.clients {
		c.up.Close()
	}
	r.mu.Unlock()
	r.dl.stop()
	r.wg.Wait()
	return err
}

func (r *Relay) count(f func(*Stats)) {
	r.st.Lock()
	f(&r.st.Stats)
	r.st.Unlock()
}

func (r *Relay) forward() {
	buf := make([]byte, 65536)
	for {
		n, from, err := r.conn.ReadFromUDP(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		c, err := r.client(from)
		if err != nil {
			continue
		}
		r.count(func(s *Stats) { s.Forward++ })
		if k := r.cfg.BlackoutAfter; k > 0 && r.fwdCount.Add(1) == k {
			r.blackoutStart.Store(time.Now().UnixNano())
		}
		r.impair(buf[:n], c.fwd, r.cfg.Loss, true, func(b []byte) {
			if _, err := c.up.Write(b); err == nil {
				r.count(func(s *Stats) { s.DeliveredF++ })
			}
		})
	}
}

// client returns the state for a client address, creating its upstream
// socket and reader on first use.
func (r *Relay) client(from *net.UDPAddr) (*client, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c := r.clients[from.String()]; c != nil {
		return c, nil
	}
	if r.closed {
		return nil, net.ErrClosed
	}
	up, err := net.DialUDP("udp", nil, r.target)
	if err != nil {
		return nil, err
	}
	r.nclient++
	c := &client{
		addr: from,
		up:   up,
		fwd:  rand.New(rand.NewPCG(r.cfg.Seed, 2*r.nclient)),
		back: rand.New(rand.NewPCG(r.cfg.Seed, 2*r.nclient+1)),
	}
	r.clients[from.String()] = c
	r.count(func(s *Stats) { s.Clients++ })
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		buf := make([]byte, 65536)
		for {
			n, err := up.Read(buf)
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				continue // e.g. ECONNREFUSED before the receiver is up
			}
			r.count(func(s *Stats) { s.Backward++ })
			r.impair(buf[:n], c.back, r.cfg.AckLoss, false, func(b []byte) {
				if _, err := r.conn.WriteToUDP(b, c.addr); err == nil {
					r.count(func(s *Stats) { s.DeliveredB++ })
				}
			})
		}
	}()
	return c, nil
}

func (r *Relay) inBlackout() bool {
	t := r.blackoutStart.Load()
	return t != 0 && time.Since(time.Unix(0, t)) < r.cfg.Blackout
}

// impair applies the configuration to one datagram and schedules the
// surviving copies for send. Every copy is a fresh slice.
func (r *Relay) impair(b []byte, rng *rand.Rand, loss float64, fwd bool, send func([]byte)) {
	// Draw every random number for every datagram, in a fixed order, so
	// that the decisions for datagram k do not depend on earlier outcomes.
	dropDraw, dupDraw := rng.Float64(), rng.Float64()
	reoDraw := [2]float64{rng.Float64(), rng.Float64()}
	corDraw := [2]float64{rng.Float64(), rng.Float64()}
	bits := [2]int{rng.IntN(1 << 30), rng.IntN(1 << 30)}
	if r.inBlackout() {
		r.count(func(s *Stats) { s.BlackedOut++ })
		return
	}
	if dropDraw < loss {
		r.count(func(s *Stats) { s.Dropped++ })
		return
	}
	copies := 1
	if dupDraw < r.cfg.Duplicate {
		copies = 2
		r.count(func(s *Stats) { s.Duplicated++ })
	}
	for i := range copies {
		c := append([]byte(nil), b...)
		if corDraw[i] < r.cfg.Corrupt && len(c) > 0 {
			bit := bits[i] % (8 * len(c))
			c[bit/8] ^= 1 << (bit % 8)
			r.count(func(s *Stats) { s.Corrupted++ })
		}
		d := r.cfg.Delay
		if reoDraw[i] < r.cfg.Reorder {
			d += r.cfg.ReorderDelay
			r.count(func(s *Stats) { s.Reordered++ })
		}
		if d == 0 {
			send(c)
			continue
		}
		r.dl.add(time.Now().Add(d), func() { send(c) })
	}
}

// delayLine runs functions at their due times, in due-time order (ties in
// insertion order), from one goroutine, so equal delays never reorder.
type delayLine struct {
	mu   sync.Mutex
	h    dueHeap
	seq  uint64
	wake chan struct{}
	quit chan struct{}
	once sync.Once
}

type due struct {
	at  time.Time
	seq uint64
	f   func()
}

type dueHeap []due

func (h dueHeap) Len() int { return len(h) }
func (h dueHeap) Less(i, j int) bool {
	if !h[i].at.Equal(h[j].at) {
		return h[i].at.Before(h[j].at)
	}
	return h[i].seq < h[j].seq
}
func (h dueHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *dueHeap) Push(x any)   { *h = append(*h, x.(due)) }
func (h *dueHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

func newDelayLine() *delayLine {
	return &delayLine{wake: make(chan struct{}, 1), quit: make(chan struct{})}
}

func (d *delayLine) add(at time.Time, f func()) {
	d.mu.Lock()
	d.seq++
	heap.Push(&d.h, due{at: at, seq: d.seq, f: f})
	d.mu.Unlock()
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

func (d *delayLine) stop() { d.once.Do(func() { close(d.quit) }) }

func (d *delayLine) run() {
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		d.mu.Lock()
		var next time.Time
		for d.h.Len() > 0 {
			if wait := time.Until(d.h[0].at); wait > 0 {
				next = d.h[0].at
				break
			}
			x := heap.Pop(&d.h).(due)
			d.mu.Unlock()
			x.f()
			d.mu.Lock()
		}
		d.mu.Unlock()
		if next.IsZero() {
			t.Reset(time.Hour)
		} else {
			t.Reset(time.Until(next))
		}
		select {
		case <-t.C:
		case <-d.wake:
		case <-d.quit:
			return
		}
	}
}
