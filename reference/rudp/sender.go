package rudp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/netip"
	"time"
)

// Sender defaults (spec/rudp.md, RUDP-41, RUDP-44).
const (
	// DefaultInitialRTO is the course's fixed timeout, used until the
	// first RTT sample (RUDP-41).
	DefaultInitialRTO = 500 * time.Millisecond
	// DefaultMinRTO is the floor of the adaptive timeout, as in Linux:
	// RFC 6298's 1 s is meant for the Internet and would be slower than
	// the course's own 500 ms, while a floor near the RTT of a LAN would
	// fire on every scheduling hiccup of a loaded machine. Losses are
	// meant to be repaired by acks (RUDP-42), not by the timer.
	DefaultMinRTO = 200 * time.Millisecond
	// DefaultMaxRTO caps the exponential backoff far below the
	// receiver's 10 s idle timeout (RUDP-15): during a blackout the
	// sender still probes every second, so a blackout of up to about 9 s
	// does not make the receiver drop the transfer, and the transfer
	// resumes within a second of the network's return.
	DefaultMaxRTO = time.Second
	// DefaultGiveUp is how long the sender keeps trying without any
	// cumulative-ack progress before it fails (RUDP-44).
	DefaultGiveUp = 60 * time.Second
	// dupThresh is the number of duplicate acks that triggers a fast
	// retransmit (RUDP-42), also used as the SACK loss threshold.
	dupThresh = 3
)

// ErrGaveUp is returned by Send when no ack progress was seen for
// Options.GiveUp (RUDP-44).
var ErrGaveUp = errors.New("no acknowledgement progress")

// Options configure Send. The zero value is the course's behaviour with
// the defaults above and a start seqno of 0.
type Options struct {
	SACK       bool          // use and expect sack acknowledgements (RUDP-30, RUDP-32)
	FirstSeq   uint64        // seqno of the start packet (RUDP-7)
	InitialRTO time.Duration // zero: DefaultInitialRTO
	MinRTO     time.Duration // zero: DefaultMinRTO
	MaxRTO     time.Duration // zero: DefaultMaxRTO
	GiveUp     time.Duration // zero: DefaultGiveUp
	Logger     *slog.Logger  // Debug lines per event; nil discards
}

// Stats describe one Send.
type Stats struct {
	Packets         int64         // distinct packets, start and end included
	Bytes           int64         // input bytes sent
	Transmissions   int64         // datagrams sent, retransmissions included
	Retransmissions int64         // Transmissions - Packets
	FastRetransmits int64         // retransmissions triggered by dup acks or sacks (RUDP-42, RUDP-32)
	Probes          int64         // repeated repairs after an ack failed to come (tail loss probes)
	Timeouts        int64         // retransmission timer expiries (RUDP-41)
	Duration        time.Duration // from the first datagram to the ack of end
	SRTT            time.Duration // smoothed RTT at the end, 0 if never sampled
}

// inflight is one sent, not yet cumulatively acked packet.
type inflight struct {
	seq    uint64
	wire   []byte
	sent   time.Time // last transmission
	tx     int       // transmissions so far
	sacked bool      // listed in a sack (RUDP-32)
	marked bool      // retransmitted for loss in the current recovery episode
	probed bool      // its repair was probed once (onProbe)
}

type chunk struct {
	data []byte
	last bool
	err  error
}

// Send transfers everything read from r to the receiver at addr over conn
// and returns once end is acked (RUDP-45). It fails if ctx ends, r fails,
// conn fails, or nothing is acked for opts.GiveUp (RUDP-44). Acks from
// other addresses are ignored. Send does not close conn, and it restores
// conn's read deadline before it returns. Input is read by a goroutine
// one payload ahead; if r blocks (a terminal, a pipe), that goroutine
// returns only when r does.
//
// The sender keeps at most Window packets in flight at or beyond the
// cumulative ack (RUDP-40) and uses the largest payload that fits a
// datagram (RUDP-46). Losses are repaired from the acks: at the third
// duplicate ack (RUDP-42), or earlier once a packet sent later has arrived
// and the missing one is overdue by a quarter RTT (RACK, RFC 8985); with
// opts.SACK, every hole the sacks reveal (RUDP-32). An RFC 6298 timer
// with Karn's rule and exponential backoff (RUDP-41) covers the rest.
func Send(ctx context.Context, conn net.PacketConn, addr net.Addr, r io.Reader, opts Options) (Stats, error) {
	s := newSender(conn, addr, opts)
	start := time.Now()
	err := s.run(ctx, r)
	s.stats.Duration = time.Since(start)
	s.stats.Retransmissions = s.stats.Transmissions - s.stats.Packets
	s.stats.SRTT = s.srtt
	return s.stats, err
}

type sender struct {
	conn  net.PacketConn
	addr  net.Addr
	peer  netip.AddrPort // addr, for comparing with ack sources; invalid if addr is not UDP
	opts  Options
	log   *slog.Logger
	stats Stats

	win     []*inflight // cum .. cum+len-1, len <= Window (RUDP-40)
	cum     uint64      // lowest unacked seqno: the last cumulative ack
	nextSeq uint64      // seqno of the next new packet
	endSent bool

	dups       int    // duplicate acks in a row (RUDP-42)
	sackAcks   bool   // the last ack was a sack (RUDP-31)
	inRecovery bool   // between a loss repair and the ack covering recover
	recover    uint64 // nextSeq when recovery began (NewReno)

	srtt, rttvar time.Duration // RFC 6298 state; srtt == 0 means no sample yet
	rto          time.Duration // current timeout, backoff included
	timer        *time.Timer   // retransmission timer for the head (RFC 6298)
	timerOn      bool
	heard        bool        // an ack arrived since the last timeout
	lossTimer    *time.Timer // fires when a suspected hole becomes overdue (RACK)
	probeTimer   *time.Timer // fires when a repaired head got no ack (TLP)
	probeSeq     uint64      // the head the probe timer was armed for
	lastProgress time.Time
}

func newSender(conn net.PacketConn, addr net.Addr, o Options) *sender {
	if o.InitialRTO <= 0 {
		o.InitialRTO = DefaultInitialRTO
	}
	if o.MinRTO <= 0 {
		o.MinRTO = DefaultMinRTO
	}
	if o.MaxRTO <= 0 {
		o.MaxRTO = DefaultMaxRTO
	}
	if o.GiveUp <= 0 {
		o.GiveUp = DefaultGiveUp
	}
	s := &sender{conn: conn, addr: addr, opts: o, log: o.Logger, cum: o.FirstSeq, nextSeq: o.FirstSeq, rto: o.InitialRTO}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if ua, ok := addr.(*net.UDPAddr); ok {
		s.peer = ua.AddrPort()
		s.peer = netip.AddrPortFrom(s.peer.Addr().Unmap(), s.peer.Port())
	}
	return s
}

func (s *sender) run(ctx context.Context, r io.Reader) error {
	if s.addr == nil {
		return errors.New("no receiver address")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	chunks := make(chan chunk, Window)
	go readChunks(ctx, r, s.opts.FirstSeq, chunks)
	acks := make(chan Packet, 64)
	readErr := make(chan error, 1)
	readerDone := make(chan struct{})
	go s.readAcks(ctx, acks, readErr, readerDone)
	defer func() {
		// Wake the ack reader and wait for it, then give conn back as we
		// found it (Send does not own conn).
		cancel()
		s.conn.SetReadDeadline(time.Unix(1, 0))
		<-readerDone
		s.conn.SetReadDeadline(time.Time{})
	}()

	s.timer = time.NewTimer(time.Hour)
	s.timer.Stop()
	defer s.timer.Stop()
	s.lossTimer = time.NewTimer(time.Hour)
	s.lossTimer.Stop()
	defer s.lossTimer.Stop()
	s.probeTimer = time.NewTimer(time.Hour)
	s.probeTimer.Stop()
	defer s.probeTimer.Stop()
	s.lastProgress = time.Now()

	for {
		// RUDP-40: a new packet only while fewer than Window are in
		// flight. And nothing after start until start is acked: a
		// receiver drops every packet that arrives before start
		// (RUDP-11), so if start were lost, the rest of the window would
		// be lost with it, and each would cost a timeout. Waiting costs
		// one RTT per transfer, and start's ack gives the first RTT
		// sample.
		var in <-chan chunk
		if !s.endSent && len(s.win) < Window && (s.nextSeq == s.opts.FirstSeq || s.cum > s.opts.FirstSeq) {
			in = chunks
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case err := <-readErr:
			return fmt.Errorf("reading acks: %w", err)
		case c := <-in:
			if c.err != nil {
				return fmt.Errorf("reading input: %w", c.err)
			}
			if err := s.sendNew(c); err != nil {
				return err
			}
		case a := <-acks:
			done, err := s.onAck(a)
			if done || err != nil {
				return err
			}
		case <-s.timer.C:
			s.timerOn = false
			if err := s.onTimeout(); err != nil {
				return err
			}
		case <-s.lossTimer.C:
			if err := s.detectLosses(); err != nil {
				return err
			}
		case <-s.probeTimer.C:
			if err := s.onProbe(); err != nil {
				return err
			}
		}
	}
}

// readChunks splits r into payloads as large as a datagram allows
// (RUDP-46) and marks the last one, reading one chunk ahead: the last
// payload travels in end (RUDP-7), so the sender must know it is last
// before sending it.
func readChunks(ctx context.Context, r io.Reader, first uint64, out chan<- chunk) {
	emit := func(c chunk) bool {
		select {
		case out <- c:
			return true
		case <-ctx.Done():
			return false
		}
	}
	read := func(i uint64) ([]byte, bool, error) {
		typ := TypeData
		if i == 0 {
			typ = TypeStart
		}
		b := make([]byte, MaxPayload(typ, first+i))
		n, err := io.ReadFull(r, b)
		switch err {
		case nil:
			return b, false, nil
		case io.EOF, io.ErrUnexpectedEOF:
			return b[:n], true, nil
		default:
			return nil, false, err
		}
	}
	cur, eof, err := read(0)
	if err != nil {
		emit(chunk{err: err})
		return
	}
	if eof {
		// The whole input fits in start; end follows, empty.
		if emit(chunk{data: cur}) {
			emit(chunk{last: true})
		}
		return
	}
	for i := uint64(1); ; i++ {
		next, eof, err := read(i)
		if err != nil {
			emit(chunk{err: err})
			return
		}
		if eof && len(next) == 0 {
			// cur is the last payload. If cur is start's, end is empty.
			if i == 1 {
				if emit(chunk{data: cur}) {
					emit(chunk{last: true})
				}
			} else {
				emit(chunk{data: cur, last: true})
			}
			return
		}
		if !emit(chunk{data: cur}) {
			return
		}
		if eof {
			emit(chunk{data: next, last: true})
			return
		}
		cur = next
	}
}

// readAcks turns datagrams from the receiver into packets. Datagrams from
// other addresses and invalid ones are dropped (RUDP-8).
func (s *sender) readAcks(ctx context.Context, out chan<- Packet, errc chan<- error, done chan<- struct{}) {
	defer close(done)
	buf := make([]byte, MaxDatagram+1)
	for {
		n, from, err := s.conn.ReadFrom(buf)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				continue // a deadline set by someone else; keep going
			}
			errc <- err
			return
		}
		if !s.fromPeer(from) {
			s.log.Debug("ignored datagram from another address", "from", from)
			continue
		}
		p, err := Parse(buf[:n])
		if err != nil || (p.Type != TypeAck && p.Type != TypeSack) {
			s.log.Debug("dropped", "len", n, "type", p.Type, "err", err)
			continue
		}
		select {
		case out <- p:
		case <-ctx.Done():
			return
		}
	}
}

func (s *sender) fromPeer(from net.Addr) bool {
	if !s.peer.IsValid() {
		return from.String() == s.addr.String()
	}
	ua, ok := from.(*net.UDPAddr)
	if !ok {
		return false
	}
	ap := ua.AddrPort()
	return ap.Port() == s.peer.Port() && ap.Addr().Unmap() == s.peer.Addr()
}

func (s *sender) sendNew(c chunk) error {
	if s.nextSeq == math.MaxUint64 {
		// RUDP-3: the ack after this packet would not fit in 64 bits.
		return errors.New("seqno space exhausted: choose a smaller start seqno")
	}
	typ := TypeData
	switch {
	case c.last:
		typ = TypeEnd // RUDP-7: end is last, carrying the last payload
	case s.nextSeq == s.opts.FirstSeq:
		typ = TypeStart // RUDP-7: start is first, carrying the first payload
	}
	p := &inflight{seq: s.nextSeq, wire: Encode(Packet{Type: typ, Seq: s.nextSeq, Data: c.data})}
	s.nextSeq++
	s.endSent = c.last
	s.win = append(s.win, p)
	s.stats.Packets++
	s.stats.Bytes += int64(len(c.data))
	return s.transmit(p, "new")
}

func (s *sender) transmit(p *inflight, why string) error {
	if _, err := s.conn.WriteTo(p.wire, s.addr); err != nil {
		// A send error on UDP (e.g. ICMP unreachable, buffer full) is not
		// fatal: the timer retransmits (RUDP-44). A closed socket is.
		if errors.Is(err, net.ErrClosed) {
			return fmt.Errorf("sending: %w", err)
		}
		s.log.Debug("send failed", "seq", p.seq, "err", err)
	}
	p.tx++
	p.sent = time.Now()
	s.stats.Transmissions++
	s.log.Debug("sent", "seq", p.seq, "why", why, "tx", p.tx, "cum", s.cum, "rto", s.rto)
	if !s.timerOn { // RFC 6298 (5.1)
		s.armTimer()
	}
	return nil
}

func (s *sender) armTimer() {
	s.timer.Reset(s.rto)
	s.timerOn = true
}

// onAck processes one ack or sack and reports whether end is acked.
func (s *sender) onAck(a Packet) (bool, error) {
	s.heard = true
	switch {
	case a.Seq > s.nextSeq || a.Seq < s.cum:
		// Beyond anything sent (bogus) or older than what we know (stale,
		// reordered): ignore.
		s.log.Debug("ignored ack", "ack", a.Seq, "cum", s.cum, "next", s.nextSeq)
		return false, nil
	case a.Seq > s.cum:
		if s.endSent && a.Seq == s.nextSeq {
			return true, nil // RUDP-45: end is acked
		}
		if err := s.onProgress(a.Seq); err != nil {
			return false, err
		}
	default:
		if len(s.win) > 0 {
			s.dups++
		}
	}
	// A receiver that does not do SACK answers with plain acks; then the
	// sender judges by duplicate acks as without SACK.
	s.sackAcks = s.opts.SACK && a.Type == TypeSack
	if s.sackAcks {
		s.markSacked(a.Sacks)
	}
	return false, s.detectLosses()
}

// onProgress handles a cumulative ack advancing from s.cum to ack.
func (s *sender) onProgress(ack uint64) error {
	n := int(ack - s.cum)
	// Karn's rule (RUDP-41): sample the RTT only if no newly acked packet
	// was ever retransmitted. The oldest newly acked packet is the one
	// whose arrival most likely triggered the ack; using it errs on the
	// long side, which is the safe side for a timeout.
	clean := true
	for _, p := range s.win[:n] {
		clean = clean && p.tx == 1
	}
	if clean {
		s.sample(time.Since(s.win[0].sent))
	}
	// Progress also ends any backoff: the path works again, and without
	// this a lossy path, where most acks cover a retransmission and so
	// give no sample, would keep the timeout doubled for long stretches
	// (RFC 6298 (5.7) allows recomputing; Linux does the same).
	s.rto = s.baseRTO()
	clear(s.win[:n])
	s.win = s.win[n:]
	s.cum = ack
	s.dups = 0
	s.lastProgress = time.Now()
	if len(s.win) == 0 {
		s.timer.Stop() // RFC 6298 (5.2)
		s.timerOn = false
	} else {
		s.armTimer() // RFC 6298 (5.3)
	}
	if s.inRecovery && ack >= s.recover {
		s.inRecovery = false
	}
	// A partial ack (still in recovery) lets new packets go out; their
	// duplicate acks then expose the next hole, which is overdue by then,
	// so detectLosses repairs it within about one RTT. Retransmitting it
	// at once (NewReno) would save little and is indistinguishable on
	// the wire from a timer firing far too early.
	return nil
}

// sample updates SRTT and RTTVAR as RFC 6298 (2.2, 2.3) says; the caller
// recomputes the RTO (baseRTO).
func (s *sender) sample(r time.Duration) {
	if s.srtt == 0 {
		s.srtt, s.rttvar = r, r/2
	} else {
		d := s.srtt - r
		if d < 0 {
			d = -d
		}
		s.rttvar = (3*s.rttvar + d) / 4
		s.srtt = (7*s.srtt + r) / 8
	}
}

// baseRTO is the timeout without backoff: RFC 6298 (2.3), with the clock
// granularity G taken as 1 ms, within [MinRTO, MaxRTO]; or the initial
// 500 ms before any sample (RUDP-41).
func (s *sender) baseRTO() time.Duration {
	if s.srtt == 0 {
		return s.opts.InitialRTO
	}
	return min(max(s.srtt+max(time.Millisecond, 4*s.rttvar), s.opts.MinRTO), s.opts.MaxRTO)
}

// overdue is how long after its last transmission a packet is deemed lost
// once a packet sent after it has arrived: one smoothed RTT plus a
// reordering allowance of a quarter RTT (at least 2 ms), as in RACK
// (RFC 8985). Zero until the RTT has been measured.
func (s *sender) overdue() time.Duration {
	if s.srtt == 0 {
		return 0
	}
	return s.srtt + max(s.srtt/4, 2*time.Millisecond)
}

func (s *sender) enterRecovery() {
	s.inRecovery = true
	s.recover = s.nextSeq
	for _, p := range s.win {
		p.marked = false
	}
}

func (s *sender) retransmit(p *inflight, why string) error {
	p.marked = true
	head := p == s.win[0]
	if err := s.transmit(p, why); err != nil {
		return err
	}
	if head {
		s.armTimer() // the repaired head gets a full timeout
	}
	return nil
}

func (s *sender) markSacked(list []uint64) {
	for _, q := range list {
		if q >= s.cum && q-s.cum < uint64(len(s.win)) {
			s.win[q-s.cum].sacked = true
		}
	}
}

// detectLosses retransmits the packets that are lost by the evidence of
// the acks so far, and arms the loss timer for those that will be if no
// ack comes first. A packet not yet retransmitted in this recovery episode
// is lost when packets sent after it arrived and
//   - they are at least dupThresh: the 3rd duplicate ack (RUDP-42), or
//     dupThresh sacked packets above it (RFC 6675);
//   - or at least one, and it is overdue (RACK, RFC 8985): this catches
//     losses in a window of 5 where the duplicate acks themselves were
//     lost, which would otherwise wait for the timeout.
//
// Without SACK only the head can be judged; with SACK every hole, and a
// sacked packet is never sent again (RUDP-32).
func (s *sender) detectLosses() error {
	if len(s.win) == 0 {
		return nil
	}
	now := time.Now()
	var next time.Time
	check := func(p *inflight, evidence int) error {
		if p.marked || evidence == 0 {
			return nil
		}
		due := p.sent.Add(s.overdue())
		if evidence < dupThresh && (s.srtt == 0 || now.Before(due)) {
			if s.srtt != 0 && (next.IsZero() || due.Before(next)) {
				next = due
			}
			return nil
		}
		if !s.inRecovery {
			s.enterRecovery()
		}
		s.stats.FastRetransmits++
		if err := s.retransmit(p, "fast"); err != nil {
			return err
		}
		if p == s.win[0] && s.srtt != 0 {
			// Tail loss probe (RFC 8985): the window cannot move until
			// the head is repaired, so if this repair or its ack is lost
			// no further ack will come. Probe after 2 SRTT instead of
			// waiting for the timeout.
			p.probed = false
			s.probeSeq = p.seq
			s.probeTimer.Reset(max(2*s.srtt, 10*time.Millisecond))
		}
		return nil
	}
	if s.sackAcks {
		above := 0
		for i := len(s.win) - 1; i >= 0; i-- {
			if s.win[i].sacked {
				above++
			} else if err := check(s.win[i], above); err != nil {
				return err
			}
		}
	} else if err := check(s.win[0], s.dups); err != nil {
		return err
	}
	if !next.IsZero() {
		s.lossTimer.Reset(time.Until(next))
	}
	return nil
}

// onProbe repeats the repair of the head once if no ack covered it within
// the probe timeout. Its ack (or the duplicate ack it causes) restarts the
// ack clock whether the first repair or only its ack was lost.
func (s *sender) onProbe() error {
	if len(s.win) == 0 {
		return nil
	}
	p := s.win[0]
	if p.seq != s.probeSeq || !p.marked || p.probed || time.Since(p.sent) < 2*s.srtt {
		return nil // acked meanwhile, or repaired again since
	}
	p.probed = true
	s.stats.Probes++
	return s.retransmit(p, "probe")
}

// onTimeout handles an expiry of the retransmission timer (RUDP-41).
func (s *sender) onTimeout() error {
	if len(s.win) == 0 {
		return nil
	}
	if time.Since(s.lastProgress) >= s.opts.GiveUp {
		if s.cum == s.opts.FirstSeq {
			return fmt.Errorf("%w for %v: the receiver never acknowledged start (is it listening on that address and port?)",
				ErrGaveUp, s.opts.GiveUp)
		}
		return fmt.Errorf("%w for %v: %d packets acknowledged, seqno %d is not: giving up",
			ErrGaveUp, s.opts.GiveUp, s.cum-s.opts.FirstSeq, s.cum)
	}
	s.stats.Timeouts++
	// RFC 6298 (5.5): back off, but only while the path is silent. If
	// acks (even duplicates) arrived since the last timeout, the path
	// works and the losses are random, not an outage: doubling then only
	// stretches every later wait (at 50 % loss most rounds fail, and the
	// waits would grow to the cap).
	if s.heard {
		s.rto = s.baseRTO()
	} else {
		s.rto = min(2*s.rto, s.opts.MaxRTO)
	}
	s.heard = false
	s.enterRecovery()
	s.dups = 0
	// RFC 6298 (5.4) retransmits the earliest unacknowledged packet. A
	// whole RTO without progress says nothing is known to have arrived, so,
	// as TCP does after a timeout (RFC 5681 3.1, RFC 6675 5.1), resend
	// every packet in the window not known to be held (RUDP-32): with
	// the window stuck behind a lost repair, one lone retransmission
	// needs both it and its ack to get through, and under heavy loss
	// waits out timer after timer.
	//
	// If that is a single packet (a lone SACK hole, or the last packet),
	// it goes twice: its repair needs it and one ack to get through,
	// and under heavy loss a second copy nearly halves the rounds that
	// bring no ack at all.
	var resend []*inflight
	for _, p := range s.win {
		if !p.sacked {
			resend = append(resend, p)
		}
	}
	if len(resend) == 1 {
		resend = append(resend, resend[0])
	}
	for _, p := range resend {
		if err := s.retransmit(p, "timeout"); err != nil {
			return err
		}
	}
	s.armTimer() // (5.6)
	return nil
}
