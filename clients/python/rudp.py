"""The RUDP datagram codec shared by sender.py and receiver.py (spec/rudp.md).

Every datagram is ``<type>|<seqno>|<data>|<checksum>`` (RUDP-1); acks are
``ack|<seqno>|<checksum>`` (RUDP-6) and selective acks
``sack|<cum>;<s1>,<s2>,...|<checksum>`` (RUDP-30). Everything here works on
``bytes``: the data of a transfer is binary and may contain ``|``, NUL or any
byte >= 0x80, so it must never go through str.
"""

import argparse
import zlib
from typing import NamedTuple

MAX_DATAGRAM = 1472  # RUDP-2: 1500-byte Ethernet MTU - 20 (IPv4) - 8 (UDP)
WINDOW = 5  # RUDP-12 / RUDP-40: packets in flight, and the receive window
CHECKSUM_DIGITS = 10  # the longest checksum: str(2**32 - 1) has 10 digits

SENDER_TYPES = ("start", "data", "end")  # RUDP-1
ACK_TYPES = ("ack", "sack")  # RUDP-6, RUDP-30


class MalformedDatagram(ValueError):
    """A datagram that does not parse or fails its checksum (RUDP-8).

    ``error`` is its class in spec/vectors/README.md: too_long, malformed,
    checksum, type, seqno or sack."""

    def __init__(self, error: str, detail: str) -> None:
        super().__init__(f"{error}: {detail}")
        self.error = error


class Packet(NamedTuple):
    """One decoded datagram. For acks, ``seqno`` is the next expected seqno.

    (A NamedTuple rather than a dataclass: importing dataclasses costs more
    startup time than all the rest of this program's imports together.)"""

    type: str
    seqno: int
    data: bytes = b""
    sacks: tuple[int, ...] = ()  # only for "sack": buffered out-of-order seqnos


def checksum(head: bytes) -> int:
    """RUDP-4: the unsigned CRC-32 (IEEE, as zlib computes it) of ``head``.

    ``head`` is every byte of the datagram up to and including the last ``|``.
    In Python 3 ``zlib.crc32`` already returns an unsigned value.
    """
    return zlib.crc32(head)


def _seal(head: bytes) -> bytes:
    """Append the decimal checksum to ``head`` (which ends in ``|``)."""
    return head + str(checksum(head)).encode("ascii")


def encode(kind: str, seqno: int, data: bytes = b"") -> bytes:
    """Encode a start/data/end datagram: ``<type>|<seqno>|<data>|<checksum>``."""
    return _seal(b"%s|%d|%s|" % (kind.encode("ascii"), seqno, data))


def encode_ack(seqno: int, sacks: list[int] | None = None) -> bytes:
    """Encode ``ack|<seqno>|`` or, when ``sacks`` is given (even empty),
    ``sack|<seqno>;<s1>,<s2>,...|`` (RUDP-6, RUDP-30), plus the checksum."""
    if sacks is None:
        return _seal(b"ack|%d|" % seqno)
    listed = ",".join(str(s) for s in sacks).encode("ascii")
    return _seal(b"sack|%d;%s|" % (seqno, listed))


def max_payload(kind: str, seqno: int) -> int:
    """The most data bytes a ``kind`` datagram numbered ``seqno`` can carry
    and still fit in MAX_DATAGRAM whatever its checksum (RUDP-2, RUDP-46)."""
    header = len(kind) + len(str(seqno)) + 3  # three '|' separators
    return MAX_DATAGRAM - header - CHECKSUM_DIGITS


def parse_number(field: bytes, error: str = "seqno") -> int:
    """RUDP-3: 1 to 20 ASCII decimal digits (no sign, no spaces), below 2**64.

    ``bytes.isdigit`` accepts only ASCII 0-9, unlike ``int()``, which would
    also accept " 7", "+7", "7_0" and non-ASCII digits.
    """
    if not field.isdigit() or len(field) > 20 or int(field) >= 2**64:
        raise MalformedDatagram(error, f"not a decimal number: {field[:24]!r}")
    return int(field)


def parse(datagram: bytes) -> Packet:
    """Decode one datagram or raise MalformedDatagram saying why.

    RUDP-5: the type runs to the first ``|``, the seqno to the second, the
    checksum follows the LAST ``|``, and the data is everything in between,
    so data may itself contain ``|``. The checks come in the order
    spec/vectors/README.md gives, so that errors are classed the same way.
    """
    if len(datagram) > MAX_DATAGRAM:
        raise MalformedDatagram("too_long", f"{len(datagram)} bytes, over {MAX_DATAGRAM}")
    head, bar, received_sum = datagram.rpartition(b"|")
    head += bar  # the checksum covers the last '|' too (RUDP-4)
    if not bar:
        raise MalformedDatagram("malformed", "no '|'")
    if not received_sum.isdigit():
        raise MalformedDatagram("malformed", f"checksum field {received_sum[:24]!r} is not decimal")
    kind_bytes, bar, fields = head[:-1].partition(b"|")  # fields: "<seqno>|<data>" for data
    kind = kind_bytes.decode("ascii", errors="replace")
    if not bar:
        raise MalformedDatagram("malformed", "only one '|'")
    if kind in SENDER_TYPES and b"|" not in fields:
        raise MalformedDatagram("malformed", "no data field")
    if kind in ACK_TYPES and b"|" in fields:
        raise MalformedDatagram("malformed", "an ack has no data field")
    # The checksum must be exactly the decimal text: the course's receiver
    # compares strings, so "0123" is not 123.
    if received_sum != str(checksum(head)).encode("ascii"):
        raise MalformedDatagram("checksum", "checksum mismatch")
    if kind == "ack":
        return Packet("ack", parse_number(fields))
    if kind == "sack":
        cum, _, listed = fields.partition(b";")
        seqno = parse_number(cum)
        sacks = tuple(parse_number(s, "sack") for s in listed.split(b",")) if listed else ()
        return Packet("sack", seqno, sacks=sacks)
    if kind not in SENDER_TYPES:
        raise MalformedDatagram("type", f"unknown packet type {kind!r}")
    seqno, _, data = fields.partition(b"|")
    return Packet(kind, parse_number(seqno), data)


def port_number(text: str) -> int:
    """argparse type for a port: an integer 0-65535 (0: let the kernel pick)."""
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0-65535)")
    return int(text)
