package containers

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Whether a server listens yet is read from the kernel's socket tables in
// the server's network namespace. /proc/<pid>/net/tcp looks like the
// obvious way, but every read of it walks the whole machine's TCP hash of
// established connections (262,144 buckets on a 24 GiB machine, shared by
// every namespace): 10-15 ms of kernel time per read on a loaded machine,
// twice (tcp, tcp6) per 25 ms poll. Ten Ginkgo processes waiting for slow
// servers (a notebook kernel, a JVM) spent most of both cores there, and
// the servers they waited for starved. The kernel's socket-diagnostics
// netlink interface (sock_diag) asked for listening sockets only walks the
// small listening hash instead (listening_linux.go); /proc stays as the
// fallback where that interface cannot be reached (a suite that is not
// root cannot enter another network namespace), polled less often.

// portProbe answers "is proto/port bound in pid's network namespace?"
// while a server starts; close releases what it holds.
type portProbe interface {
	bound(pid int) (bound, known bool)
	close()
	// interval is how long to wait between two questions.
	interval() time.Duration
}

// newPortProbe returns the cheapest probe that works on this machine.
func newPortProbe(proto string, port int) portProbe {
	if proto == "tcp" {
		if p := newDiagProbe(port); p != nil {
			return p
		}
	}
	return procProbe{proto: proto, port: port}
}

// procProbe reads /proc/<pid>/net/{tcp,tcp6} or {udp,udp6}: cheap for
// UDP, whose table is small, and the fallback for TCP.
type procProbe struct {
	proto string
	port  int
}

func (p procProbe) bound(pid int) (bound, known bool) { return portBound(pid, p.proto, p.port) }
func (procProbe) close()                              {}
func (p procProbe) interval() time.Duration {
	if p.proto == "tcp" {
		return 100 * time.Millisecond // each read costs milliseconds of kernel time (above)
	}
	return 25 * time.Millisecond
}

// portBound reads /proc/<pid>/net/{tcp,tcp6} or {udp,udp6}. known is false
// when the tables cannot be read at all.
func portBound(pid int, proto string, port int) (bound, known bool) {
	hexPort := fmt.Sprintf(":%04X", port)
	for _, table := range []string{proto, proto + "6"} {
		f, err := os.Open(procRoot + "/" + strconv.Itoa(pid) + "/net/" + table)
		if err != nil {
			continue
		}
		known = true
		sc := bufio.NewScanner(f)
		sc.Scan() // header
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 4 || !strings.HasSuffix(fields[1], hexPort) {
				continue
			}
			if proto == "udp" || fields[3] == "0A" { // 0A = TCP_LISTEN
				f.Close()
				return true, true
			}
		}
		f.Close()
	}
	return false, known
}
