package judge

import (
	"errors"
	"io"
	"os"

	"github.com/interop-suite/interop/conformance/netsim/trace"
)

// loadHelloWire fills the observation's wire bytes from the simulator's
// TCP trace (spec/trace.md "data"): what the client sent and what the
// server answered, as they crossed the network, so a message's framing
// (newline, stray bytes) is judged on the wire and not only from what the
// peer printed (HELLO-1, HELLO-3, HELLO-4). The first connection that
// carried client bytes counts; a trace without captured bytes leaves the
// fields nil and the wire unjudged.
func loadHelloWire(o *Observation) {
	if o.TracePath == "" || o.WireClientToServer != nil {
		return
	}
	f, err := os.Open(o.TracePath)
	if err != nil {
		return
	}
	defer f.Close()
	tr, err := trace.NewReader(f)
	if err != nil {
		return
	}
	type flowBytes struct{ fwd, rev []byte }
	flows := map[int]*flowBytes{}
	first := -1
	for {
		e, err := tr.Next()
		if errors.Is(err, io.EOF) || errors.Is(err, trace.ErrTruncated) {
			break // a relay stopped mid-line loses only its last event
		}
		if err != nil {
			return // a damaged trace: judge the programs' output alone
		}
		if e.Action != trace.Segment || len(e.Data) == 0 {
			continue
		}
		fb := flows[e.Flow]
		if fb == nil {
			fb = &flowBytes{}
			flows[e.Flow] = fb
		}
		if e.Dir == trace.Fwd {
			fb.fwd = append(fb.fwd, e.Data...)
			if first < 0 || e.Flow < first {
				first = e.Flow
			}
		} else {
			fb.rev = append(fb.rev, e.Data...)
		}
	}
	if first < 0 {
		return
	}
	o.WireClientToServer = flows[first].fwd
	o.WireServerToClient = flows[first].rev
	if o.WireServerToClient == nil {
		o.WireServerToClient = []byte{} // captured: the server sent nothing
	}
}
