package containers

import (
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// diagProbe asks the kernel over NETLINK_SOCK_DIAG (linux/inet_diag.h)
// for the TCP sockets in state LISTEN of a network namespace, and looks
// for the port among them. A netlink socket belongs to the namespace it
// was created in, so it is made on a thread moved into the server's
// namespace with setns (CAP_SYS_ADMIN), one per pid.
type diagProbe struct {
	port int
	pid  int // the namespace fd is in (0: none yet)
	fd   int
}

// diagUnusable is set once entering a namespace failed for want of
// privilege: every later probe goes straight to /proc.
var diagUnusable atomic.Bool

func newDiagProbe(port int) portProbe {
	if diagUnusable.Load() {
		return nil
	}
	return &diagProbe{port: port, fd: -1}
}

func (p *diagProbe) interval() time.Duration { return 25 * time.Millisecond }

func (p *diagProbe) close() {
	if p.fd >= 0 {
		unix.Close(p.fd)
		p.fd, p.pid = -1, 0
	}
}

func (p *diagProbe) bound(pid int) (bound, known bool) {
	if pid <= 0 {
		return false, false
	}
	if p.pid != pid {
		p.close()
		fd, err := netlinkInNamespaceOf(pid)
		if err != nil {
			if errors.Is(err, unix.EPERM) {
				diagUnusable.Store(true)
			}
			return portBound(pid, "tcp", p.port) // this once: /proc
		}
		p.fd, p.pid = fd, pid
	}
	bound, err := diagListening(p.fd, p.port)
	if err != nil {
		p.close()
		return portBound(pid, "tcp", p.port)
	}
	return bound, true
}

// netlinkInNamespaceOf creates a sock_diag netlink socket in the network
// namespace of pid. The thread that enters the namespace stays locked and
// exits with its goroutine, so no other goroutine ever runs in it.
func netlinkInNamespaceOf(pid int) (int, error) {
	type result struct {
		fd  int
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		ns, err := unix.Open(procRoot+"/"+strconv.Itoa(pid)+"/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			ch <- result{-1, fmt.Errorf("open network namespace of %d: %w", pid, err)}
			return
		}
		defer unix.Close(ns)
		if err := unix.Setns(ns, unix.CLONE_NEWNET); err != nil {
			ch <- result{-1, fmt.Errorf("enter network namespace of %d: %w", pid, err)}
			return
		}
		fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
		ch <- result{fd, err}
	}()
	r := <-ch
	return r.fd, r.err
}

// linux/inet_diag.h and linux/netlink.h, as laid out on the wire.
const (
	nlmsgHdrLen    = 16
	inetDiagReqLen = 56 // struct inet_diag_req_v2
	inetDiagMsgLen = 72 // struct inet_diag_msg
	tcpListen      = 10 // TCP_LISTEN
)

// diagListening dumps the listening TCP sockets (IPv4 and IPv6) of fd's
// namespace and reports whether one has port as its local port.
func diagListening(fd, port int) (bool, error) {
	for _, family := range []uint8{unix.AF_INET, unix.AF_INET6} {
		found, err := diagDump(fd, family, port)
		if err != nil || found {
			return found, err
		}
	}
	return false, nil
}

var diagSeq atomic.Uint32

func diagDump(fd int, family uint8, port int) (bool, error) {
	seq := diagSeq.Add(1)
	req := make([]byte, nlmsgHdrLen+inetDiagReqLen)
	ne := binary.NativeEndian
	ne.PutUint32(req[0:], uint32(len(req)))
	ne.PutUint16(req[4:], unix.SOCK_DIAG_BY_FAMILY)
	ne.PutUint16(req[6:], unix.NLM_F_REQUEST|unix.NLM_F_DUMP)
	ne.PutUint32(req[8:], seq)
	r := req[nlmsgHdrLen:]
	r[0], r[1] = family, unix.IPPROTO_TCP
	ne.PutUint32(r[4:], 1<<tcpListen) // states: LISTEN only, so the kernel skips the established hash
	if err := unix.Sendto(fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return false, fmt.Errorf("sock_diag request: %w", err)
	}
	buf := make([]byte, 32<<10)
	found := false
	for {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			return false, fmt.Errorf("sock_diag answer: %w", err)
		}
		for b := buf[:n]; len(b) >= nlmsgHdrLen; {
			l := int(ne.Uint32(b[0:]))
			typ := ne.Uint16(b[4:])
			if l < nlmsgHdrLen || l > len(b) {
				return false, fmt.Errorf("sock_diag answer: message of %d bytes in %d", l, len(b))
			}
			if ne.Uint32(b[8:]) == seq {
				switch typ {
				case unix.NLMSG_DONE:
					return found, nil
				case unix.NLMSG_ERROR:
					return false, fmt.Errorf("sock_diag answer: error %d", int32(ne.Uint32(b[nlmsgHdrLen:])))
				case unix.SOCK_DIAG_BY_FAMILY:
					if l >= nlmsgHdrLen+inetDiagMsgLen {
						m := b[nlmsgHdrLen:]
						// idiag_state at 1, the socket id from 4: sport is big-endian.
						if m[1] == tcpListen && int(binary.BigEndian.Uint16(m[4:])) == port {
							found = true
						}
					}
				}
			}
			b = b[min((l+3)&^3, len(b)):] // messages are 4-byte aligned
		}
	}
}
