"""RUDP receiver: receives files sent over UDP by sender.py (spec/rudp.md).

Usage: receiver.py [-p PORT] [-t TIMEOUT_SECONDS] [-k] [-d]

One thread and one UDP socket serve every sender at once: each source
address (ip:port) has its own Transfer (RUDP-10). Each transfer is written
into the current directory as ``<ip>.<port>.partial`` and renamed to
``<ip>.<port>`` once complete. Runs until killed.
"""

import argparse
import ipaddress
import os
import signal
import socket
import sys
import time

import rudp

DEFAULT_PORT = 33122  # RUDP-61
DEFAULT_TIMEOUT = 10.0  # RUDP-15: seconds of silence before a transfer is dropped


class Transfer:
    """One file arriving from one source address."""

    def __init__(self, name: str, start: rudp.Packet) -> None:
        # RUDP-16: the name comes from the source address only, never from
        # packet content, and the file goes into the current directory.
        self.name = name
        self.start = start  # to tell a retransmitted start from a new one
        self.expected = start.seqno  # the next seqno to write to the file
        self.buffered: dict[int, rudp.Packet] = {}  # out-of-order packets in the window
        self.file = open(name + ".partial", "wb")  # RUDP-15: incomplete until renamed
        self.complete = False
        self.last_heard = time.monotonic()

    def accept(self, packet: rudp.Packet) -> None:
        """Take one valid packet of this transfer, writing what is now in order."""
        self.last_heard = time.monotonic()
        # RUDP-12: keep only expected .. expected+4; drop duplicates and the rest.
        if self.complete or not self.expected <= packet.seqno < self.expected + rudp.WINDOW:
            return
        self.buffered[packet.seqno] = packet
        while self.expected in self.buffered:  # RUDP-14: write in order
            packet = self.buffered.pop(self.expected)
            self.file.write(packet.data)
            self.expected += 1
            if packet.type == "end":
                self.finish()
                return

    def finish(self) -> None:
        """RUDP-14: the file is complete, closed and renamed before ``end`` is acked."""
        self.file.close()
        os.replace(self.name + ".partial", self.name)
        self.buffered.clear()
        self.complete = True

    def ack(self, sack: bool) -> bytes:
        """RUDP-13: a cumulative ack carrying the next expected seqno; with -k a
        sack also listing the buffered out-of-order seqnos, ascending (RUDP-31)."""
        return rudp.encode_ack(self.expected, sorted(self.buffered) if sack else None)

    def abandon(self) -> None:
        """RUDP-15: drop an idle transfer, leaving its ``.partial`` file behind."""
        self.file.close()


def file_name(address: tuple) -> str:
    """``<ip>.<port>`` of a source address, e.g. ``172.18.0.3.40000``, as the
    course receiver names its files. On a dual-stack socket IPv4 peers appear
    as ``::ffff:a.b.c.d``: unwrap them. IPv6 colons become ``_``, as in the
    reference: ``2001_db8__1.6000``."""
    ip = ipaddress.ip_address(address[0])
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return f"{ip}.{address[1]}".replace(":", "_")


def open_socket(port: int) -> socket.socket:
    """Bind all addresses: IPv6 and IPv4 on one socket if the host can,
    else all IPv4 addresses."""
    try:
        sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        sock.bind(("::", port))
        return sock
    except OSError:  # no IPv6 in this kernel or container
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("", port))
        return sock


class Receiver:
    def __init__(self, sock: socket.socket, timeout: float, sack: bool, debug: bool) -> None:
        self.sock, self.timeout, self.sack, self.debug = sock, timeout, sack, debug
        self.transfers: dict[tuple, Transfer] = {}  # RUDP-10: keyed by (ip, port)
        self.started = time.monotonic()  # for the times in debug output

    def log(self, message: str) -> None:
        if self.debug:
            print(f"receiver {time.monotonic() - self.started:8.3f} {message}", file=sys.stderr, flush=True)

    def run(self) -> None:
        self.sock.settimeout(1.0)  # wake up now and then to drop idle transfers
        while True:
            try:
                datagram, source = self.sock.recvfrom(65535)
            except TimeoutError:
                datagram = None
            if datagram is not None:
                self.handle(datagram, source[:2])
            self.drop_idle()

    def handle(self, datagram: bytes, source: tuple) -> None:
        try:
            packet = rudp.parse(datagram)
        except rudp.MalformedDatagram as e:  # RUDP-8: dropped silently, never acked
            self.log(f"{source}: dropped: {e}")
            return
        if packet.type not in rudp.SENDER_TYPES:
            self.log(f"{source}: dropped unexpected {packet.type}")
            return
        transfer = self.transfers.get(source)
        # RUDP-18: a start begins a new transfer unless it repeats the current
        # one's start (same seqno, same data): then it is a retransmission.
        if packet.type == "start" and (transfer is None or packet != transfer.start):
            try:
                transfer = self.begin(source, packet)
            except OSError as e:  # e.g. the directory is not writable
                print(f"receiver: cannot create output file: {e}", file=sys.stderr, flush=True)
                return
        if transfer is None:  # RUDP-11: a transfer begins with start
            self.log(f"{source}: dropped {packet.type} {packet.seqno}: no transfer")
            return
        try:
            transfer.accept(packet)  # RUDP-17: completed transfers still ack below
        except OSError as e:  # e.g. the disk is full: report it, give up this transfer
            print(f"receiver: {transfer.name}: {e}", file=sys.stderr, flush=True)
            transfer.abandon()
            del self.transfers[source]
            return
        self.log(f"{source}: got {packet.type} {packet.seqno}, ack {transfer.expected}")
        try:
            self.sock.sendto(transfer.ack(self.sack), source)
        except OSError as e:  # the sender's host may be unreachable right now
            self.log(f"{source}: ack failed: {e}")

    def begin(self, source: tuple, start: rudp.Packet) -> Transfer:
        old = self.transfers.pop(source, None)
        if old is not None and not old.complete:
            old.abandon()
        self.log(f"{source}: new transfer from seqno {start.seqno}")
        transfer = self.transfers[source] = Transfer(file_name(source), start)
        return transfer

    def drop_idle(self) -> None:
        """RUDP-15: forget transfers silent for the timeout, complete or not."""
        now = time.monotonic()
        for source, transfer in list(self.transfers.items()):
            if now - transfer.last_heard >= self.timeout:
                if not transfer.complete:
                    self.log(f"{source}: idle for {self.timeout:g} s, dropped")
                    transfer.abandon()
                del self.transfers[source]

    def close(self) -> None:
        """Close the files of unfinished transfers, keeping what they received."""
        for transfer in self.transfers.values():
            if not transfer.complete:
                transfer.abandon()


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Receive files over UDP (RUDP) into the current directory.")
    parser.add_argument("-p", "--port", type=rudp.port_number, default=DEFAULT_PORT,
                        help=f"UDP port to listen on (default {DEFAULT_PORT})")
    parser.add_argument("-t", "--timeout", type=float, default=DEFAULT_TIMEOUT,
                        help=f"drop transfers idle this many seconds (default {DEFAULT_TIMEOUT:g})")
    parser.add_argument("-k", "--sack", action="store_true", help="selective acks (RUDP-30)")
    parser.add_argument("-d", "--debug", action="store_true", help="debug output on stderr")
    args = parser.parse_args()  # RUDP-61
    if args.timeout <= 0:
        parser.error("argument -t/--timeout: must be more than 0 seconds")
    return args


def main() -> int:
    args = parse_args()
    # As PID 1 in a container, a process without a handler ignores SIGTERM:
    # exit cleanly instead, so that open files are flushed and closed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        sock = open_socket(args.port)
    except OSError as e:
        print(f"receiver: cannot listen on UDP port {args.port}: {e.strerror}", file=sys.stderr)
        return 1
    port = sock.getsockname()[1]  # the real one, also when -p 0 let the kernel pick
    print(f"receiver: listening on UDP port {port}", file=sys.stderr, flush=True)
    receiver = Receiver(sock, args.timeout, args.sack, args.debug)
    try:
        receiver.run()
    except KeyboardInterrupt:
        return 130
    finally:
        receiver.close()
        sock.close()


if __name__ == "__main__":
    sys.exit(main())
