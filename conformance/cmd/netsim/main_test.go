package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/interop-suite/interop/conformance/netsim"
	"github.com/interop-suite/interop/conformance/netsim/trace"
	"github.com/interop-suite/interop/reference/rudp"
)

// TestMain lets the tests run this binary as netsim itself.
func TestMain(m *testing.M) {
	if os.Getenv("NETSIM_TEST_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

func configFrom(t *testing.T, args ...string) (netsim.Config, error) {
	t.Helper()
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	values := map[string]*string{}
	for _, f := range dirFlags {
		values[f.name] = fs.String(f.name, "", "")
	}
	drop := fs.String("drop", "", "")
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	sc, _ := netsim.Lookup("loss-10")
	cfg := sc.Config
	err := overrides(fs, values, drop, &cfg)
	return cfg, err
}

func TestPerDirectionFlags(t *testing.T) {
	cfg, err := configFrom(t, "-loss", "rev=0.3", "-dup", "5%", "-delay", "fwd=20ms,rev=5ms", "-burst", "0.05/0.3",
		"-blackout", "fwd=20pkt+3s/10s", "-rate", "fwd=1.5M", "-queue", "fwd=8", "-corrupt", "0.1", "-corrupt-parts", "data+checksum",
		"-drop", "start,end*2,every-ack=4,seq=7")
	if err != nil {
		t.Fatal(err)
	}
	f, r := cfg.Fwd, cfg.Rev
	switch {
	case f.Loss != 0.1 || r.Loss != 0.3: // fwd keeps the scenario's
		t.Errorf("loss %v %v", f.Loss, r.Loss)
	case f.Dup != 0.05 || r.Dup != 0.05:
		t.Errorf("dup %v %v", f.Dup, r.Dup)
	case f.Delay.D() != 20*time.Millisecond || r.Delay.D() != 5*time.Millisecond:
		t.Errorf("delay %v %v", f.Delay, r.Delay)
	case f.Burst == nil || f.Burst.P != 0.05 || f.Burst.R != 0.3 || f.Burst.LossBad != 1 || r.Burst == nil:
		t.Errorf("burst %+v", f.Burst)
	case len(f.Blackouts) != 1 || f.Blackouts[0].After != 20 || f.Blackouts[0].For.D() != 3*time.Second || f.Blackouts[0].Every.D() != 10*time.Second || len(r.Blackouts) != 0:
		t.Errorf("blackouts %+v %+v", f.Blackouts, r.Blackouts)
	case f.Rate != 1_500_000 || r.Rate != 0 || f.Queue != 8:
		t.Errorf("rate %v %v queue %d", f.Rate, r.Rate, f.Queue)
	case len(f.CorruptParts) != 2 || f.CorruptParts[1] != "checksum":
		t.Errorf("parts %v", f.CorruptParts)
	}
	want := []netsim.Rule{{Drop: "start"}, {Drop: "end", Count: 2}, {Drop: "every-ack", N: 4}, {Drop: "seq", Seq: 7}}
	if got, _ := json.Marshal(cfg.Rules); string(got) != string(must(json.Marshal(want))) {
		t.Errorf("rules %s", got)
	}
	cfg.Normalize()
	if err := cfg.Validate(); err != nil {
		t.Errorf("valid flags gave an invalid config: %v", err)
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

func TestBadFlagValues(t *testing.T) {
	for _, args := range [][]string{
		{"-loss", "1.5"}, {"-loss", "x"}, {"-loss", "up=0.1"}, {"-loss", "fwd"},
		{"-delay", "-5ms"}, {"-delay", "5"}, {"-burst", "0.1"}, {"-blackout", "2s"}, {"-blackout", "xpkt+1s"},
		{"-rate", "fast"}, {"-seg", "a-b"}, {"-drop", "middle"}, {"-drop", "every-ack=0"}, {"-drop", "seq=x"}, {"-drop", "start*0"},
	} {
		if _, err := configFrom(t, args...); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}

func TestParseSeed(t *testing.T) {
	for in, want := range map[string]uint64{"0": 0, "42": 42, "18446744073709551615": 1<<64 - 1, "-1": 1<<64 - 1} {
		if got, err := parseSeed(in); err != nil || got != want {
			t.Errorf("%s: %d, %v", in, got, err)
		}
	}
	if _, err := parseSeed("1e3"); err == nil {
		t.Error("accepted 1e3")
	}
}

func runCmd(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return out.String(), errb.String(), code
}

func TestListAndUsage(t *testing.T) {
	out, _, code := runCmd(t, "-list")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, s := range netsim.Scenarios() {
		if !strings.Contains(out, s.Name) || !strings.Contains(out, s.Description) {
			t.Errorf("-list lacks %s", s.Name)
		}
	}
	_, errOut, code := runCmd(t, "-h")
	if code != 0 || !strings.Contains(errOut, "fwd=0.1,rev=0.05") || !strings.Contains(errOut, "-upstream") {
		t.Errorf("-h: exit %d\n%s", code, errOut)
	}
	for _, args := range [][]string{{}, {"-upstream", "x:1", "-scenario", "nope"}, {"-upstream", "x:1", "-tcp", "-scenario", "loss-10"},
		{"-upstream", "x:1", "extra"}, {"-upstream", "x:1", "-loss", "2"}, {"analyze"}, {"selfcheck"}} {
		if _, _, code := runCmd(t, args...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
		}
	}
}

func TestAnalyzeExitCodes(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, evs ...trace.Event) string {
		var buf bytes.Buffer
		w, _ := trace.NewWriter(&buf, trace.Header{Mode: "udp", Scenario: "x"})
		for i := range evs {
			w.Event(&evs[i])
		}
		w.Close(trace.Footer{T: 10})
		p := filepath.Join(dir, name)
		os.WriteFile(p, buf.Bytes(), 0o644)
		return p
	}
	ev := func(t float64, dir, typ string, seq uint64) trace.Event {
		return trace.Event{T: t, Dir: dir, Action: trace.Forwarded, Type: typ, Seq: seq, HasSeq: true, CsumOK: true, HasCsum: true, Size: 20}
	}
	good := write("good.jsonl", ev(0, "fwd", "start", 0), ev(1, "rev", "ack", 1), ev(2, "fwd", "end", 1), ev(3, "rev", "ack", 2))
	bad := write("bad.jsonl", ev(0, "fwd", "start", 0), ev(1, "rev", "ack", 0))
	if out, _, code := runCmd(t, "analyze", good); code != 0 || !strings.Contains(out, "overall: PASS") {
		t.Errorf("good: exit %d\n%s", code, out)
	}
	if out, _, code := runCmd(t, "analyze", bad); code != exitFail || !strings.Contains(out, "ack 0 names the seqno just received") {
		t.Errorf("bad: exit %d\n%s", code, out)
	}
	out, _, code := runCmd(t, "analyze", "-json", bad)
	var rep struct{ Grade string }
	if code != exitFail || json.Unmarshal([]byte(out), &rep) != nil || rep.Grade != "fail" {
		t.Errorf("-json: exit %d, %q", code, out)
	}
	if _, _, code := runCmd(t, "analyze", filepath.Join(dir, "missing")); code != exitUsage {
		t.Errorf("missing file: exit %d", code)
	}
}

// The suite's contract: netsim runs as a process, relays, and on SIGTERM
// completes the trace and exits 0.
func TestProcessSIGTERMCompletesTrace(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	up, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer up.Close()
	go func() { // an upstream that acks
		buf := make([]byte, 2000)
		for {
			n, from, err := up.ReadFromUDP(buf)
			if err != nil {
				return
			}
			if p, err := rudp.Parse(buf[:n]); err == nil {
				up.WriteToUDP(rudp.Encode(rudp.Packet{Type: rudp.TypeAck, Seq: p.Seq + 1}), from)
			}
		}
	}()
	tracePath := filepath.Join(t.TempDir(), "trace.jsonl")
	// A name, not an address: the upstream is resolved like a container's.
	upstream := "localhost:" + strings.Split(up.LocalAddr().String(), ":")[1]
	cmd := exec.Command(os.Args[0], "-listen", "127.0.0.1:0", "-upstream", upstream, "-scenario", "duplicate",
		"-seed", "99", "-trace", tracePath, "-v")
	cmd.Env = append(os.Environ(), "NETSIM_TEST_MAIN=1")
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	sc := bufio.NewScanner(stderr)
	addrRE := regexp.MustCompile(`seed 99, scenario duplicate \(udp\), listening on (\S+),`)
	var addr string
	for addr == "" && sc.Scan() {
		if m := addrRE.FindStringSubmatch(sc.Text()); m != nil {
			addr = m[1]
		}
	}
	if addr == "" {
		t.Fatal("netsim did not say where it listens")
	}
	go io.Copy(io.Discard, stderr)

	a, _ := net.ResolveUDPAddr("udp", addr)
	c, err := net.DialUDP("udp", nil, a)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 2000)
	for i := range 20 {
		c.Write(rudp.Encode(rudp.Packet{Type: rudp.TypeData, Seq: uint64(i), Data: []byte("x")}))
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for range 20 { // at least one ack per datagram (duplicates may add more)
		if _, err := c.Read(buf); err != nil {
			t.Fatalf("ack: %v", err)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("netsim exited with %v after SIGTERM, want 0", err)
	}
	f, err := os.Open(tracePath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr, err := trace.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	fwd := 0
	for {
		e, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if e.Dir == trace.Fwd && e.Action != trace.Release {
			fwd++
		}
	}
	if tr.Footer == nil || tr.Header.Seed != 99 || tr.Header.Scenario != "duplicate" || fwd != 20 {
		t.Fatalf("footer %v, header %+v, %d fwd arrivals", tr.Footer, tr.Header, fwd)
	}
}
