//go:build !linux

package netsim

import (
	"errors"
	"net"
	"syscall"
)

// batchConn is a socket; only Linux gets batched reads and writes
// (batch_linux.go), elsewhere a datagram is one system call.
type batchConn struct{ c *net.UDPConn }

func newBatchConn(c *net.UDPConn) batchConn { return batchConn{c} }

type batchState struct{}

// read handles datagrams from c until c is closed, one at a time.
func (u *udpRelay) read(d Dir, c *net.UDPConn, fl *udpFlow) {
	defer u.wg.Done()
	buf := make([]byte, 64<<10)
	for {
		n, from, err := c.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// ICMP port unreachable (the upstream is not up yet) and the
			// like arrive as read errors on a connected socket: not ours
			// to act on.
			continue
		}
		data := getBuf(n)
		copy(data, buf[:n])
		u.mu.Lock()
		if u.stopping {
			u.mu.Unlock()
			return
		}
		u.handle(d, fl, from, data)
		u.flush()
		u.wakeScheduler()
		u.mu.Unlock()
	}
}

// sendRun sends msgs through bc, one at a time.
func (u *udpRelay) sendRun(bc batchConn, msgs []outMsg) {
	for _, m := range msgs {
		var err error
		if m.dir == Fwd {
			_, err = bc.c.Write(m.data)
			if errors.Is(err, syscall.ECONNREFUSED) {
				// The refusal is an ICMP report about an earlier datagram
				// (the upstream was not listening yet); it cost this one its
				// send. Send it now, so the trace's "left" stays true.
				_, err = bc.c.Write(m.data)
			}
		} else {
			_, err = bc.c.WriteToUDPAddrPort(m.data, m.fl.client)
		}
		if err != nil {
			u.sendFailed(m.dir, m.fl.id, err)
		}
	}
}
