"""The RUDP datagram codec shared by sender.py and receiver.py (spec/rudp.md).

Every datagram is ``<type>|<seqno>|<data>|<checksum>`` (RUDP-1); acks are
``ack|<seqno>|<checksum>`` (RUDP-6) and selective acks
``sack|<cum>;<s1>,<s2>,...|<checksum>`` (RUDP-30). Everything here works on
``bytes``: the data of a transfer is binary and may contain ``|``, NUL or any
byte >= 0x80, so it must never go through str.
"""

import zlib
from dataclasses import dataclass

MAX_DATAGRAM = 1472  # RUDP-2: 1500-byte Ethernet MTU - 20 (IPv4) - 8 (UDP)
WINDOW = 5  # RUDP-12 / RUDP-40: packets in flight, and the receive window
CHECKSUM_DIGITS = 10  # the longest checksum: str(2**32 - 1) has 10 digits

SENDER_TYPES = ("start", "data", "end")  # RUDP-1
ACK_TYPES = ("ack", "sack")  # RUDP-6, RUDP-30


class MalformedDatagram(ValueError):
    """A datagram that does not parse or fails its checksum (RUDP-8)."""


@dataclass(frozen=True)
class Packet:
    """One decoded datagram. For acks, ``seqno`` is the next expected seqno."""

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


def parse_number(field: bytes) -> int:
    """RUDP-3: ASCII decimal digits only (no sign, no spaces), fits in 64 bits.

    ``bytes.isdigit`` accepts only ASCII 0-9, unlike ``int()``, which would
    also accept " 7", "+7", "7_0" and non-ASCII digits.
    """
    if not field.isdigit() or len(field) > 20 or int(field) >= 2**64:
        raise MalformedDatagram(f"not a decimal number: {field[:24]!r}")
    return int(field)


def parse(datagram: bytes) -> Packet:
    """Decode one datagram or raise MalformedDatagram saying why.

    RUDP-5: the type runs to the first ``|``, the seqno to the second, the
    checksum follows the LAST ``|``, and the data is everything in between,
    so data may itself contain ``|``.
    """
    if len(datagram) > MAX_DATAGRAM:
        raise MalformedDatagram(f"datagram of {len(datagram)} bytes is over {MAX_DATAGRAM}")
    head, bar, received_sum = datagram.rpartition(b"|")
    if not bar:
        raise MalformedDatagram("no '|' in datagram")
    if parse_number(received_sum) != checksum(head + bar):  # RUDP-4
        raise MalformedDatagram("checksum mismatch")

    kind_bytes, bar, rest = head.partition(b"|")  # rest: "<seqno>|<data>" or ack fields
    kind = kind_bytes.decode("ascii", errors="replace")
    if not bar:
        raise MalformedDatagram("no seqno field")
    if kind == "ack":
        return Packet("ack", parse_number(rest))
    if kind == "sack":
        cum, _, listed = rest.partition(b";")
        sacks = tuple(parse_number(s) for s in listed.split(b",")) if listed else ()
        return Packet("sack", parse_number(cum), sacks=sacks)
    if kind not in SENDER_TYPES:
        raise MalformedDatagram(f"unknown packet type {kind!r}")
    seqno, bar, data = rest.partition(b"|")
    if not bar:
        raise MalformedDatagram("no data field")
    return Packet(kind, parse_number(seqno), data)
