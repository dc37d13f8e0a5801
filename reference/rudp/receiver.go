package rudp

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"
)

// ReceiverOptions configure Serve.
type ReceiverOptions struct {
	// Dir is the output directory. It must exist. Serve writes nowhere
	// else (RUDP-16).
	Dir string
	// IdleTimeout drops a transfer that received no valid packet for this
	// long (RUDP-15). Zero means DefaultIdleTimeout.
	IdleTimeout time.Duration
	// SACK answers with sack packets (RUDP-30, RUDP-31).
	SACK bool
	// MaxTransfers bounds concurrent transfers; zero means
	// DefaultMaxTransfers.
	MaxTransfers int
	// Logger gets one Info line per transfer start, finish and abandon,
	// and Debug lines per datagram. Nil discards.
	Logger *slog.Logger
}

// output is the open file of one transfer in progress.
type output struct {
	f     *os.File
	w     *bufio.Writer
	final string // path of the complete file
	bytes int64
}

// Serve runs the receiver on conn until ctx is done, then closes the open
// outputs, leaving incomplete transfers as "<name>.partial" (RUDP-15), and
// returns nil. It returns an error only if conn fails. Serve does not close
// conn.
//
// Each transfer is written to Dir/OutputName(source)+".partial" and renamed
// to Dir/OutputName(source) once end is delivered; the rename happens before
// end is acked, so a sender that saw its end acked knows the file is
// complete (RUDP-14). A later complete transfer from the same address
// replaces the file.
func Serve(ctx context.Context, conn net.PacketConn, opts ReceiverOptions) error {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if st, err := os.Stat(opts.Dir); err != nil {
		return fmt.Errorf("output directory: %w", err)
	} else if !st.IsDir() {
		return fmt.Errorf("output directory %s is not a directory", opts.Dir)
	}
	m := NewMachine(opts.SACK, opts.IdleTimeout, opts.MaxTransfers)
	outs := map[string]*output{}
	defer func() {
		for src, o := range outs {
			if err := o.close(); err != nil {
				log.Error("closing partial output", "from", src, "err", err)
			}
			log.Info("transfer left incomplete", "from", src, "file", o.f.Name(), "bytes", o.bytes)
		}
	}()

	// The read deadline doubles as the clock tick that expires idle
	// transfers and notices ctx, so one goroutine does everything and
	// the state needs no locks. Expiring before every datagram keeps
	// RUDP-15 exact: a packet never reaches a transfer that is overdue.
	const tick = 200 * time.Millisecond
	buf := make([]byte, MaxDatagram+1) // one more byte to see oversize datagrams (RUDP-2)
	for {
		if ctx.Err() != nil {
			return nil
		}
		if err := conn.SetReadDeadline(time.Now().Add(tick)); err != nil {
			return fmt.Errorf("setting the read deadline: %w", err)
		}
		n, addr, err := conn.ReadFrom(buf)
		now := time.Now()
		for _, src := range m.Expire(now) {
			if o := outs[src]; o != nil {
				delete(outs, src)
				if err := o.close(); err != nil {
					log.Error("closing partial output", "from", src, "err", err)
				}
				log.Info("transfer abandoned: idle timeout", "from", src, "file", o.f.Name(), "bytes", o.bytes)
			}
		}
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				continue
			}
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("reading: %w", err)
		}
		src := addr.String()
		st := m.Handle(now, src, buf[:n])
		if st.Err != nil {
			log.Debug("dropped", "from", src, "len", n, "reason", st.Err)
			continue
		}
		if err := apply(opts.Dir, src, st, outs, log); err != nil {
			// The transfer cannot complete: forget it so that nothing more
			// is acked and the sender gives up, rather than ack a file that
			// is not there.
			log.Error("transfer failed", "from", src, "err", err)
			m.Forget(src)
			if o := outs[src]; o != nil {
				delete(outs, src)
				o.close()
			}
			continue
		}
		log.Debug("packet", "from", src, "type", st.Packet.Type, "seq", st.Packet.Seq, "len", len(st.Packet.Data), "ack", string(st.Ack))
		if _, err := conn.WriteTo(st.Ack, addr); err != nil {
			log.Debug("sending ack", "to", src, "err", err)
		}
	}
}

// apply carries out one Step's file work (RUDP-14, RUDP-16, RUDP-18).
func apply(dir, src string, st Step, outs map[string]*output, log *slog.Logger) error {
	o := outs[src]
	if st.Begin {
		if o != nil {
			// RUDP-18: the new start replaces the old transfer; its
			// partial file is truncated below.
			delete(outs, src)
			o.close()
			log.Info("transfer abandoned: new start", "from", src, "bytes", o.bytes)
		}
		final := filepath.Join(dir, OutputName(src))
		f, err := os.OpenFile(final+PartialSuffix, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
		if err != nil {
			return fmt.Errorf("creating output: %w", err)
		}
		o = &output{f: f, w: bufio.NewWriterSize(f, 64<<10), final: final}
		outs[src] = o
		log.Info("transfer started", "from", src, "seq", st.First, "file", f.Name())
	}
	if o == nil {
		// A retransmission for a transfer that is already complete
		// (RUDP-17): nothing to write, only the ack.
		if len(st.Deliver) > 0 || st.Complete {
			return errors.New("internal error: delivery without an open output")
		}
		return nil
	}
	if _, err := o.w.Write(st.Deliver); err != nil {
		return fmt.Errorf("writing %s: %w", o.f.Name(), err)
	}
	o.bytes += int64(len(st.Deliver))
	if !st.Complete {
		return nil
	}
	delete(outs, src)
	if err := o.close(); err != nil {
		return err
	}
	if err := os.Rename(o.f.Name(), o.final); err != nil {
		return fmt.Errorf("completing output: %w", err)
	}
	log.Info("transfer finished", "from", src, "file", o.final, "bytes", o.bytes)
	return nil
}

func (o *output) close() error {
	err := o.w.Flush()
	if cerr := o.f.Close(); err == nil && cerr != nil && !errors.Is(cerr, os.ErrClosed) {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", o.f.Name(), err)
	}
	return nil
}
