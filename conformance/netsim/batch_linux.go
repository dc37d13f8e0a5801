package netsim

import (
	"errors"
	"net"
	"net/netip"
	"syscall"

	// golang.org/x/net (already a dependency of the module) for
	// recvmmsg/sendmmsg: one system call per batch of datagrams instead of
	// one per datagram, which is most of a relay's cost per datagram.
	// ipv4.PacketConn's ReadBatch/WriteBatch take no family-specific path
	// on Linux, so they serve IPv6 and dual-stack sockets as well.
	"golang.org/x/net/ipv4"
)

// batchSize is how many datagrams one recvmmsg or sendmmsg moves at most.
const batchSize = 64

// slotSize holds the largest UDP payload: a datagram longer than its slot
// would be cut short, and the relay passes on any input intact.
const slotSize = 64 << 10

// batchConn is a socket with batched writes.
type batchConn struct {
	c  *net.UDPConn
	pc *ipv4.PacketConn
}

func newBatchConn(c *net.UDPConn) batchConn { return batchConn{c, ipv4.NewPacketConn(c)} }

// batchState is the relay's batch buffers. They are used under mu only,
// so every socket's reader shares one set: memory does not grow with the
// number of flows (batchSize × 64 KB, touched only as far as datagrams
// fill them).
type batchState struct {
	rx  []ipv4.Message
	tx  []ipv4.Message
	txb [][]byte
}

func (b *batchState) init() {
	if b.rx != nil {
		return
	}
	b.rx = make([]ipv4.Message, batchSize)
	slots := make([]byte, batchSize*slotSize)
	for i := range b.rx {
		b.rx[i].Buffers = [][]byte{slots[i*slotSize : (i+1)*slotSize : (i+1)*slotSize]}
	}
	b.tx = make([]ipv4.Message, batchSize)
	b.txb = make([][]byte, batchSize)
	for i := range b.tx {
		b.tx[i].Buffers = b.txb[i : i+1 : i+1]
	}
}

// readyWait is a syscall.RawConn.Read callback that waits until a
// datagram (or an error) is queued on the socket, without taking it: the
// read itself happens under mu (see read), into the shared buffers. On
// its first call it peeks: the poller is edge-triggered, and
// RawConn.Read forgets an edge that came before the call, so only a look
// at the socket itself can tell that a datagram is already there. If
// none is, the runtime parks the goroutine until the poller reports the
// socket readable and calls again: that is taken as is (a spurious
// wake-up costs one empty recvmmsg), which saves a system call on every
// wake-up.
type readyWait struct{ parked bool }

func (w *readyWait) f(fd uintptr) bool {
	if w.parked {
		w.parked = false
		return true
	}
	_, _, err := syscall.Recvfrom(int(fd), nil, syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	w.parked = err == syscall.EAGAIN
	return !w.parked
}

// read handles datagrams from c until c is closed: it waits until c is
// readable, then, under mu, reads up to batchSize datagrams with one
// recvmmsg that does not block, handles them in order, and sends what
// they release with one sendmmsg per socket. It waits again only once a
// read found nothing: while datagrams keep coming, each batch costs one
// recvmmsg and one sendmmsg.
func (u *udpRelay) read(d Dir, c *net.UDPConn, fl *udpFlow) {
	defer u.wg.Done()
	rc, err := c.SyscallConn()
	if err != nil {
		return
	}
	pc := ipv4.NewPacketConn(c)
	w := &readyWait{}
	wait := w.f
	empty := true
	for {
		if empty {
			w.parked = false
			if err := rc.Read(wait); err != nil {
				return // closed
			}
		}
		u.mu.Lock()
		if u.stopping {
			u.mu.Unlock()
			return
		}
		u.io.init()
		n, err := pc.ReadBatch(u.io.rx, syscall.MSG_DONTWAIT)
		if err != nil {
			u.mu.Unlock()
			switch {
			case errors.Is(err, syscall.EAGAIN):
				empty = true
			case errors.Is(err, net.ErrClosed):
				return
			default:
				// ICMP port unreachable (the upstream is not up yet) and
				// the like arrive as read errors on a connected socket:
				// not ours to act on.
				empty = false
			}
			continue
		}
		for i := range n {
			m := &u.io.rx[i]
			data := getBuf(m.N)
			copy(data, m.Buffers[0][:m.N])
			var from netip.AddrPort
			if a, ok := m.Addr.(*net.UDPAddr); ok && d == Fwd {
				from = a.AddrPort()
			}
			m.Addr = nil
			u.handle(d, fl, from, data)
		}
		u.flush()
		u.wakeScheduler()
		u.mu.Unlock()
		empty = false
	}
}

// sendRun sends msgs through bc, batchSize at a time.
func (u *udpRelay) sendRun(bc batchConn, msgs []outMsg) {
	u.io.init()
	for len(msgs) > 0 {
		k := min(len(msgs), batchSize)
		ms := u.io.tx[:k]
		for i := range ms {
			ms[i].Buffers[0] = msgs[i].data
			ms[i].Addr = nil // connected: the flow's upstream socket
			if msgs[i].dir == Rev {
				ms[i].Addr = msgs[i].fl.to
			}
		}
		sent := 0
		retried := false
		for sent < k {
			n, err := bc.pc.WriteBatch(ms[sent:], 0)
			if n > 0 {
				sent += n
				retried = false
				continue
			}
			if err != nil && errors.Is(err, syscall.ECONNREFUSED) && !retried {
				// The refusal is an ICMP report about an earlier datagram
				// (the upstream was not listening yet); it cost this one
				// its send. Send it again, so the trace's "left" stays
				// true. (A refusal met past the first datagram of a batch
				// ends the batch there, and the loop sends the rest.)
				retried = true
				continue
			}
			if err == nil {
				err = errors.New("sendmmsg sent nothing")
			}
			u.sendFailed(msgs[sent].dir, msgs[sent].fl.id, err)
			sent++
			retried = false
		}
		for i := range ms {
			ms[i].Buffers[0], ms[i].Addr = nil, nil
		}
		msgs = msgs[k:]
	}
}
