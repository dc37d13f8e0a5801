package wirecheck

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/interop-suite/interop/conformance/netsim/trace"
	"github.com/interop-suite/interop/reference/rudp"
)

// script builds a trace by hand: what each peer sent, and what netsim did.
type script struct {
	t     float64
	idx   [2]uint64
	evs   []trace.Event
	lagUS int64 // the footer's sched_lag_max_us
}

func (s *script) at(t float64) *script { s.t = t; return s }

func (s *script) next(dir string) uint64 {
	d := 0
	if dir == trace.Rev {
		d = 1
	}
	s.idx[d]++
	return s.idx[d] - 1
}

func (s *script) pkt(dir, action, typ string, seq uint64) trace.Event {
	e := trace.Event{T: s.t, Dir: dir, Idx: s.next(dir), Action: action, Type: typ, Seq: seq, HasSeq: true, CsumOK: true, HasCsum: true, Size: 16}
	if typ == rudp.TypeStart || typ == rudp.TypeData || typ == rudp.TypeEnd {
		e.Size, e.PLen = 1472, 1449
	}
	return e
}

// send: the sender sends typ/seq, and it reaches the receiver at once.
func (s *script) send(typ string, seq uint64) *script {
	s.evs = append(s.evs, s.pkt(trace.Fwd, trace.Forwarded, typ, seq))
	return s
}

func (s *script) sendLost(typ string, seq uint64) *script {
	s.evs = append(s.evs, s.pkt(trace.Fwd, trace.Dropped, typ, seq))
	return s
}

// sendCorrupt: it reaches the receiver with flipped bits.
func (s *script) sendCorrupt(typ string, seq uint64) *script {
	e := s.pkt(trace.Fwd, trace.Corrupted, typ, seq)
	rel := e
	rel.Action, rel.Copy, rel.CsumOK, rel.Err, rel.PLen, rel.Detail = trace.Release, 1, false, trace.ErrBadChecksum, 0, "corrupted: data: bit 1 of byte 30"
	s.evs = append(s.evs, e, rel)
	return s
}

func (s *script) ack(cum uint64) *script {
	s.evs = append(s.evs, s.pkt(trace.Rev, trace.Forwarded, rudp.TypeAck, cum))
	return s
}

func (s *script) ackLost(cum uint64) *script {
	s.evs = append(s.evs, s.pkt(trace.Rev, trace.Dropped, rudp.TypeAck, cum))
	return s
}

func (s *script) sack(cum uint64, list ...uint64) *script {
	e := s.pkt(trace.Rev, trace.Forwarded, rudp.TypeSack, cum)
	e.Sacks = list
	s.evs = append(s.evs, e)
	return s
}

func (s *script) raw(dir string, e trace.Event) *script {
	e.T, e.Dir, e.Idx = s.t, dir, s.next(dir)
	s.evs = append(s.evs, e)
	return s
}

func (s *script) text(footer bool) string {
	var buf bytes.Buffer
	w, err := trace.NewWriter(&buf, trace.Header{Mode: "udp", Seed: 1, Scenario: "hand-made", Start: time.Unix(0, 0)})
	if err != nil {
		panic(err)
	}
	for i := range s.evs {
		w.Event(&s.evs[i])
	}
	if footer {
		w.Close(trace.Footer{T: s.t, Counts: map[string]int64{"sched_lag_max_us": s.lagUS}})
	} else {
		w.Flush()
	}
	return buf.String()
}

func analyze(t *testing.T, s *script) Report {
	t.Helper()
	rep, err := Analyze(strings.NewReader(s.text(true)))
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func prop(t *testing.T, rep Report, name string) Property {
	t.Helper()
	p, ok := rep.Property(name)
	if !ok {
		t.Fatalf("no property %s", name)
	}
	return p
}

// expect checks one property's grade and that its detail mentions want.
func expect(t *testing.T, rep Report, name string, g Grade, want string) {
	t.Helper()
	p := prop(t, rep, name)
	if p.Grade != g || !strings.Contains(p.Detail, want) {
		t.Errorf("%s: %s %q\nwant %s containing %q", name, p.Grade, p.Detail, g, want)
	}
}

// onlyFailures lists properties not graded pass.
func notPass(rep Report) []string {
	var out []string
	for _, p := range rep.Properties {
		if p.Grade != Pass {
			out = append(out, p.Name+": "+p.Detail)
		}
	}
	return out
}

// goodTransfer is a transfer of seqnos 0..7 where data 2 is lost once and
// repaired by fast retransmit, all by the book.
func goodTransfer() *script {
	s := &script{}
	s.at(0).send("start", 0).at(1).ack(1)
	s.at(2).send("data", 1).sendLost("data", 2).send("data", 3).send("data", 4).send("data", 5)
	s.at(3).ack(2).ack(2).ack(2).ack(2) // 1 delivered; 3, 4, 5 are dups for 2
	s.at(4).send("data", 2)             // fast retransmit
	s.at(5).ack(6)
	s.at(6).send("data", 6).send("end", 7)
	s.at(7).ack(7).ack(8)
	s.at(8)
	return s
}

func TestGoodTransferPassesEverything(t *testing.T) {
	rep := analyze(t, goodTransfer())
	if bad := notPass(rep); len(bad) > 0 || rep.Grade != Pass || !rep.Complete {
		t.Fatalf("grade %s, complete %v, not passing: %v", rep.Grade, rep.Complete, bad)
	}
	st := rep.Stats
	if !st.EndAcked || st.PacketsSent != 9 || st.UniqueData != 8 || st.Retransmissions != 1 || st.Delivered != 8 {
		t.Fatalf("stats %+v", st)
	}
	if st.DurationMS != 7 || st.PayloadBytes != 8*1449 || st.MaxInFlight != 5 {
		t.Fatalf("duration %v, payload %d, in flight %d", st.DurationMS, st.PayloadBytes, st.MaxInFlight)
	}
	expect(t, rep, PropFastRetransmit, Pass, "1 of 1 runs")
	if p := prop(t, rep, PropAckCorrupt); p.Exercised {
		t.Error("ack-corrupt exercised without corruption")
	}
}

func TestWindowOverrun(t *testing.T) {
	s := &script{}
	for i := range uint64(7) {
		typ := "data"
		if i == 0 {
			typ = "start"
		}
		s.send(typ, i)
	}
	rep := analyze(t, s)
	expect(t, rep, PropWindow, Fail, "sent seqno 5 while the highest ack it had received was 0: 6 packets in flight, the window is 5 (RUDP-40)")
	if rep.Stats.MaxInFlight != 7 {
		t.Errorf("max in flight %d, want 7", rep.Stats.MaxInFlight)
	}
}

func TestRetransmitAfterAck(t *testing.T) {
	// Proven by the sender's own packets: it sent 6..9, which its window
	// allows only once it has read an ack above 4 (so 1 is acked).
	s := &script{}
	s.send("start", 0)
	for i := uint64(1); i <= 9; i++ {
		s.send("data", i).ack(i + 1)
	}
	for range 4 {
		s.at(10).send("data", 1)
	}
	s.at(20).send("end", 10).ack(11)
	rep := analyze(t, s)
	expect(t, rep, PropRetransmitAcked, NonStrict, "seqno 1 was retransmitted 4 times after it was acked (RUDP-43)")
	if rep.Grade != NonStrict {
		t.Errorf("overall %s, want non-strict: %v", rep.Grade, notPass(rep))
	}

	// Known by time alone: the ack had reached the sender long before.
	s = &script{}
	s.send("start", 0).send("data", 1).at(1).ack(1).ack(2).at(1+Grace).send("data", 1).send("end", 2).ack(3)
	expect(t, analyze(t, s), PropRetransmitAcked, NonStrict, "seqno 1 was retransmitted 1 times after it was acked (RUDP-43)")
}

// A retransmission right after the ack reached the sender may have left
// before the sender could read it: no violation within Grace.
func TestRetransmitWithinGraceIsFine(t *testing.T) {
	s := &script{}
	s.send("start", 0).at(1).ack(1).at(1+Grace/2).send("start", 0).at(2+Grace).send("end", 1).ack(2)
	expect(t, analyze(t, s), PropRetransmitAcked, Pass, "no packet was retransmitted")
}

func TestAckCarriesReceivedSeqno(t *testing.T) {
	s := &script{}
	s.send("start", 0).ack(0).send("end", 1).ack(1)
	rep := analyze(t, s)
	expect(t, rep, PropAckNextExpected, Fail, "ack 0 names the seqno just received; an ack carries the next expected seqno (1) (RUDP-13)")
	expect(t, rep, PropComplete, Fail, "never acked")
}

func TestAckGoesBack(t *testing.T) {
	s := &script{}
	s.send("start", 0).ack(1).send("data", 1).ack(2).send("data", 2).ack(1)
	expect(t, analyze(t, s), PropAckNextExpected, Fail, "ack 1 goes back")
}

func TestAckForCorruptPacket(t *testing.T) {
	s := &script{}
	s.send("start", 0).ack(1).sendCorrupt("data", 1).ack(2)
	rep := analyze(t, s)
	expect(t, rep, PropAckCorrupt, Fail, "ack 2 acknowledges seqno 1, which had reached the receiver only corrupted (RUDP-8)")
}

// A receiver that answers a corrupt datagram with a duplicate ack sends
// more acks than it got intact packets.
func TestDuplicateAckForCorruptPacket(t *testing.T) {
	s := &script{}
	s.send("start", 0).ack(1).sendCorrupt("data", 1).ack(1)
	rep := analyze(t, s)
	expect(t, rep, PropAckCorrupt, Fail, "only 1 intact packets had reached it (and 1 corrupt ones)")
	if p := prop(t, rep, PropAckNextExpected); p.Grade != Pass {
		t.Errorf("the duplicate ack's value is right; ack-next-expected: %s", p.Detail)
	}
}

func TestCorruptNotAckedPasses(t *testing.T) {
	s := &script{}
	s.send("start", 0).ack(1).sendCorrupt("data", 1).at(500).send("data", 1).ack(2).send("end", 2).ack(3)
	rep := analyze(t, s)
	expect(t, rep, PropAckCorrupt, Pass, "1 corrupt datagrams reached the receiver; none was acked")
	if p := prop(t, rep, PropAckCorrupt); !p.Exercised {
		t.Error("not marked exercised")
	}
}

func TestReceiverWithoutBuffer(t *testing.T) {
	s := &script{}
	s.send("start", 0).ack(1).sendLost("data", 1).send("data", 2).ack(1).send("data", 3).ack(1)
	s.at(500).send("data", 1).ack(2) // a buffering receiver would say 4
	expect(t, analyze(t, s), PropAckNextExpected, Fail, "seqnos 2..3 had reached the receiver intact, but it did not keep out-of-order packets within its window of 5 (RUDP-12)")
}

func TestReceiverBeyondWindow(t *testing.T) {
	s := &script{}
	s.send("start", 0).ack(1).sendLost("data", 1)
	for i := uint64(2); i <= 6; i++ {
		s.send("data", i).ack(1)
	}
	s.at(500).send("data", 1).ack(7) // 6 is outside 1..5: must be dropped, ack 6
	expect(t, analyze(t, s), PropAckNextExpected, Fail, "kept packets beyond its window of 5")
}

func TestDataAfterEnd(t *testing.T) {
	s := &script{}
	s.send("start", 0).ack(1).send("end", 1).send("data", 2).ack(2)
	expect(t, analyze(t, s), PropSequence, Fail, "data 2 sent after end (seqno 1): nothing may follow end (RUDP-7)")
}

func TestSequenceProblems(t *testing.T) {
	s := &script{}
	s.send("data", 5).send("start", 5).send("data", 7)
	rep := analyze(t, s)
	p := prop(t, rep, PropSequence)
	all := ""
	for _, v := range p.Violations {
		all += v.Detail + "\n"
	}
	for _, want := range []string{"the first packet was data 5, not start", "seqno 5 was sent as data, then as start", "seqno jumped from 5 to 7"} {
		if !strings.Contains(all, want) {
			t.Errorf("missing %q in:\n%s", want, all)
		}
	}
}

func TestMalformedDatagrams(t *testing.T) {
	s := &script{}
	s.raw(trace.Fwd, trace.Event{Action: trace.Forwarded, Size: 1500, Err: trace.ErrTooLong})
	s.raw(trace.Fwd, trace.Event{Action: trace.Forwarded, Size: 20, Type: "data", Seq: 1, HasSeq: true, HasCsum: true, Err: trace.ErrBadChecksum})
	s.raw(trace.Rev, trace.Event{Action: trace.Forwarded, Size: 5, Err: trace.ErrMalformed})
	s.send("ack", 3)
	rep := analyze(t, s)
	p := prop(t, rep, PropSenderFormat)
	if p.Grade != Fail || p.Count != 3 || p.Violations[0].Req != "RUDP-2" || p.Violations[1].Req != "RUDP-4" || p.Violations[2].Req != "RUDP-1" {
		t.Fatalf("sender-format %+v", p)
	}
	expect(t, rep, PropReceiverFormat, Fail, "(RUDP-6)")
}

func TestLostPacketNeverRetransmitted(t *testing.T) {
	s := &script{}
	s.send("start", 0).ack(1).sendLost("data", 1).send("end", 2).ack(1).at(3000)
	rep := analyze(t, s)
	expect(t, rep, PropTimer, Fail, "seqno 1 was lost (sent 1 times, last at 0 ms) and never sent again")
	expect(t, rep, PropComplete, Fail, "end (seqno 2) was never acked to the sender: the highest ack that reached the sender was 1")
}

func TestTimerFasterThanRTT(t *testing.T) {
	s := &script{}
	s.send("start", 0)
	for i := uint64(1); i <= 5; i++ { // seqno i-1 acked 50 ms after it left: RTT 50 ms
		s.at(float64(50 * i)).ack(i)
		if i < 5 {
			s.send("data", i)
		}
	}
	s.at(260).sendLost("data", 5)
	for i := range 5 {
		s.at(float64(270+10*i)).sendLost("data", 5) // every 10 ms
	}
	s.at(400).send("data", 5).at(450).ack(6).send("end", 6).at(500).ack(7)
	expect(t, analyze(t, s), PropTimer, NonStrict, "the timer fires before acks can come back: median wait 10 ms, round-trip time 50 ms")
}

// An ack that covers a once-sent packet only after an earlier hole was
// filled by a retransmission says nothing about the round trip.
func TestRTTNotTakenAcrossAHole(t *testing.T) {
	s := &script{}
	s.send("start", 0).at(1).ack(1)
	s.sendLost("data", 1).send("data", 2).at(2).ack(1)
	s.at(500).send("data", 1).at(501).ack(3)
	s.send("end", 3).at(502).ack(4)
	p := prop(t, analyze(t, s), PropTimer)
	if !strings.Contains(p.Detail, "round-trip time 1.0 ms (median of 2)") {
		t.Fatalf("detail %q", p.Detail)
	}
}

func TestInitialTimer(t *testing.T) {
	s := &script{}
	s.sendLost("start", 0).at(100).send("start", 0).at(101).ack(1).send("end", 1).ack(2)
	expect(t, analyze(t, s), PropTimer, NonStrict, "the first retransmission came 100 ms after the first transmission, before any ack: the timer starts at 500 ms")

	s = &script{}
	s.sendLost("start", 0).at(500).send("start", 0).at(501).ack(1).send("end", 1).ack(2)
	expect(t, analyze(t, s), PropTimer, Pass, "1 timer retransmissions; median wait 500 ms")
}

func TestNoFastRetransmit(t *testing.T) {
	s := goodTransfer()
	// Move the fast retransmit from 4 ms to 500 ms, as a timer would.
	for i := range s.evs {
		switch {
		case s.evs[i].T >= 5:
			s.evs[i].T += 500
		case s.evs[i].T == 4:
			s.evs[i].T = 500
		}
	}
	expect(t, analyze(t, s), PropFastRetransmit, NonStrict, "3 duplicate acks for seqno 2 reached the sender by 3 ms, but it resent it only 497 ms later")
}

// Four identical acks, then at once an ack covering the packet, and the
// sender said nothing in between: it may not have read the duplicates in
// time, and then had nothing to resend. Not a missed fast retransmit.
func TestFastRetransmitMootWhenCoveredAtOnce(t *testing.T) {
	s := &script{}
	s.send("start", 0).ack(1)
	s.send("data", 1).send("data", 2).send("data", 3).send("data", 4).send("data", 5)
	s.at(1).ack(1).ack(1).ack(1).ack(6) // 1 was only late (reordered)
	s.at(2).send("end", 6).ack(7)
	rep := analyze(t, s)
	if p := prop(t, rep, PropFastRetransmit); p.Grade != Pass || p.Exercised {
		t.Fatalf("fast-retransmit %s, exercised %v: %s", p.Grade, p.Exercised, p.Detail)
	}
}

// A sack sender must not resend what a sack listed (RUDP-32).
func TestRetransmitSacked(t *testing.T) {
	s := &script{}
	s.send("start", 0).sack(1).sendLost("data", 1).send("data", 2).sack(1, 2)
	s.at(500).send("data", 1).send("data", 2).at(2000).send("data", 2).sack(3).send("end", 3).sack(4)
	expect(t, analyze(t, s), PropRetransmitAcked, NonStrict, "seqno 2 was retransmitted 1 times after a sack listed it as received (RUDP-32)") // the one at 500 ms is within Grace
}

// Found by a mutation hunt: duplicate acks for a seqno the sender skipped
// crashed the fast-retransmit judge.
func TestDuplicateAcksForASkippedSeqno(t *testing.T) {
	s := &script{}
	s.send("start", 0).ack(1).send("data", 2).ack(1).ack(1).ack(1).send("data", 3)
	rep := analyze(t, s)
	expect(t, rep, PropSequence, Fail, "seqno jumped from 0 to 2")
}

func TestSackList(t *testing.T) {
	s := &script{}
	s.send("start", 0).sack(1).sendLost("data", 1).send("data", 2).send("data", 3)
	s.sack(1, 3, 2)
	expect(t, analyze(t, s), PropSackList, Fail, "sack 1 lists [3 2]: not in ascending order (RUDP-31)")

	s = &script{}
	s.send("start", 0).sack(1).sendLost("data", 1).send("data", 2).sack(1, 2, 4)
	expect(t, analyze(t, s), PropSackList, Fail, "sack 1 lists 4, which had not reached the receiver intact")

	s = &script{}
	s.send("start", 0).sack(1).sendLost("data", 1).send("data", 2).sack(1, 2).at(500).send("data", 1).sack(3).send("end", 3).sack(4)
	rep := analyze(t, s)
	if bad := notPass(rep); len(bad) > 0 {
		t.Fatalf("a correct sack transfer: %v", bad)
	}
}

func TestSmallPayload(t *testing.T) {
	s := &script{}
	for i := range uint64(6) {
		typ := "data"
		switch i {
		case 0:
			typ = "start"
		case 5:
			typ = "end"
		}
		e := s.pkt(trace.Fwd, trace.Forwarded, typ, i)
		e.Size, e.PLen = 1044, 1024
		s.evs = append(s.evs, e)
		s.ack(i + 1)
	}
	expect(t, analyze(t, s), PropPayloadSize, NonStrict, "data datagrams are 1044 bytes; up to 1472 are allowed")
}

func TestSendingAfterEndAcked(t *testing.T) {
	s := &script{}
	s.send("start", 0).ack(1).send("end", 1).ack(2).at(2000).send("end", 1)
	rep := analyze(t, s)
	expect(t, rep, PropComplete, NonStrict, "the sender sent 1 more datagrams over 1 s after end was acked; it should exit (RUDP-45)")
	expect(t, rep, PropRetransmitAcked, NonStrict, "seqno 1 was retransmitted 1 times after it was acked")
}

func TestIncompleteTrace(t *testing.T) {
	text := goodTransfer().text(false) + `{"t":9,"flow":0,"dir":"fw`
	rep, err := Analyze(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Complete || len(rep.Notes) == 0 || !rep.Stats.EndAcked {
		t.Fatalf("complete %v, notes %v", rep.Complete, rep.Notes)
	}
}

func TestEmptyTraceFails(t *testing.T) {
	rep, err := Analyze(strings.NewReader((&script{}).text(true)))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Grade != Fail {
		t.Fatalf("grade %s for a trace without traffic", rep.Grade)
	}
}

func TestTwoFlowsMerge(t *testing.T) {
	good := goodTransfer()
	bad := &script{}
	bad.send("start", 0).ack(0).send("end", 1).ack(1)
	for _, e := range bad.evs {
		e.Flow = 1
		good.evs = append(good.evs, e)
	}
	rep := analyze(t, good)
	if len(rep.Flows) != 2 || rep.Flows[0].Grade != Pass || rep.Flows[1].Grade != Fail || rep.Grade != Fail {
		t.Fatalf("flows %d, grades %s %s overall %s", len(rep.Flows), rep.Flows[0].Grade, rep.Flows[1].Grade, rep.Grade)
	}
	expect(t, rep, PropAckNextExpected, Fail, "flow 1: ack 0 names the seqno")
	if rep.Stats.PacketsSent != 11 || rep.Stats.EndAcked {
		t.Fatalf("merged stats %+v", rep.Stats)
	}
}

func TestBadTraceIsAnError(t *testing.T) {
	for _, in := range []string{"", "not json\n", goodTransfer().text(false) + "garbage\n{\"t\":1,\"dir\":\"fwd\",\"action\":\"x\"}\n"} {
		if _, err := Analyze(strings.NewReader(in)); err == nil {
			t.Errorf("no error for %.40q", in)
		}
	}
}

// A sender on a loaded machine answers every ack 300 ms late, and its fast
// retransmit 350 ms after the 3rd duplicate: as fast as it does anything,
// so not a missed fast retransmit (the window allows for its reaction time).
func TestSlowSenderFastRetransmitAllowsForItsReactionTime(t *testing.T) {
	s := &script{}
	s.at(0).send("start", 0).at(1).ack(1)
	s.at(301).send("data", 1).sendLost("data", 2).send("data", 3).send("data", 4).send("data", 5)
	s.at(302).ack(2).ack(2).ack(2).ack(2)
	s.at(652).send("data", 2)
	s.at(653).ack(6)
	s.at(953).send("data", 6).send("end", 7)
	s.at(954).ack(7).ack(8)
	expect(t, analyze(t, s), PropFastRetransmit, Pass, "1 of 1 runs of 3 duplicate acks answered by a retransmission within 1100 ms")
}

// The relay itself waited 300 ms for a CPU (footer sched_lag_max_us): a
// first retransmission that looks 200 ms early may be the relay's late
// clock, so it is not held against the sender.
func TestTimerAllowsForRelayLag(t *testing.T) {
	s := &script{}
	s.sendLost("start", 0).at(200).send("start", 0).at(201).ack(1).send("end", 1).ack(2)
	expect(t, analyze(t, s), PropTimer, NonStrict, "the first retransmission came 200 ms")
	s.lagUS = 300_000
	expect(t, analyze(t, s), PropTimer, Pass, "1 timer retransmissions")
}
