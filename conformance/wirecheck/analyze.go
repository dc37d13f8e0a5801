// Package wirecheck turns a netsim trace (spec/trace.md) into protocol
// facts about an RUDP transfer and grades them against the requirements in
// spec/rudp.md: what the sender sent and when, what the receiver acked,
// and whether each follows the protocol.
//
// The checker sees the wire from the middle. Arrival events are what a
// peer sent; "forwarded" and "release" events are what the other peer
// received, and when. So the sender's knowledge at any moment is the acks
// released to it so far, and the receiver's the data released to it; a
// reaction is judged against what the peer could know. Where the peer's
// own delay could blur that (an ack released a moment before the sender
// sent something), the checker allows Grace.
package wirecheck

import (
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/interop-suite/interop/conformance/netsim/trace"
)

// Thresholds, documented in spec/trace.md.
const (
	// Grace is how long after an ack reached the sender it is held to
	// know it by time alone. It is long because peers share a loaded
	// machine: a sender stalled for 100 ms, then acting on acks it had
	// not yet read, is not at fault. Shorter reactions are judged by
	// what the sender's own later packets prove it knew (see flow.proven).
	Grace = 1000.0 // ms
	// FastWindow is how soon after the 3rd duplicate ack a packet sent
	// only once must be resent to count as a fast retransmit (well under
	// the 500 ms timer).
	FastWindow = 200.0 // ms
	// InitialRTO is the least wait before a retransmission while no ack
	// has reached the sender yet: the timer starts at 500 ms (RUDP-41),
	// less a margin for measuring it from the middle.
	InitialRTO = 450.0 // ms
	// BurstGap separates retransmission bursts: a Go-Back-N timeout
	// resends the window at once, and only the first of the burst
	// measures the timer.
	BurstGap = 20.0 // ms
	// LostWait is how long the trace must go on after a packet's only
	// transmissions were all lost for "never retransmitted" to count.
	LostWait = 2000.0 // ms
	// FullDatagram is the size a data datagram must reach to pass
	// payload-size: 1472 less room for a long seqno and checksum.
	FullDatagram = 1400
	// minRTTSamples is how many round-trip samples it takes to judge a
	// timer against the RTT.
	minRTTSamples = 5
	// Window is the sender's window and the receiver's buffer (RUDP-12,
	// RUDP-40).
	Window = 5
)

// Analyze reads a trace and checks it. A trace cut short (no footer, or a
// last line half written) is analysed as far as it goes, with
// Report.Complete false; any other unreadable line is an error.
func Analyze(r io.Reader) (Report, error) {
	tr, err := trace.NewReader(r)
	if err != nil {
		return Report{}, err
	}
	rep := Report{Seed: tr.Header.Seed, Scenario: tr.Header.Scenario, Mode: tr.Header.Mode}
	flows := map[int][]trace.Event{}
	var order []int
	var end float64
	for {
		e, err := tr.Next()
		if err == io.EOF {
			break
		}
		if errors.Is(err, trace.ErrTruncated) {
			rep.Notes = append(rep.Notes, "the last line of the trace was cut short")
			break
		}
		if err != nil {
			return Report{}, err
		}
		end = max(end, e.T)
		if e.Flow < 0 {
			continue // refused by the relay: no flow to judge
		}
		if _, ok := flows[e.Flow]; !ok {
			order = append(order, e.Flow)
		}
		flows[e.Flow] = append(flows[e.Flow], e)
	}
	rep.Complete = tr.Footer != nil && len(rep.Notes) == 0
	var lag float64 // ms the relay itself was late at worst (its clock readings are late by as much)
	if tr.Footer != nil {
		end = max(end, tr.Footer.T)
		lag = float64(tr.Footer.Counts["sched_lag_max_us"]) / 1000
	}
	if !rep.Complete {
		rep.Notes = append(rep.Notes, "the trace has no footer: netsim did not stop cleanly, so the last moments may be missing")
	}
	if rep.Mode == "tcp" {
		rep.Notes = append(rep.Notes, "TCP trace: the RUDP checks do not apply")
		rep.Grade = Pass
		return rep, nil
	}
	slices.Sort(order)
	for _, id := range order {
		evs := flows[id]
		// The relay writes in time order; a hand-made trace may not.
		slices.SortStableFunc(evs, func(a, b trace.Event) int {
			switch {
			case a.T < b.T:
				return -1
			case a.T > b.T:
				return 1
			}
			return 0
		})
		f := newFlow(id, end)
		f.lag = lag
		for i := range evs {
			f.observe(&evs[i])
		}
		rep.Flows = append(rep.Flows, f.report())
	}
	if len(rep.Flows) == 0 {
		rep.Notes = append(rep.Notes, "no datagrams in the trace: the sender never sent anything through netsim")
		rep.Grade = Fail
		rep.Properties = []Property{{Name: "transfer-complete", Req: "RUDP-14", Grade: Fail, Exercised: true,
			Detail: "no datagram from the sender reached netsim"}}
		return rep, nil
	}
	rep.merge()
	return rep, nil
}

// arrival reports whether e is the event of a datagram reaching netsim
// (what a peer sent), as opposed to one leaving it.
func arrival(e *trace.Event) bool {
	switch e.Action {
	case trace.Forwarded, trace.Dropped, trace.Duplicated, trace.Corrupted, trace.Reordered, trace.Delayed:
		return true
	}
	return false
}

// delivery reports whether e is a datagram leaving netsim towards a peer.
func delivery(e *trace.Event) bool { return e.Action == trace.Forwarded || e.Action == trace.Release }

func seqs(s []uint64) string {
	if len(s) > 8 {
		return fmt.Sprint(s[:8]) + "…"
	}
	return fmt.Sprint(s)
}
