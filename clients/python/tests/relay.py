"""A small unreliable network for the end-to-end tests: a UDP relay on
127.0.0.1 between one sender and one receiver. It drops, duplicates,
corrupts and reorders datagrams in both directions, from a seeded RNG, and
can black out (drop everything) for a while."""

import random
import selectors
import socket
import threading
import time


class LossyRelay:
    def __init__(self, upstream_port: int, seed: int, loss=0.0, duplicate=0.0, corrupt=0.0,
                 reorder=0.0, blackout: tuple[int, float] | None = None) -> None:
        """``blackout`` = (n, seconds): after the n-th datagram, drop all for that long."""
        self.rng = random.Random(seed)
        self.loss, self.duplicate, self.corrupt, self.reorder = loss, duplicate, corrupt, reorder
        self.blackout = blackout
        self.count = 0  # datagrams seen
        self.blackout_ends: float | None = None
        self.front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # faces the sender
        self.front.bind(("127.0.0.1", 0))
        self.port = self.front.getsockname()[1]
        self.back = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # faces the receiver
        self.back.connect(("127.0.0.1", upstream_port))
        self.sender_address = None
        self.held = {"up": None, "down": None}  # a datagram kept back, per direction
        self.stopping = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(self.front, selectors.EVENT_READ, "up")
            selector.register(self.back, selectors.EVENT_READ, "down")
            while not self.stopping:
                for key, _ in selector.select(timeout=0.1):
                    try:
                        datagram, source = key.fileobj.recvfrom(65535)
                    except OSError:  # e.g. ICMP unreachable from a stopped peer
                        continue
                    if key.data == "up":
                        self.sender_address = source
                    self.forward(key.data, datagram)

    def send(self, direction: str, datagram: bytes) -> None:
        if direction == "up":
            self.back.send(datagram)
        elif self.sender_address:
            self.front.sendto(datagram, self.sender_address)

    def blacked_out(self) -> bool:
        self.count += 1
        if self.blackout and self.count == self.blackout[0]:
            self.blackout_ends = time.monotonic() + self.blackout[1]
        return self.blackout_ends is not None and time.monotonic() < self.blackout_ends

    def forward(self, direction: str, datagram: bytes) -> None:
        rng = self.rng
        if self.blacked_out() or rng.random() < self.loss:
            return
        if rng.random() < self.corrupt:
            i = rng.randrange(len(datagram))
            datagram = datagram[:i] + bytes([datagram[i] ^ 0x20]) + datagram[i + 1:]
        held, self.held[direction] = self.held[direction], None
        if held is None and rng.random() < self.reorder:
            self.held[direction] = datagram  # goes out after the next one
            return
        self.send(direction, datagram)
        if rng.random() < self.duplicate:
            self.send(direction, datagram)
        if held is not None:
            self.send(direction, held)

    def close(self) -> None:
        self.stopping = True
        self.thread.join()
        self.front.close()
        self.back.close()
