package containers

import (
	"net"
	"os"
	"testing"
)

// Both probes must see a listener of this very process (its own network
// namespace) appear and disappear; the sock_diag probe must also say
// "known". A TCP port that is merely connected from, not listened on,
// must not count.
func TestPortProbesSeeAListener(t *testing.T) {
	for _, network := range []string{"tcp4", "tcp6"} {
		ln, err := net.Listen(network, map[string]string{"tcp4": "127.0.0.1:0", "tcp6": "[::1]:0"}[network])
		if err != nil {
			t.Logf("%s: %v (no such stack here)", network, err)
			continue
		}
		port := ln.Addr().(*net.TCPAddr).Port
		pid := os.Getpid()
		probes := map[string]portProbe{"proc": procProbe{proto: "tcp", port: port}}
		if d := newDiagProbe(port); d != nil {
			probes["sock_diag"] = d
		}
		for name, p := range probes {
			if bound, known := p.bound(pid); !bound || !known {
				t.Errorf("%s %s: listener on %d: bound=%v known=%v", network, name, port, bound, known)
			}
		}
		// A connection from an ephemeral port: that port is not listening.
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		local := c.LocalAddr().(*net.TCPAddr).Port
		for name, p := range map[string]portProbe{"proc": procProbe{proto: "tcp", port: local}, "sock_diag": newDiagProbe(local)} {
			if p == nil {
				continue
			}
			if bound, _ := p.bound(pid); bound {
				t.Errorf("%s %s: the client end of a connection (port %d) taken as listening", network, name, local)
			}
			p.close()
		}
		c.Close()
		ln.Close()
		for name, p := range probes {
			if bound, known := p.bound(pid); bound || !known {
				t.Errorf("%s %s: closed listener on %d: bound=%v known=%v", network, name, port, bound, known)
			}
			p.close()
		}
	}
}

func TestDiagProbeIsUsedWhenPrivileged(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("entering a network namespace needs root; the suite falls back to /proc")
	}
	p := newDiagProbe(1)
	if p == nil {
		t.Fatal("no sock_diag probe as root")
	}
	defer p.close()
	if _, known := p.bound(os.Getpid()); !known {
		t.Fatal("sock_diag probe could not read this process's namespace")
	}
	if p.(*diagProbe).fd < 0 {
		t.Fatal("the sock_diag probe fell back to /proc as root")
	}
}

// BenchmarkPortProbe compares one "is it listening yet?" question by
// /proc and by sock_diag in this process's namespace. The /proc read
// walks the machine's whole established-connection hash, so its cost
// grows with everything else the machine runs (10-15 ms per read was
// measured during a full matrix).
func BenchmarkPortProbe(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	for name, p := range map[string]portProbe{"proc": procProbe{proto: "tcp", port: port}, "sock_diag": newDiagProbe(port)} {
		if p == nil {
			continue
		}
		b.Run(name, func(b *testing.B) {
			defer p.close()
			for b.Loop() {
				if bound, _ := p.bound(os.Getpid()); !bound {
					b.Fatal("listener not seen")
				}
			}
		})
	}
}
