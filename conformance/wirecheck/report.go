package wirecheck

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
)

// Grade is the verdict on one property.
type Grade string

// Grades, from best to worst.
const (
	Pass      Grade = "pass"
	NonStrict Grade = "non-strict" // works, but breaks a SHOULD (or the course's expectation)
	Fail      Grade = "fail"
)

func (g Grade) rank() int { return slices.Index([]Grade{Pass, NonStrict, Fail}, g) }

// Worse returns the worse of two grades.
func Worse(a, b Grade) Grade {
	if b.rank() > a.rank() {
		return b
	}
	return a
}

// Violation is one observation that breaks a requirement.
type Violation struct {
	Req    string  `json:"req"`
	Flow   int     `json:"flow"`
	T      float64 `json:"t"` // ms since the trace started
	Detail string  `json:"detail"`
}

// MaxViolations is how many violations a property keeps; Count has the
// total.
const MaxViolations = 20

// Property is the verdict on one checked behaviour.
type Property struct {
	Name string `json:"name"`
	Req  string `json:"req"` // the main requirement; violations may cite others
	// Grade is Pass when the property was not exercised.
	Grade     Grade `json:"grade"`
	Exercised bool  `json:"exercised"` // the trace had a situation that tests it
	// Detail is one line a student can act on.
	Detail     string      `json:"detail"`
	Count      int         `json:"count,omitempty"` // violations in all
	Violations []Violation `json:"violations,omitempty"`
}

// Stats are the transfer's figures. Times are in ms since the trace start.
type Stats struct {
	// DurationMS runs from the first start the sender sent to the first
	// ack covering end that reached it (or to the end of the trace).
	DurationMS      float64 `json:"duration_ms"`
	PacketsSent     int     `json:"packets_sent"`     // every datagram the sender sent
	UniqueData      int     `json:"unique_data"`      // distinct seqnos among them
	Delivered       int     `json:"delivered"`        // distinct seqnos that reached the receiver intact
	Retransmissions int     `json:"retransmissions"`  // valid packets sent minus UniqueData
	TxPerDelivered  float64 `json:"tx_per_delivered"` // PacketsSent / Delivered
	MaxInFlight     int     `json:"max_in_flight"`    // highest seqno sent - last cumulative ack it had + 1
	PayloadBytes    int64   `json:"payload_bytes"`    // data bytes of the distinct seqnos delivered
	GoodputBps      float64 `json:"goodput_bytes_per_s"`
	EndAcked        bool    `json:"end_acked"` // an ack covering end reached the sender
	AcksSent        int     `json:"acks_sent"` // valid acks the receiver sent
	// What the network did (from the trace's actions).
	FwdDropped   int `json:"fwd_dropped"`
	FwdCorrupted int `json:"fwd_corrupted"`
	RevDropped   int `json:"rev_dropped"`
	RevCorrupted int `json:"rev_corrupted"`
}

// FlowReport is the analysis of one client address.
type FlowReport struct {
	Flow       int        `json:"flow"`
	Grade      Grade      `json:"grade"`
	Properties []Property `json:"properties"`
	Stats      Stats      `json:"stats"`
}

// Report is the analysis of a trace. With one flow (the usual case), the
// top-level Properties and Stats are that flow's; with several, each
// property takes the worst grade over the flows and Stats add up.
type Report struct {
	Seed     uint64 `json:"seed"`
	Scenario string `json:"scenario"`
	Mode     string `json:"mode"`
	// Complete is false when the trace has no footer: netsim did not stop
	// cleanly, and the last events may be missing.
	Complete   bool         `json:"complete"`
	Grade      Grade        `json:"grade"`
	Properties []Property   `json:"properties"`
	Stats      Stats        `json:"stats"`
	Flows      []FlowReport `json:"flows"`
	Notes      []string     `json:"notes,omitempty"`
}

// Property returns the property called name.
func (r *Report) Property(name string) (Property, bool) {
	for _, p := range r.Properties {
		if p.Name == name {
			return p, true
		}
	}
	return Property{}, false
}

// merge combines the flows into the report's top level.
func (r *Report) merge() {
	r.Grade = Pass
	if len(r.Flows) == 1 {
		r.Properties, r.Stats, r.Grade = r.Flows[0].Properties, r.Flows[0].Stats, r.Flows[0].Grade
		return
	}
	byName := map[string]int{}
	for _, f := range r.Flows {
		r.Grade = Worse(r.Grade, f.Grade)
		for _, p := range f.Properties {
			i, ok := byName[p.Name]
			if !ok {
				byName[p.Name] = len(r.Properties)
				p.Detail = fmt.Sprintf("flow %d: %s", f.Flow, p.Detail)
				r.Properties = append(r.Properties, p)
				continue
			}
			m := &r.Properties[i]
			if p.Grade.rank() > m.Grade.rank() || (!m.Exercised && p.Exercised) {
				m.Detail = fmt.Sprintf("flow %d: %s", f.Flow, p.Detail)
			}
			m.Grade = Worse(m.Grade, p.Grade)
			m.Exercised = m.Exercised || p.Exercised
			m.Count += p.Count
			m.Violations = append(m.Violations, p.Violations...)[:min(MaxViolations, len(m.Violations)+len(p.Violations))]
		}
		s := f.Stats
		t := &r.Stats
		t.DurationMS = max(t.DurationMS, s.DurationMS)
		t.PacketsSent += s.PacketsSent
		t.UniqueData += s.UniqueData
		t.Delivered += s.Delivered
		t.Retransmissions += s.Retransmissions
		t.MaxInFlight = max(t.MaxInFlight, s.MaxInFlight)
		t.PayloadBytes += s.PayloadBytes
		t.AcksSent += s.AcksSent
		t.FwdDropped += s.FwdDropped
		t.FwdCorrupted += s.FwdCorrupted
		t.RevDropped += s.RevDropped
		t.RevCorrupted += s.RevCorrupted
	}
	if len(r.Flows) > 0 {
		r.Stats.EndAcked = true
		for _, f := range r.Flows {
			r.Stats.EndAcked = r.Stats.EndAcked && f.Stats.EndAcked
		}
	}
	if r.Stats.Delivered > 0 {
		r.Stats.TxPerDelivered = float64(r.Stats.PacketsSent) / float64(r.Stats.Delivered)
	}
	if r.Stats.DurationMS > 0 {
		r.Stats.GoodputBps = float64(r.Stats.PayloadBytes) / (r.Stats.DurationMS / 1000)
	}
}

// WriteText prints the report as a table for people.
func (r *Report) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "trace: scenario %s, seed %d, %d flow(s), %s\n", r.Scenario, r.Seed, len(r.Flows),
		map[bool]string{true: "complete", false: "INCOMPLETE (no footer)"}[r.Complete])
	for _, n := range r.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "PROPERTY\tREQ\tGRADE\tDETAIL")
	for _, p := range r.Properties {
		g := string(p.Grade)
		if !p.Exercised {
			g += " (not exercised)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", p.Name, p.Req, g, p.Detail)
	}
	tw.Flush()
	for _, p := range r.Properties {
		for _, v := range p.Violations {
			fmt.Fprintf(w, "  %s %s flow %d at %.1f ms: %s\n", p.Name, v.Req, v.Flow, v.T, v.Detail)
		}
		if p.Count > len(p.Violations) {
			fmt.Fprintf(w, "  %s: %d more\n", p.Name, p.Count-len(p.Violations))
		}
	}
	s := r.Stats
	_, err := fmt.Fprintf(w, "stats: %.0f ms, %d packets sent for %d seqnos (%d delivered), %d retransmissions, %.2f transmissions per delivered packet, max %d in flight, goodput %.0f B/s, end acked: %v\n",
		s.DurationMS, s.PacketsSent, s.UniqueData, s.Delivered, s.Retransmissions, s.TxPerDelivered, s.MaxInFlight, s.GoodputBps, s.EndAcked)
	if err == nil && r.Grade != "" {
		_, err = fmt.Fprintf(w, "overall: %s\n", strings.ToUpper(string(r.Grade)))
	}
	return err
}
