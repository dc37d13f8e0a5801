"""RUDP sender: sends a file (or stdin) reliably over UDP (spec/rudp.md).

Usage: sender.py -a HOST -p PORT [-f FILE] [-k] [-d] [--give-up SECONDS]

One thread, one UDP socket, one loop: fill the window, wait for an ack or
the next timer, react, repeat. Losses are repaired from the acks where
possible (fast retransmit, RACK, a tail loss probe) and by the
retransmission timer otherwise, as the reference sender does
(spec/rudp.md, "How the reference sender works"). Exits 0 once the ack for
``end`` arrives (RUDP-45), 1 after --give-up seconds without ack progress
(RUDP-44).
"""

import argparse
import random
import socket
import sys
import time
from typing import BinaryIO, Callable, Iterator

import rudp

INITIAL_RTO = 0.5  # RUDP-41: the course's 500 ms, until the first RTT sample
MIN_RTO = 0.2  # RUDP-41: Linux's floor; below it, scheduling hiccups fire the timer
MAX_RTO = 1.0  # RUDP-41/44: well below the receiver's 10 s idle timeout, see backoff()
DUPACK_THRESHOLD = 3  # RUDP-42: fast retransmit on the 3rd duplicate ack
GIVE_UP = 60.0  # RUDP-44: seconds without ack progress before we give up
MIN_PROBE_DELAY = 0.01  # tail loss probe: at least 10 ms, for busy machines (RFC 8985 7.2)


class RttEstimator:
    """Retransmission timeout from measured round-trip times, as in RFC 6298."""

    def __init__(self) -> None:
        self.srtt: float | None = None  # smoothed RTT, None until the first sample
        self.rttvar = 0.0  # RTT variation
        self.rto = INITIAL_RTO

    def sample(self, rtt: float) -> None:
        if self.srtt is None:  # RFC 6298 (2.2): the first measurement
            self.srtt, self.rttvar = rtt, rtt / 2
        else:  # (2.3): beta = 1/4, alpha = 1/8; rttvar first, with the old srtt
            self.rttvar = 0.75 * self.rttvar + 0.25 * abs(self.srtt - rtt)
            self.srtt = 0.875 * self.srtt + 0.125 * rtt
        self.rto = self.estimate()

    def estimate(self) -> float:
        """RFC 6298 (2.3, 2.4): SRTT + 4 RTTVAR, kept within [MIN_RTO, MAX_RTO]."""
        return min(max(self.srtt + 4 * self.rttvar, MIN_RTO), MAX_RTO)

    def backoff(self) -> None:
        """RFC 6298 (5.5): double the timeout after it expires, up to MAX_RTO.

        The cap is low (RFC 6298 allows 60 s) because a receiver forgets a
        transfer after 10 s of silence (RUDP-15): at 50 % loss, a lone missing
        packet needs several tries, and 1 s apart we get about ten before that."""
        self.rto = min(self.rto * 2, MAX_RTO)

    def end_backoff(self) -> None:
        """Drop the backoff: back to the estimate, or to the initial 500 ms
        before the first sample.

        RFC 6298 keeps a backed-off timeout until a fresh sample. Under heavy
        random loss (the course tests 50 %) fresh samples are rare (Karn's
        rule), and the timeout would sit at MAX_RTO for most of the transfer.
        So the sender calls this on every new cumulative ack (the path works
        again), and on a timeout after which acks did come (see
        Sender.on_timeout). (The price: on a path whose RTT is over 500 ms
        and that never gave a sample, every packet is sent twice. The
        transfer still completes.)"""
        self.rto = INITIAL_RTO if self.srtt is None else self.estimate()

    def overdue(self) -> float | None:
        """How long after its last transmission a packet counts as lost once
        a packet sent after it has arrived: one smoothed RTT plus a
        reordering allowance of a quarter RTT, at least 2 ms (RACK, RFC 8985
        6.2). None before the first RTT sample."""
        if self.srtt is None:
            return None
        return self.srtt + max(self.srtt / 4, 0.002)


class GiveUp(Exception):
    """Too long without ack progress (RUDP-44)."""


class InFlight:
    """A packet sent but not yet cumulatively acked."""

    def __init__(self, datagram: bytes, sent_at: float) -> None:
        self.datagram = datagram
        self.sent_at = sent_at  # its last transmission
        self.transmissions = 1  # Karn's rule: more than 1, and its ack gives no RTT sample
        self.marked = False  # resent for loss in the current recovery episode
        self.probed = False  # its repair was probed once (tail loss probe)


def read_full(stream: BinaryIO, size: int) -> bytes:
    """Read ``size`` bytes, fewer only at end of file (pipes return short reads)."""
    chunks, remaining = [], size
    while remaining > 0 and (chunk := stream.read(remaining)):
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def datagrams(stream: BinaryIO, first_seqno: int) -> Iterator[tuple[int, bytes, bool]]:
    """Yield (seqno, datagram, is_end) for the whole stream, lazily: only the
    packets in the window are ever in memory, so any file size works.

    RUDP-7: ``start`` first (carrying the first chunk), ``data`` after it,
    ``end`` last, carrying the last chunk. ``end`` is empty when the data ran
    out exactly at a packet boundary, e.g. for an empty or one-packet file.
    Every packet but the last is filled to the size limit (RUDP-46).
    """
    seqno, kind = first_seqno, "start"
    while True:
        chunk = read_full(stream, rudp.max_payload(kind, seqno))
        if kind != "start" and not stream.peek(1):  # nothing left: this is the last
            yield seqno, rudp.encode("end", seqno, chunk), True
            return
        yield seqno, rudp.encode(kind, seqno, chunk), False
        seqno, kind = seqno + 1, "data"


class Sender:
    """The sender's state and its reactions to acks and timers.

    Three timers, each a time on the ``clock`` or None when off:

    - ``deadline``: the retransmission timer (RUDP-41, RFC 6298);
    - ``loss_check_at``: when a packet suspected lost becomes overdue (RACK);
    - ``probe_at``: when to probe a repaired head that got no ack (TLP).
    """

    def __init__(self, sock: socket.socket, stream: BinaryIO, sack: bool, debug: bool,
                 give_up: float, first_seqno: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.sock, self.sack, self.debug, self.give_up = sock, sack, debug, give_up
        self.clock = clock  # tests pass a fake one
        self.source = datagrams(stream, first_seqno)
        self.first_seqno = first_seqno
        self.base = first_seqno  # lowest unacked seqno = the last cumulative ack
        self.next_seqno = first_seqno  # the next new packet's seqno
        self.end_seqno: int | None = None  # known once the source is exhausted
        self.in_flight: dict[int, InFlight] = {}  # seqno -> packet, base <= seqno < next
        self.sacked: set[int] = set()  # out-of-order seqnos the receiver holds (-k)
        self.sack_acks = False  # the last ack was a sack: judge holes by the sack lists
        self.dupacks = 0
        self.heard = False  # any valid ack since the last timeout
        self.in_recovery = False  # between a loss repair and the ack covering `recover`
        self.recover = first_seqno  # next_seqno when the recovery began
        self.rtt = RttEstimator()
        self.deadline: float | None = None  # retransmission timer
        self.loss_check_at: float | None = None  # RACK timer
        self.probe_at: float | None = None  # tail loss probe timer
        self.probe_seqno = first_seqno  # the head the probe timer was armed for
        self.started = self.last_progress = clock()
        self.last_error = ""

    def log(self, message: str) -> None:
        if self.debug:
            print(f"sender {self.clock() - self.started:8.3f} {message}", file=sys.stderr, flush=True)

    def run(self) -> None:
        """Send until ``end`` is acked; raise GiveUp after too long without progress."""
        while self.end_seqno is None or self.base <= self.end_seqno:
            self.fill_window()
            now = self.clock()
            if now - self.last_progress > self.give_up:
                detail = f" (last error: {self.last_error})" if self.last_error else ""
                raise GiveUp(f"no ack progress for {self.give_up:g} s{detail}")
            if self.run_timers(now):
                continue
            wake = min(t for t in (self.deadline, self.loss_check_at, self.probe_at) if t is not None)
            self.sock.settimeout(max(wake - now, 0.001))
            try:
                reply = self.sock.recv(2048)
            except TimeoutError:
                continue  # a timer is due: run_timers handles it
            except OSError as e:  # e.g. ICMP port unreachable: the receiver is not up yet
                self.last_error = str(e)
                self.log(f"receive failed: {e}")
                continue
            try:
                ack = rudp.parse(reply)
            except rudp.MalformedDatagram as e:  # dropped, never acted on (RUDP-8)
                self.log(f"dropped bad ack: {e}")
                continue
            if ack.type in rudp.ACK_TYPES:
                self.on_ack(ack)

    def run_timers(self, now: float) -> bool:
        """Handle the first timer that is due, if any; True if one was."""
        if self.deadline is not None and now >= self.deadline:
            self.on_timeout()
        elif self.loss_check_at is not None and now >= self.loss_check_at:
            self.loss_check_at = None
            self.detect_losses()
        elif self.probe_at is not None and now >= self.probe_at:
            self.probe_at = None
            self.on_probe()
        else:
            return False
        return True

    def fill_window(self) -> None:
        """RUDP-40: never more than WINDOW packets at or beyond the last
        cumulative ack in flight, i.e. only seqnos < base + WINDOW.

        ``start`` goes alone until it is acked: a receiver drops everything
        that arrives before start (RUDP-11), so a lost start would take the
        rest of the window with it. Waiting costs one round trip and gives
        the first RTT sample (the reference's rule 1)."""
        window = 1 if self.base == self.first_seqno else rudp.WINDOW
        while self.end_seqno is None and self.next_seqno < self.base + window:
            seqno, datagram, is_end = next(self.source)
            if is_end:
                self.end_seqno = seqno
            self.in_flight[seqno] = InFlight(datagram, self.clock())
            self.next_seqno = seqno + 1
            self.transmit(seqno, datagram)

    def transmit(self, seqno: int, datagram: bytes) -> None:
        self.log(f"send {seqno} ({len(datagram)} bytes)")
        try:
            self.sock.send(datagram)
        except OSError as e:  # treated as a lost packet: the timer will retry
            self.last_error = str(e)
            self.log(f"send {seqno} failed: {e}")
        if self.deadline is None:  # RFC 6298 (5.1): start the timer if off
            self.deadline = self.clock() + self.rtt.rto

    def retransmit(self, seqnos: list[int], why: str) -> None:
        """Resend ``seqnos`` (never one below base: those are acked,
        RUDP-43) and mark them as repaired in this recovery episode."""
        now = self.clock()
        for seqno in seqnos:
            self.log(f"retransmit {seqno} ({why})")
            packet = self.in_flight[seqno]
            packet.transmissions += 1
            packet.marked, packet.sent_at = True, now
            self.transmit(seqno, packet.datagram)
        if self.base in seqnos:  # the repaired head gets a full timeout
            self.deadline = now + self.rtt.rto

    def on_ack(self, ack: rudp.Packet) -> None:
        """React to a valid ack/sack carrying the next seqno the receiver expects."""
        if not self.base <= ack.seqno <= self.next_seqno:
            self.log(f"ignored stale or impossible ack {ack.seqno} (base {self.base})")
            return
        self.heard = True
        if ack.seqno > self.base:
            self.advance(ack.seqno)
        elif self.in_flight:  # a duplicate ack
            self.dupacks += 1
            self.log(f"duplicate ack {ack.seqno} ({self.dupacks}), sacks {list(ack.sacks)}")
        # RUDP-30: a receiver without SACK answers with plain acks; then we
        # judge by duplicate acks, as without -k. A listed packet stays held
        # (RUDP-32: a receiver never discards one), so the sets only grow.
        self.sack_acks = self.sack and ack.type == "sack"
        if self.sack_acks:
            self.sacked |= {s for s in ack.sacks if self.base < s < self.next_seqno}
        self.detect_losses()

    def advance(self, cumack: int) -> None:
        """A new cumulative ack: every packet below ``cumack`` has arrived and
        is forgotten, so it is never retransmitted (RUDP-43)."""
        acked = [self.in_flight.pop(s) for s in range(self.base, cumack)]
        now = self.clock()
        if all(p.transmissions == 1 for p in acked):
            # Karn's rule: only packets sent once give an unambiguous RTT. We
            # time the newest: when the acks of older ones were lost, their
            # times would count the wait for a later ack as round-trip time.
            self.rtt.sample(now - acked[-1].sent_at)
        else:
            self.rtt.end_backoff()  # progress ends any backoff
        self.base, self.dupacks, self.last_progress = cumack, 0, now
        self.sacked = {s for s in self.sacked if s > cumack}
        if self.in_recovery and cumack >= self.recover:
            self.in_recovery = False
        self.log(f"ack {cumack}, rto {self.rtt.rto:.3f} s")
        # RFC 6298 (5.2, 5.3): stop the timer when all is acked, else restart it.
        self.deadline = now + self.rtt.rto if self.in_flight else None

    def enter_recovery(self) -> None:
        """A recovery episode lasts until everything sent before it is acked
        (as in NewReno, RFC 6582); each packet is repaired at most once per
        episode by the acks (a lost repair is left to the probe and the timer)."""
        self.in_recovery, self.recover = True, self.next_seqno
        for packet in self.in_flight.values():
            packet.marked = False

    def detect_losses(self) -> None:
        """Resend what the acks show to be lost, without waiting for the
        timer, and arm the RACK timer for what will be if no ack comes first.

        The evidence against a packet is the packets sent after it that
        arrived: the duplicate acks for the oldest unacked packet, or with
        sacks the held packets above each hole (RUDP-32)."""
        self.loss_check_at = None
        if not self.in_flight:
            return
        if self.sack_acks:
            for seqno in sorted(self.in_flight):
                if seqno not in self.sacked:  # a hole, if anything above it is held
                    self.repair_if_lost(seqno, sum(1 for s in self.sacked if s > seqno))
        else:
            self.repair_if_lost(self.base, self.dupacks)

    def repair_if_lost(self, seqno: int, evidence: int) -> None:
        """Resend ``seqno``, which has ``evidence`` packets sent after it known
        to have arrived, if that shows it is lost:

        - 3 of them: the classic fast retransmit on the 3rd duplicate ack
          (RUDP-42), or 3 held packets above a hole (RFC 6675);
        - 1 or 2, once its last copy has been out for longer than
          SRTT + max(SRTT/4, 2 ms) (RACK, RFC 8985, which RUDP-42 allows).
          With a window of 5 there are often fewer than 3 duplicates, and
          some of them may be lost; without this rule such a loss would wait
          for the 200 ms-minimum timer. A copy younger than that may still
          arrive (the acks may come from packets sent before it), so it is
          judged again when it is old enough (``loss_check_at``).
        """
        packet = self.in_flight[seqno]
        if packet.marked or evidence == 0:
            return
        now, overdue = self.clock(), self.rtt.overdue()
        if evidence < DUPACK_THRESHOLD:
            if overdue is None:
                return  # no RTT sample yet: wait for more duplicates or the timer
            due = packet.sent_at + overdue
            if now < due:
                if self.loss_check_at is None or due < self.loss_check_at:
                    self.loss_check_at = due
                return
        if not self.in_recovery:
            self.enter_recovery()
        self.retransmit([seqno], f"fast, {evidence} sent later arrived")
        if seqno == self.base and self.rtt.srtt is not None:
            # Tail loss probe (RFC 8985 7): the window cannot move until the
            # head is repaired, so if this repair or its ack is lost no other
            # ack will come. Probe after 2 SRTT instead of the 200 ms timer.
            packet.probed = False
            self.probe_seqno = seqno
            self.probe_at = now + max(2 * self.rtt.srtt, MIN_PROBE_DELAY)

    def on_probe(self) -> None:
        """Send the repaired head once more if no ack covered it in 2 SRTT
        (tail loss probe). Its ack, or the duplicate ack it causes, restarts
        the ack clock whether the repair or only its ack was lost."""
        packet = self.in_flight.get(self.base)
        if (packet is None or self.base != self.probe_seqno or not packet.marked
                or packet.probed or self.clock() - packet.sent_at < 2 * self.rtt.srtt):
            return  # acked meanwhile, or repaired again since
        packet.probed = True
        self.retransmit([self.base], "tail loss probe")

    def on_timeout(self) -> None:
        """The oldest packet went unacked for an RTO (RUDP-41)."""
        # RFC 6298 (5.5) doubles the timeout, but we do only while the path
        # is silent (a blackout, or no receiver). If acks, even duplicates,
        # came since the last timeout, the losses are random, and doubling
        # would only stretch every later wait (the reference's rule 3).
        if self.heard:
            self.rtt.end_backoff()
        else:
            self.rtt.backoff()
        self.heard = False
        self.enter_recovery()
        self.dupacks = 0
        # A whole RTO without progress says nothing is known to have
        # arrived: resend every packet in the window the receiver does not
        # hold (RUDP-32), as TCP does after a timeout (RFC 6675 5.1); without
        # -k this is the course's Go-Back-N, at most 5 packets (RUDP-40).
        # A lone packet goes twice: it needs itself and one ack to get
        # through, and under heavy loss a second copy nearly halves the
        # rounds that bring no ack at all.
        resend = [s for s in sorted(self.in_flight) if s not in self.sacked]
        if len(resend) == 1:
            resend *= 2
        self.retransmit(resend, f"timeout, rto now {self.rtt.rto:.3f} s")
        self.deadline = self.clock() + self.rtt.rto  # RFC 6298 (5.6)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Send a file reliably over UDP (RUDP).")
    parser.add_argument("-a", "--address", required=True, help="receiver host name or IP")
    parser.add_argument("-p", "--port", required=True, type=rudp.port_number, help="receiver UDP port")
    parser.add_argument("-f", "--file", help="file to send (default: standard input)")
    parser.add_argument("-k", "--sack", action="store_true", help="selective acks (RUDP-30)")
    parser.add_argument("-d", "--debug", action="store_true", help="debug output on stderr")
    parser.add_argument("--give-up", type=float, default=GIVE_UP, metavar="SECONDS",
                        help=f"exit 1 after this long without ack progress (default {GIVE_UP:g})")
    return parser.parse_args()  # RUDP-60


def main() -> int:
    args = parse_args()
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            args.address, args.port, type=socket.SOCK_DGRAM)[0]
    except socket.gaierror as e:
        return fail(f"cannot resolve {args.address}: {e.strerror}")
    try:
        stream = open(args.file, "rb") if args.file else sys.stdin.buffer
    except OSError as e:
        return fail(f"cannot open {args.file}: {e.strerror}")
    with stream, socket.socket(family, kind, proto) as sock:
        first_seqno = random.randrange(1 << 20)  # RUDP-7: the sender picks it
        try:
            # connect() makes the kernel deliver only the receiver's datagrams to us.
            sock.connect(address)
            Sender(sock, stream, args.sack, args.debug, args.give_up, first_seqno).run()
        except GiveUp as e:
            return fail(f"giving up on {args.address} port {args.port}: {e}")
        except OSError as e:  # e.g. reading the input failed
            return fail(str(e))
    return 0


def fail(message: str) -> int:
    print(f"sender: {message}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
