//go:build linux

package netsim

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/ipv4"

	"github.com/interop-suite/interop/conformance/netsim/trace"
	"github.com/interop-suite/interop/reference/rudp"
)

// BenchmarkRelay runs each relay in a child process of its own, so its
// CPU time can be read apart from the harness's: netsim with its trace
// written to a file, and a plain relay (batched recvmmsg/sendmmsg, no
// decisions, no trace: the least a relay can do) as the baseline. The
// harness in this process sends with sendmmsg and receives with
// recvmmsg, keeping at most window datagrams in flight, and the two
// relays alternate in rounds, so a change in the host's load hits both.
//
// It reports, for netsim and the plain relay: datagrams per second of
// wall time through the relay (pkts/s, plain-pkts/s, and their ratio),
// and the relay process's CPU time per datagram, read from
// /proc/PID/stat (relay-cpu-us/pkt, plain-cpu-us/pkt; relay-pkts/cpu-s
// is the rate one CPU fully given to netsim would carry; cpu-ratio is
// plain-cpu-us/pkt over relay-cpu-us/pkt). harness-cpu-us/pkt is this
// process's CPU time per datagram during netsim's rounds: sender and
// sink together. On a shared host wall-clock rates vary with the load;
// CPU time per datagram does much less.
//
// NETSIM_BENCH_PROFILE=DIR makes the relay processes write CPU profiles
// there (netsim-SCENARIO.prof, plain-SCENARIO.prof).
func BenchmarkRelay(b *testing.B) {
	for _, sc := range []string{"clean", "impaired"} {
		b.Run(sc, func(b *testing.B) {
			const size, rounds = 1400, 10
			per := max(b.N/rounds, 2000)

			var cfg Config
			if sc == "impaired" {
				// Duplicates, corruption, reordering: work on every
				// datagram. No loss, which would eat the pump's credits,
				// and no delay, which would only measure the window.
				// A held datagram waits at most 1 ms for the 1-3 that
				// let it go, so the last ones of a round do not hold it
				// up by the default 200 ms.
				l := Link{Dup: 0.05, Corrupt: 0.02, Reorder: 0.05, ReorderHold: Duration(time.Millisecond)}
				cfg = Config{Mode: ModeUDP, Fwd: l, Rev: l}
			}
			cfgJSON, _ := json.Marshal(cfg)
			tracePath := filepath.Join(b.TempDir(), "trace.jsonl")

			sink := newBenchSink(b, size)
			defer sink.close()
			plain := startBenchChild(b, "plain", sc, sink.addr())
			sim := startBenchChild(b, "netsim", sc, sink.addr(), benchEnvConfig+"="+string(cfgJSON), benchEnvTrace+"="+tracePath)
			toPlain, toSim := newBenchPump(b, plain.addr, sink), newBenchPump(b, sim.addr, sink)
			defer toPlain.close()
			defer toSim.close()

			var plainWall, simWall, plainCPU, simCPU, harnessCPU time.Duration
			var plainLost, simLost int
			b.ResetTimer()
			for range rounds {
				p0 := plain.cpu(b)
				d, lost := toPlain.run(per)
				plainWall, plainCPU, plainLost = plainWall+d, plainCPU+plain.cpu(b)-p0, plainLost+lost

				h0, s0 := cpuTime(), sim.cpu(b)
				d, lost = toSim.run(per)
				simWall, simCPU, simLost = simWall+d, simCPU+sim.cpu(b)-s0, simLost+lost
				harnessCPU += cpuTime() - h0
			}
			b.StopTimer()
			plain.stop(b)
			sim.stop(b)

			n := per * rounds
			counts := traceFooter(b, tracePath)
			if in := counts["fwd_in"]; in != int64(n-simLost) {
				b.Logf("netsim traced %d of %d datagrams sent (the rest were lost in a socket buffer)", in, n)
			}
			simPPS := float64(n-simLost) / simWall.Seconds()
			plainPPS := float64(n-plainLost) / plainWall.Seconds()
			relayUS := us(simCPU) / float64(n)
			plainUS := us(plainCPU) / float64(n)
			b.ReportMetric(simPPS, "pkts/s")
			b.ReportMetric(plainPPS, "plain-pkts/s")
			b.ReportMetric(simPPS/plainPPS, "ratio")
			b.ReportMetric(relayUS, "relay-cpu-us/pkt")
			b.ReportMetric(plainUS, "plain-cpu-us/pkt")
			b.ReportMetric(1e6/relayUS, "relay-pkts/cpu-s")
			b.ReportMetric(plainUS/relayUS, "cpu-ratio")
			b.ReportMetric(us(harnessCPU)/float64(n), "harness-cpu-us/pkt")
		})
	}
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// window is how many datagrams the harness keeps in flight: several
// batches, so every stage can work on full ones, and far below what the
// 4 MB socket buffers hold.
const window = 512

// benchIDs is how many distinct datagrams the pump cycles through (seqno
// 0..benchIDs-1): the sink counts each once however many copies arrive,
// so duplicates do not pass for credit and overfill the window.
const benchIDs = 8 * window

// benchSink counts the datagrams that come out of a relay, a batch at a
// time, and tells the pump each time.
type benchSink struct {
	conn *net.UDPConn
	pkts [benchIDs][]byte      // the datagrams the pump sends
	seen [benchIDs]atomic.Bool // a copy of pkts[i] arrived; the pump clears it before it sends pkts[i] again
	got  atomic.Int64          // distinct datagrams received
	more chan struct{}
	done chan struct{}
}

func newBenchSink(b *testing.B, size int) *benchSink {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	c.SetReadBuffer(4 << 20)
	s := &benchSink{conn: c, more: make(chan struct{}, 1), done: make(chan struct{})}
	for i := range s.pkts {
		s.pkts[i] = rudp.Encode(rudp.Packet{Type: rudp.TypeData, Seq: uint64(i), Data: make([]byte, size)})
	}
	go func() {
		defer close(s.done)
		pc := ipv4.NewPacketConn(c)
		ms := make([]ipv4.Message, batchSize)
		for i := range ms {
			ms[i].Buffers = [][]byte{make([]byte, 2048)}
		}
		for {
			n, err := pc.ReadBatch(ms, 0)
			if errors.Is(err, net.ErrClosed) {
				return
			}
			if n > 0 {
				fresh := 0
				for _, m := range ms[:n] {
					// A corrupted copy counts as new: its seqno may be
					// wrong. (So does its twin if it was duplicated: a
					// 0.1 % overcount in the impaired benchmark.)
					b := m.Buffers[0][:m.N]
					if id, ok := benchID(b); !ok || !bytes.Equal(b, s.pkts[id]) || !s.seen[id].Swap(true) {
						fresh++
					}
				}
				s.got.Add(int64(fresh))
				select {
				case s.more <- struct{}{}:
				default:
				}
			}
		}
	}()
	return s
}

// benchID reads the seqno of "data|SEQ|...".
func benchID(b []byte) (int, bool) {
	const prefix = "data|"
	if !bytes.HasPrefix(b, []byte(prefix)) {
		return 0, false
	}
	id, n := 0, 0
	for _, c := range b[len(prefix):] {
		if c < '0' || c > '9' || n > 6 {
			break
		}
		id, n = id*10+int(c-'0'), n+1
	}
	return id, n > 0 && id < benchIDs
}

func (s *benchSink) addr() string { return s.conn.LocalAddr().String() }

func (s *benchSink) close() {
	s.conn.Close()
	<-s.done
}

// benchPump sends the sink's datagrams to a relay, a batch at a time.
type benchPump struct {
	conn *net.UDPConn
	pc   *ipv4.PacketConn
	ms   []ipv4.Message
	sink *benchSink
	next int // the id to send next
}

func newBenchPump(b *testing.B, addr string, sink *benchSink) *benchPump {
	a, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		b.Fatal(err)
	}
	c, err := net.DialUDP("udp", nil, a)
	if err != nil {
		b.Fatal(err)
	}
	c.SetWriteBuffer(4 << 20)
	p := &benchPump{conn: c, pc: ipv4.NewPacketConn(c), ms: make([]ipv4.Message, batchSize), sink: sink}
	for i := range p.ms {
		p.ms[i].Buffers = [][]byte{nil}
	}
	return p
}

func (p *benchPump) close() { p.conn.Close() }

// run sends n datagrams and waits until the sink has received them,
// keeping at most window in flight. When nothing arrives for 200 ms, what
// is in flight is given up as lost, so a loss cannot stall the run. It
// returns the time taken and how many never arrived.
func (p *benchPump) run(n int) (time.Duration, int) {
	s := p.sink
	g0 := s.got.Load()
	received := func() int { return int(s.got.Load() - g0) }
	timeout := time.NewTimer(time.Hour)
	defer timeout.Stop()
	sent, given := 0, 0 // given up as lost
	start := time.Now()
	for sent < n {
		inflight := sent - given - received()
		if free := window - inflight; free > 0 {
			ms := p.ms[:min(free, batchSize, n-sent)]
			for i := range ms {
				id := (p.next + i) % benchIDs
				s.seen[id].Store(false)
				ms[i].Buffers[0] = s.pkts[id]
			}
			k, err := p.pc.WriteBatch(ms, 0)
			if k <= 0 && err != nil { // not on loopback; count it lost
				k, given = 1, given+1
			}
			sent += k
			p.next = (p.next + k) % benchIDs
			continue
		}
		timeout.Reset(200 * time.Millisecond)
		select {
		case <-s.more:
		case <-timeout.C:
			given += inflight
		}
	}
	for deadline := time.Now().Add(2 * time.Second); received() < n && time.Now().Before(deadline); {
		timeout.Reset(time.Millisecond)
		select {
		case <-s.more:
		case <-timeout.C:
		}
	}
	return time.Since(start), max(0, n-received())
}

// The relay processes: this test binary run again, with the mode in the
// environment (see TestMain).
const (
	benchEnvChild    = "NETSIM_BENCH_CHILD"    // "netsim" or "plain"
	benchEnvUpstream = "NETSIM_BENCH_UPSTREAM" // where the relay sends
	benchEnvConfig   = "NETSIM_BENCH_CONFIG"   // netsim's Config, JSON
	benchEnvTrace    = "NETSIM_BENCH_TRACE"    // netsim's trace file
	benchEnvProfile  = "NETSIM_BENCH_PROFILE"  // a CPU profile to write, if set
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(benchEnvChild); mode != "" {
		if err := benchChild(mode); err != nil {
			fmt.Fprintf(os.Stderr, "bench %s relay: %v\n", mode, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// benchChild runs a relay until its stdin closes, printing its address
// first. netsim runs as the netsim command runs it: Listen, Run, the
// trace in a file, synced at the end.
func benchChild(mode string) error {
	if path := os.Getenv(benchEnvProfile); path != "" {
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		defer f.Close()
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	upstream := os.Getenv(benchEnvUpstream)
	if mode == "plain" {
		return plainRelay(ctx, upstream)
	}
	var cfg Config
	if err := json.Unmarshal([]byte(os.Getenv(benchEnvConfig)), &cfg); err != nil {
		return err
	}
	f, err := os.Create(os.Getenv(benchEnvTrace))
	if err != nil {
		return err
	}
	r, err := Listen(Options{Listen: "127.0.0.1:0", Upstream: upstream, Scenario: "bench", Config: cfg, Seed: 1, Trace: f})
	if err != nil {
		return err
	}
	fmt.Println(r.Addr())
	return errors.Join(r.Run(ctx), f.Sync(), f.Close())
}

// plainRelay is the baseline: the least a UDP relay can do, one client,
// no decisions, no trace, a batch of datagrams per system call both ways
// (the same batches and buffers as netsim's).
func plainRelay(ctx context.Context, upstream string) error {
	ln, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return err
	}
	ua, err := net.ResolveUDPAddr("udp", upstream)
	if err != nil {
		return err
	}
	up, err := net.DialUDP("udp", nil, ua)
	if err != nil {
		return err
	}
	for _, c := range []*net.UDPConn{ln, up} {
		c.SetReadBuffer(4 << 20)
		c.SetWriteBuffer(4 << 20)
	}
	fmt.Println(ln.LocalAddr())
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	rx, tx := ipv4.NewPacketConn(ln), ipv4.NewPacketConn(up)
	in, out := make([]ipv4.Message, batchSize), make([]ipv4.Message, batchSize)
	slots := make([]byte, batchSize*slotSize)
	for i := range in {
		in[i].Buffers = [][]byte{slots[i*slotSize : (i+1)*slotSize]}
		out[i].Buffers = [][]byte{nil}
	}
	for {
		n, err := rx.ReadBatch(in, 0)
		if errors.Is(err, net.ErrClosed) {
			return nil
		}
		for i := range n {
			out[i].Buffers[0] = in[i].Buffers[0][:in[i].N]
		}
		for sent := 0; sent < n; {
			k, _ := tx.WriteBatch(out[sent:n], 0)
			sent += max(k, 1)
		}
	}
}

type benchChildProc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	addr  string
	stat  string
}

func startBenchChild(b *testing.B, mode, scenario, upstream string, env ...string) *benchChildProc {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), benchEnvChild+"="+mode, benchEnvUpstream+"="+upstream)
	cmd.Env = append(cmd.Env, env...)
	if dir := os.Getenv(benchEnvProfile); dir != "" {
		cmd.Env = append(cmd.Env, benchEnvProfile+"="+filepath.Join(dir, mode+"-"+scenario+".prof"))
	} else {
		cmd.Env = append(cmd.Env, benchEnvProfile+"=")
	}
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	p := &benchChildProc{cmd: cmd, stdin: stdin, stat: fmt.Sprintf("/proc/%d/stat", cmd.Process.Pid)}
	b.Cleanup(func() { p.stop(b) })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		b.Fatalf("%s relay did not start: %v", mode, err)
	}
	p.addr = strings.TrimSpace(line)
	return p
}

// cpu is the process's CPU time so far (user and system, all threads),
// from /proc/PID/stat: fields 14 and 15, in clock ticks of 1/100 s
// (USER_HZ, 100 on every architecture Go runs Linux on). A tick is 10 ms,
// so the benchmark sums many rounds before dividing.
func (p *benchChildProc) cpu(b *testing.B) time.Duration {
	raw, err := os.ReadFile(p.stat)
	if err != nil {
		b.Fatal(err)
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	f := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+1:]))
	utime, err1 := strconv.ParseInt(f[14-3], 10, 64)
	stime, err2 := strconv.ParseInt(f[15-3], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		b.Fatalf("%s: %v", p.stat, err)
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

func (p *benchChildProc) stop(b *testing.B) {
	if p.stdin == nil {
		return
	}
	p.stdin.Close()
	p.stdin = nil
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			b.Errorf("relay process: %v", err)
		}
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		b.Errorf("relay process did not stop within 10 s")
	}
}

// traceFooter reads the counts from the last line of a trace.
func traceFooter(b *testing.B, path string) map[string]int64 {
	raw, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	raw = bytes.TrimRight(raw, "\n")
	var f trace.Footer
	if err := json.Unmarshal(raw[bytes.LastIndexByte(raw, '\n')+1:], &f); err != nil || f.Kind != "footer" {
		b.Fatalf("trace has no footer (%v)", err)
	}
	return f.Counts
}
