package wirecheck

import (
	"bytes"
	"testing"
)

// FuzzAnalyze: whatever the trace says, the analyser returns a report or
// an error, never panics, and grades every property.
func FuzzAnalyze(f *testing.F) {
	f.Add([]byte(goodTransfer().text(true)))
	s := &script{}
	s.send("start", 0).sack(1, 3, 2).sendCorrupt("data", 1).ack(5).send("end", 9).ack(0).sendLost("data", 2)
	f.Add([]byte(s.text(false)))
	f.Fuzz(func(t *testing.T, in []byte) {
		rep, err := Analyze(bytes.NewReader(in))
		if err != nil {
			return
		}
		for _, fl := range rep.Flows {
			if len(fl.Properties) != len(propReqs) {
				t.Fatalf("flow %d has %d properties", fl.Flow, len(fl.Properties))
			}
			for _, p := range fl.Properties {
				if p.Grade != Pass && p.Grade != NonStrict && p.Grade != Fail {
					t.Fatalf("grade %q", p.Grade)
				}
				if p.Grade != Pass && p.Count == 0 {
					t.Fatalf("%s graded %s without a violation", p.Name, p.Grade)
				}
			}
		}
	})
}
