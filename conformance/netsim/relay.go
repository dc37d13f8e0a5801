package netsim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/interop-suite/interop/conformance/netsim/trace"
)

// Options configure a relay.
type Options struct {
	Listen   string // address to listen on, e.g. ":9000"
	Upstream string // HOST:PORT; resolved at Listen if it can be, else retried every 200 ms
	Scenario string // recorded in the trace header
	Config   Config // normalised and validated by Listen
	Seed     uint64
	Trace    io.Writer   // JSON Lines trace; nil for none
	Args     []string    // command line, recorded in the trace header for replay
	Log      *log.Logger // nil: no log

	MaxFlows   int           // UDP source addresses served at once; default 1024
	FlowIdle   time.Duration // a UDP flow silent this long is forgotten; default 2 min
	MaxPending int           // see DefaultMaxPending
}

// Relay is a running simulator in UDP or TCP mode.
type Relay struct {
	opts  Options
	start time.Time
	tw    *trace.Writer
	log   *log.Logger

	udp *net.UDPConn
	tcp *net.TCPListener
	up  netip.AddrPort // the upstream, if it resolved at Listen
}

// Listen checks the configuration, binds the listening socket and writes
// the trace header. Serve with Run.
func Listen(o Options) (*Relay, error) {
	o.Config = o.Config.Clone()
	o.Config.Normalize()
	if err := o.Config.Validate(); err != nil {
		return nil, fmt.Errorf("netsim config: %w", err)
	}
	if o.Upstream == "" {
		return nil, errors.New("netsim: no upstream address")
	}
	if _, _, err := net.SplitHostPort(o.Upstream); err != nil {
		return nil, fmt.Errorf("netsim upstream %q: %w", o.Upstream, err)
	}
	if o.MaxFlows <= 0 {
		o.MaxFlows = 1024
	}
	if o.FlowIdle <= 0 {
		o.FlowIdle = 2 * time.Minute
	}
	r := &Relay{opts: o, log: o.Log}
	if r.log == nil {
		r.log = log.New(io.Discard, "", 0)
	}
	var err error
	if o.Config.Mode == ModeTCP {
		var a *net.TCPAddr
		if a, err = net.ResolveTCPAddr("tcp", o.Listen); err == nil {
			r.tcp, err = net.ListenTCP("tcp", a)
		}
	} else {
		var a *net.UDPAddr
		if a, err = net.ResolveUDPAddr("udp", o.Listen); err == nil {
			r.udp, err = net.ListenUDP("udp", a)
		}
		if err == nil {
			// A deep buffer rides out scheduling hiccups on a busy host
			// (datagrams the kernel drops never reach the trace).
			_ = r.udp.SetReadBuffer(4 << 20)
			_ = r.udp.SetWriteBuffer(4 << 20)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("netsim listen %s %q: %w", o.Config.Mode, o.Listen, err)
	}
	if o.Config.Mode == ModeUDP {
		r.up = lookupOnce(o.Upstream)
	}
	r.start = time.Now()
	if o.Trace != nil {
		cfg, _ := json.Marshal(o.Config)
		r.tw, err = trace.NewWriter(o.Trace, trace.Header{
			Mode: o.Config.Mode, Seed: o.Seed, Scenario: o.Scenario, Start: r.start,
			Listen: o.Listen, Upstream: o.Upstream, Args: o.Args, Config: cfg,
		})
		if err != nil {
			r.close()
			return nil, err
		}
	}
	return r, nil
}

// Addr is the bound listening address.
func (r *Relay) Addr() net.Addr {
	if r.tcp != nil {
		return r.tcp.Addr()
	}
	return r.udp.LocalAddr()
}

// Config is the effective configuration, defaults filled in.
func (r *Relay) Config() Config { return r.opts.Config.Clone() }

func (r *Relay) close() {
	if r.tcp != nil {
		r.tcp.Close()
	}
	if r.udp != nil {
		r.udp.Close()
	}
}

// Run relays until ctx is cancelled, then writes the trace footer,
// flushes, and returns nil. An error means the trace could not be written.
func (r *Relay) Run(ctx context.Context) error {
	lag := watchLag(ctx)
	var counts map[string]int64
	if r.tcp != nil {
		counts = r.runTCP(ctx)
	} else {
		counts = r.runUDP(ctx)
	}
	counts["sched_lag_max_us"] = lag()
	if r.tw == nil {
		return nil
	}
	if err := r.tw.Close(trace.Footer{T: r.now(), Counts: counts}); err != nil {
		return fmt.Errorf("netsim trace: %w", err)
	}
	return nil
}

// lagTick is how often watchLag wakes up.
const lagTick = 5 * time.Millisecond

// watchLag measures how late this process gets the CPU: a ticker that
// should wake every lagTick, and the worst lateness seen. On a loaded
// machine the relay's timestamps are late by as much, so the wire checker
// widens its timing judgements by it (footer "sched_lag_max_us") rather
// than blame a program for the machine. The returned function stops the
// watch and gives the maximum in microseconds.
func watchLag(ctx context.Context) func() int64 {
	var worst atomic.Int64
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(lagTick)
		defer t.Stop()
		last := time.Now()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				n := time.Now()
				if late := n.Sub(last) - lagTick; late > time.Duration(worst.Load())*time.Microsecond {
					worst.Store(late.Microseconds())
				}
				last = n
			}
		}
	}()
	return func() int64 {
		close(done)
		<-stopped
		return worst.Load()
	}
}

func (r *Relay) now() float64 { return trace.Millis(time.Since(r.start)) }

func (r *Relay) emit(e *trace.Event) {
	if r.tw != nil {
		r.tw.Event(e)
	}
}

// lookup resolves hostport ("name:port" or "ip:port") to one address.
func lookup(ctx context.Context, hostport string) (netip.AddrPort, error) {
	if a, err := netip.ParseAddrPort(hostport); err == nil {
		return a, nil
	}
	host, port, _ := net.SplitHostPort(hostport)
	pn, err := net.DefaultResolver.LookupPort(ctx, "udp", port)
	if err != nil {
		return netip.AddrPort{}, err
	}
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return netip.AddrPort{}, err
	}
	return netip.AddrPortFrom(addrs[0].Unmap(), uint16(pn)), nil // LookupNetIP never returns none without an error
}

// lookupOnce resolves hostport now if it can within a second: then the
// first datagrams need not wait for the retrying resolver. In the suite
// the receiver is up before netsim starts, so this is the usual path.
func lookupOnce(hostport string) netip.AddrPort {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	a, _ := lookup(ctx, hostport)
	return a
}

// resolve looks the upstream up until it succeeds: in the suite the
// receiver's container may start after netsim, and its name does not
// resolve until then.
func resolve(ctx context.Context, hostport string, lg *log.Logger) (netip.AddrPort, error) {
	for attempt := 0; ; attempt++ {
		a, err := lookup(ctx, hostport)
		if err == nil {
			if attempt > 0 {
				lg.Printf("upstream %s resolved after %d retries", hostport, attempt)
			}
			return a, nil
		}
		if attempt == 0 {
			lg.Printf("upstream %s does not resolve yet (%v); retrying", hostport, err)
		}
		select {
		case <-ctx.Done():
			return netip.AddrPort{}, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// udpFlow is one client source address and the socket that speaks for it
// upstream, so the upstream sees one address per client (RUDP-10).
type udpFlow struct {
	id     int
	client netip.AddrPort
	to     *net.UDPAddr // client, as the batch writer wants it
	conn   *net.UDPConn
	out    batchConn // conn, for batched writes
	last   time.Duration
	closed bool
}

// udpRelay is the UDP relay's state. Each reader goroutine handles its
// own datagrams under mu (no hand-off to another goroutine on the packet
// path); a scheduler goroutine sends what Sim has queued when it is due.
// Copies to send are queued in out, in the order Sim decided (a held
// datagram after the one that let it go), and flushed before mu is
// released, a batch per socket where the platform allows (batch_linux.go).
type udpRelay struct {
	*Relay
	mu       sync.Mutex
	sim      *Sim
	flows    map[netip.AddrPort]*udpFlow
	byID     map[int]*udpFlow
	nextID   int
	up       netip.AddrPort
	sendErrs int64
	stopping bool

	lis batchConn  // the listening socket, for batched writes
	out []outMsg   // copies to send when mu is released; see flush
	io  batchState // the platform's batch buffers, used under mu

	wake    chan struct{} // a departure may now be due earlier than the scheduler thinks
	timerAt time.Duration // when the scheduler wakes next; -1: not set
	wg      sync.WaitGroup
}

func (r *Relay) runUDP(ctx context.Context) map[string]int64 {
	u := &udpRelay{
		Relay:   r,
		sim:     NewSim(r.opts.Config, r.opts.Seed, r.opts.MaxPending, r.emit),
		flows:   map[netip.AddrPort]*udpFlow{},
		byID:    map[int]*udpFlow{},
		wake:    make(chan struct{}, 1),
		timerAt: -1,
	}
	if r.up.IsValid() {
		u.up = r.up
	} else {
		rctx, cancelResolve := context.WithCancel(ctx)
		defer cancelResolve()
		go func() {
			if a, err := resolve(rctx, r.opts.Upstream, r.log); err == nil {
				u.mu.Lock()
				u.up = a
				u.mu.Unlock()
			}
		}()
	}
	u.lis = newBatchConn(r.udp)
	u.wg.Add(1)
	go u.read(Fwd, r.udp, nil)

	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-timer.C:
		case <-u.wake:
		case <-tick.C:
			if r.tw != nil {
				r.tw.Flush()
			}
			u.mu.Lock()
			u.expire()
			u.mu.Unlock()
		case <-ctx.Done():
			return u.shutdown()
		}
		u.mu.Lock()
		u.sendDue()
		u.flush()
		next, ok := u.sim.NextDue()
		if !ok {
			next = -1
		}
		u.timerAt = next
		u.mu.Unlock()
		if ok {
			timer.Reset(next - time.Since(r.start))
		}
	}
}

// sendDue sends every copy that is due. Called with mu held.
func (u *udpRelay) sendDue() {
	for _, dep := range u.sim.Due(time.Since(u.start)) {
		u.send(dep)
	}
}

// bufPool holds read buffers for datagrams up to 2 KB (every RUDP
// datagram), so the packet path does not allocate one per datagram.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

func getBuf(n int) []byte {
	if n > 2048 {
		return make([]byte, n)
	}
	return (*bufPool.Get().(*[]byte))[:n]
}

func putBuf(b []byte) {
	if cap(b) == 2048 {
		bufPool.Put(&b)
	}
}

// handle decides the fate of one datagram read from the client side (d
// Fwd, from: the client) or from fl's upstream socket (d Rev). Called with
// mu held; the copies to send wait in u.out for flush.
func (u *udpRelay) handle(d Dir, fl *udpFlow, from netip.AddrPort, data []byte) {
	if d == Fwd {
		u.handleFwd(from, data)
	} else {
		u.handleRev(fl, data)
	}
}

// wakeScheduler tells the scheduler if a departure just queued is due
// before it means to wake. Called with mu held.
func (u *udpRelay) wakeScheduler() {
	if next, ok := u.sim.NextDue(); ok && (u.timerAt < 0 || next < u.timerAt) {
		u.timerAt = next
		select {
		case u.wake <- struct{}{}:
		default:
		}
	}
}

func (u *udpRelay) handleRev(fl *udpFlow, data []byte) {
	if fl.closed {
		return
	}
	now := time.Since(u.start)
	fl.last = now
	for _, dep := range u.sim.Arrive(now, fl.id, Rev, data, "") {
		u.send(dep)
	}
	u.sendDue()
}

func (u *udpRelay) handleFwd(from netip.AddrPort, data []byte) {
	now := time.Since(u.start)
	from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
	fl := u.flows[from]
	if fl == nil {
		if len(u.flows) >= u.opts.MaxFlows {
			u.expire()
		}
		if len(u.flows) >= u.opts.MaxFlows {
			u.sim.Arrive(now, -1, Fwd, data, fmt.Sprintf("too many clients (max %d)", u.opts.MaxFlows))
			return
		}
		fl = &udpFlow{id: u.nextID, client: from, to: net.UDPAddrFromAddrPort(from)}
		u.nextID++
		u.flows[from] = fl
		u.byID[fl.id] = fl
		u.log.Printf("flow %d: client %s", fl.id, from)
	}
	fl.last = now
	force := ""
	if fl.conn == nil {
		force = u.dialUpstream(fl)
	}
	for _, dep := range u.sim.Arrive(now, fl.id, Fwd, data, force) {
		u.send(dep)
	}
	// A held datagram released by this one is due now: send it after.
	u.sendDue()
}

// dialUpstream opens the flow's upstream socket, or says why it cannot.
func (u *udpRelay) dialUpstream(fl *udpFlow) string {
	if !u.up.IsValid() {
		return "upstream " + u.opts.Upstream + " not resolved yet"
	}
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(u.up))
	if err != nil {
		return "cannot open a socket to upstream: " + err.Error()
	}
	_ = c.SetReadBuffer(4 << 20)
	_ = c.SetWriteBuffer(4 << 20)
	fl.conn = c
	fl.out = newBatchConn(c)
	u.wg.Add(1)
	go u.read(Rev, c, fl)
	return ""
}

// outMsg is a copy waiting in udpRelay.out to be sent.
type outMsg struct {
	fl   *udpFlow
	dir  Dir
	data []byte
}

// send queues a copy for flush, which sends it before mu is released.
func (u *udpRelay) send(dep *Departure) {
	if fl := u.byID[dep.Flow]; fl == nil || fl.closed {
		u.sendFailed(dep.Dir, dep.Flow, errors.New("flow gone"))
		putBuf(dep.Data)
	} else {
		u.out = append(u.out, outMsg{fl: fl, dir: dep.Dir, data: dep.Data})
	}
	dep.Data = nil
}

// flush sends every queued copy, in order, and returns the buffers.
// Called with mu held, so copies leave in the order Sim decided.
func (u *udpRelay) flush() {
	out := u.out
	for len(out) > 0 {
		// A run of copies that leave through the same socket: a flow's
		// own upstream socket (fwd) or the listening socket (rev).
		n := 1
		for n < len(out) && out[n].dir == out[0].dir && !out[n].fl.closed && (out[0].dir == Rev || out[n].fl == out[0].fl) {
			n++
		}
		switch fl := out[0].fl; {
		case fl.closed: // closed by expire after the copy was queued
			n = 1
			u.sendFailed(out[0].dir, fl.id, errors.New("flow gone"))
		case out[0].dir == Fwd:
			u.sendRun(fl.out, out[:n])
		default:
			u.sendRun(u.lis, out[:n])
		}
		for i := range out[:n] {
			putBuf(out[i].data)
			out[i] = outMsg{}
		}
		out = out[n:]
	}
	u.out = u.out[:0]
}

func (u *udpRelay) sendFailed(d Dir, flow int, err error) {
	if u.sendErrs == 0 {
		u.log.Printf("send %s flow %d: %v", d, flow, err)
	}
	u.sendErrs++
}

// expire forgets flows idle for FlowIdle with nothing pending.
func (u *udpRelay) expire() {
	now := time.Since(u.start)
	for addr, fl := range u.flows {
		if now-fl.last >= u.opts.FlowIdle && u.sim.FlowPending(fl.id) == 0 {
			u.closeFlow(fl)
			delete(u.flows, addr)
			delete(u.byID, fl.id)
			u.sim.Forget(fl.id)
			u.log.Printf("flow %d: idle, forgotten", fl.id)
		}
	}
}

func (u *udpRelay) closeFlow(fl *udpFlow) {
	fl.closed = true
	if fl.conn != nil {
		fl.conn.Close()
	}
}

func (u *udpRelay) shutdown() map[string]int64 {
	u.mu.Lock()
	u.stopping = true
	u.udp.Close()
	for _, fl := range u.flows {
		u.closeFlow(fl)
	}
	u.mu.Unlock()
	u.wg.Wait()
	u.sim.Cancel(time.Since(u.start))
	counts := map[string]int64{"flows": int64(u.nextID), "send_errors": u.sendErrs}
	for d, c := range u.sim.Counts() {
		n := Dir(d).String()
		counts[n+"_in"], counts[n+"_dropped"] = c.In, c.Dropped
		counts[n+"_sent"], counts[n+"_cancelled"] = c.Sent, c.Cancelled
	}
	return counts
}
