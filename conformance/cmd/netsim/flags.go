package main

import (
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/interop-suite/interop/conformance/netsim"
)

// A per-direction flag value is either one value for both directions
// ("0.1") or a comma-separated list of fwd=/rev= settings ("fwd=0.1",
// "fwd=0.1,rev=0.05"); a direction not named keeps the scenario's value.

// dirFlag applies one impairment flag to a config.
type dirFlag struct {
	name, usage string
	set         func(l *netsim.Link, v string) error
}

func splitDirs(value string) (map[netsim.Dir]string, error) {
	if !strings.Contains(value, "=") {
		return map[netsim.Dir]string{netsim.Fwd: value, netsim.Rev: value}, nil
	}
	out := map[netsim.Dir]string{}
	for part := range strings.SplitSeq(value, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return nil, fmt.Errorf("%q: want VALUE, or fwd=VALUE and/or rev=VALUE", value)
		}
		switch k {
		case "fwd":
			out[netsim.Fwd] = v
		case "rev":
			out[netsim.Rev] = v
		default:
			return nil, fmt.Errorf("%q: direction %q is not fwd or rev", value, k)
		}
	}
	return out, nil
}

func applyDirFlag(cfg *netsim.Config, f dirFlag, value string) error {
	vals, err := splitDirs(value)
	if err != nil {
		return fmt.Errorf("-%s %w", f.name, err)
	}
	for _, d := range []netsim.Dir{netsim.Fwd, netsim.Rev} {
		if v, ok := vals[d]; ok {
			if err := f.set(cfg.Link(d), v); err != nil {
				return fmt.Errorf("-%s %s: %w", f.name, d, err)
			}
		}
	}
	return nil
}

func parseProb(s string) (float64, error) {
	pct := strings.HasSuffix(s, "%")
	v, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a probability (0.1 or 10%%)", s)
	}
	if pct {
		v /= 100
	}
	if v < 0 || v > 1 {
		return 0, fmt.Errorf("%q is not in [0, 1]", s)
	}
	return v, nil
}

func parseDur(s string) (netsim.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not a duration like 50ms", s)
	}
	return netsim.Duration(d), nil
}

// parseRate reads bytes per second with an optional k or M (×1000).
func parseRate(s string) (int64, error) {
	mult := 1.0
	switch {
	case strings.HasSuffix(s, "k"), strings.HasSuffix(s, "K"):
		mult, s = 1e3, s[:len(s)-1]
	case strings.HasSuffix(s, "M"):
		mult, s = 1e6, s[:len(s)-1]
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("%q is not a rate in bytes/s like 100k", s)
	}
	return int64(v * mult), nil
}

func probFlag(name, usage string, field func(*netsim.Link) *float64) dirFlag {
	return dirFlag{name, usage, func(l *netsim.Link, v string) error {
		p, err := parseProb(v)
		*field(l) = p
		return err
	}}
}

func durFlag(name, usage string, field func(*netsim.Link) *netsim.Duration) dirFlag {
	return dirFlag{name, usage, func(l *netsim.Link, v string) error {
		d, err := parseDur(v)
		*field(l) = d
		return err
	}}
}

// dirFlags are the impairment flags, in the order -h lists them.
var dirFlags = []dirFlag{
	probFlag("loss", "probability a datagram is lost, e.g. 0.1 or 10%", func(l *netsim.Link) *float64 { return &l.Loss }),
	{"burst", "Gilbert-Elliott bursty loss P/R[/LOSSBAD]: enter a burst with P, leave with R (mean burst 1/R), e.g. 0.05/0.3", setBurst},
	probFlag("dup", "probability a datagram is sent twice", func(l *netsim.Link) *float64 { return &l.Dup }),
	probFlag("reorder", "probability a datagram is held back behind 1-3 later ones", func(l *netsim.Link) *float64 { return &l.Reorder }),
	probFlag("corrupt", "probability a datagram has 1-3 bits flipped (header, data or checksum)", func(l *netsim.Link) *float64 { return &l.Corrupt }),
	{"corrupt-parts", "where to flip bits: any of header+data+checksum, joined by +", func(l *netsim.Link, v string) error {
		l.CorruptParts = strings.Split(v, "+")
		return nil
	}},
	durFlag("delay", "delay of every datagram (TCP: of every chunk), e.g. 50ms", func(l *netsim.Link) *netsim.Duration { return &l.Delay }),
	durFlag("jitter", "delay varies uniformly by ± this much", func(l *netsim.Link) *netsim.Duration { return &l.Jitter }),
	{"rate", "link rate in bytes/s (k, M suffixes); 0 for none", func(l *netsim.Link, v string) error {
		r, err := parseRate(v)
		l.Rate = r
		return err
	}},
	{"queue", "datagrams that may wait for the rate limit; more are dropped", func(l *netsim.Link, v string) error {
		n, err := strconv.Atoi(v)
		l.Queue = n
		return err
	}},
	{"blackout", "100% loss for FOR, from AT after the first datagram or from the N-th fwd datagram, repeating every EVERY if given: 2s+1s, 2s+1s/10s, 20pkt+3s", setBlackout},
	{"seg", "TCP: cut the stream into chunks of MIN-MAX bytes, e.g. 1-3", setSeg},
	durFlag("close-delay", "TCP: pass a half-close on this much later", func(l *netsim.Link) *netsim.Duration { return &l.CloseDelay }),
}

func setBurst(l *netsim.Link, v string) error {
	parts := strings.Split(v, "/")
	if len(parts) < 2 || len(parts) > 3 {
		return fmt.Errorf("%q: want P/R or P/R/LOSSBAD", v)
	}
	g := netsim.GilbertElliott{LossBad: 1}
	for i, dst := range []*float64{&g.P, &g.R, &g.LossBad}[:len(parts)] {
		p, err := parseProb(parts[i])
		if err != nil {
			return err
		}
		*dst = p
	}
	l.Burst = &g
	if g.P == 0 {
		l.Burst = nil
	}
	return nil
}

func setBlackout(l *netsim.Link, v string) error {
	if v == "" || v == "none" {
		l.Blackouts = nil
		return nil
	}
	at, rest, ok := strings.Cut(v, "+")
	if !ok {
		return fmt.Errorf("%q: want AT+FOR or AT+FOR/EVERY", v)
	}
	dur, every, repeat := strings.Cut(rest, "/")
	var b netsim.Blackout
	var err error
	if n, ok := strings.CutSuffix(at, "pkt"); ok {
		if b.After, err = strconv.Atoi(n); err != nil || b.After < 1 {
			return fmt.Errorf("%q: want NUMBERpkt, e.g. 20pkt", at)
		}
	} else if b.At, err = parseDur(at); err != nil {
		return err
	}
	if b.For, err = parseDur(dur); err != nil {
		return err
	}
	if repeat {
		if b.Every, err = parseDur(every); err != nil {
			return err
		}
	}
	l.Blackouts = []netsim.Blackout{b}
	return nil
}

func setSeg(l *netsim.Link, v string) error {
	lo, hi, ok := strings.Cut(v, "-")
	if !ok {
		hi = lo
	}
	a, err1 := strconv.Atoi(lo)
	b, err2 := strconv.Atoi(hi)
	if err := errors.Join(err1, err2); err != nil {
		return fmt.Errorf("%q: want MIN-MAX bytes", v)
	}
	l.SegMin, l.SegMax = a, b
	return nil
}

// parseRules reads -drop: start, end, ack, every-ack=N, seq=N, each
// optionally *COUNT (start*2: the first two starts).
func parseRules(v string) ([]netsim.Rule, error) {
	if v == "" || v == "none" {
		return nil, nil
	}
	var rules []netsim.Rule
	for part := range strings.SplitSeq(v, ",") {
		part = strings.TrimSpace(part)
		var r netsim.Rule
		if head, count, ok := strings.Cut(part, "*"); ok {
			n, err := strconv.Atoi(count)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("-drop %q: count %q is not a positive number", part, count)
			}
			part, r.Count = head, n
		}
		kind, arg, hasArg := strings.Cut(part, "=")
		r.Drop = kind
		switch kind {
		case "start", "end", "ack":
			if hasArg {
				return nil, fmt.Errorf("-drop %q: %s takes no =value", part, kind)
			}
		case "every-ack":
			n, err := strconv.Atoi(arg)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("-drop %q: want every-ack=N, N >= 1", part)
			}
			r.N = n
		case "seq":
			n, err := strconv.ParseUint(arg, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("-drop %q: want seq=SEQNO", part)
			}
			r.Seq = n
		default:
			return nil, fmt.Errorf("-drop %q: want start, end, ack, every-ack=N or seq=N", part)
		}
		rules = append(rules, r)
	}
	return rules, nil
}

// parseSeed accepts any 64-bit value, signed or not, so a seed printed by
// either kind of caller can be passed back.
func parseSeed(s string) (uint64, error) {
	if u, err := strconv.ParseUint(s, 10, 64); err == nil {
		return u, nil
	}
	i, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("-seed %q is not a 64-bit integer", s)
	}
	return uint64(i), nil
}

// overrides applies the impairment flags the user set to cfg. Each flag
// sets fields of its own, so the order does not matter.
func overrides(fs *flag.FlagSet, values map[string]*string, drop *string, cfg *netsim.Config) error {
	var errs []error
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "drop" {
			rules, err := parseRules(*drop)
			errs = append(errs, err)
			cfg.Rules = rules
			return
		}
		for _, df := range dirFlags {
			if df.name == f.Name {
				errs = append(errs, applyDirFlag(cfg, df, *values[f.Name]))
			}
		}
	})
	return errors.Join(errs...)
}
