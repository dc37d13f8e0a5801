"""The datagram codec (rudp.py) against hand-checked examples and spec/vectors."""

import unittest

import rudp


class ChecksumTest(unittest.TestCase):
    def test_crc32_check_value(self):
        # The standard check value of CRC-32/IEEE (what zlib and Go compute).
        self.assertEqual(rudp.checksum(b"123456789"), 0xCBF43926)

    def test_checksum_is_unsigned_decimal(self):
        # This CRC has its top bit set: a signed 32-bit integer would be negative.
        self.assertEqual(rudp.encode("data", 1, b"x"), b"data|1|x|3074654515")
        self.assertEqual(rudp.encode_ack(1), b"ack|1|2195368786")


class EncodeTest(unittest.TestCase):
    def test_data_packet(self):
        datagram = rudp.encode("start", 42, b"hi")
        self.assertTrue(datagram.startswith(b"start|42|hi|"))
        self.assertEqual(rudp.parse(datagram), rudp.Packet("start", 42, b"hi"))

    def test_ack_and_sack(self):
        self.assertEqual(rudp.encode_ack(7), b"ack|7|%d" % rudp.checksum(b"ack|7|"))
        sack = rudp.encode_ack(7, [9, 10])
        self.assertEqual(sack, b"sack|7;9,10|%d" % rudp.checksum(b"sack|7;9,10|"))
        self.assertEqual(rudp.parse(sack), rudp.Packet("sack", 7, sacks=(9, 10)))
        self.assertEqual(rudp.parse(rudp.encode_ack(7, [])), rudp.Packet("sack", 7))

    def test_max_payload_fills_the_datagram(self):
        for kind in rudp.SENDER_TYPES:
            for seqno in (0, 9, 10, 123456, 2**64 - 1):
                size = rudp.max_payload(kind, seqno)
                datagram = rudp.encode(kind, seqno, b"\xff" * size)
                self.assertLessEqual(len(datagram), rudp.MAX_DATAGRAM)
                # Only the checksum's digits (at most 10) may be short of the limit.
                self.assertGreaterEqual(len(datagram), rudp.MAX_DATAGRAM - 9)


class ParseTest(unittest.TestCase):
    def test_data_with_separators_and_binary(self):
        data = b"a|b||c|\x00\xff\x80|"
        self.assertEqual(rudp.parse(rudp.encode("data", 5, data)).data, data)

    def test_data_that_looks_like_a_checksum(self):
        data = b"|123|"
        self.assertEqual(rudp.parse(rudp.encode("end", 0, data)), rudp.Packet("end", 0, data))

    def test_empty_data(self):
        self.assertEqual(rudp.parse(rudp.encode("end", 3)), rudp.Packet("end", 3, b""))

    def test_rejects(self):
        good = rudp.encode("data", 5, b"payload")
        bad = {
            "flipped data byte": good.replace(b"payload", b"paylaod"),
            "wrong checksum": good[:-1] + (b"0" if good[-1:] != b"0" else b"1"),
            "no separator": b"hello",
            "no checksum": b"data|5|payload|",
            "too long": rudp.encode("data", 5, b"x" * rudp.MAX_DATAGRAM),
        }
        for seqno in (b"-5", b"+5", b" 5", b"5 ", b"", b"0x5", b"\xd9\xa5", b"18446744073709551616"):
            bad[f"seqno {seqno!r}"] = sealed(b"data|" + seqno + b"|x|")
        bad["unknown type"] = sealed(b"DATA|5|x|")
        bad["missing data field"] = sealed(b"data|5|")
        bad["bad sack list"] = sealed(b"sack|5;6,,7|")
        bad["ack with extra field"] = sealed(b"ack|5|6|")
        for reason, datagram in bad.items():
            with self.subTest(reason), self.assertRaises(rudp.MalformedDatagram):
                rudp.parse(datagram)

    def test_largest_seqno(self):
        self.assertEqual(rudp.parse(sealed(b"data|18446744073709551615||")).seqno, 2**64 - 1)


def sealed(head: bytes) -> bytes:
    """``head`` with its correct checksum, to test everything but the checksum."""
    return head + str(rudp.checksum(head)).encode()


if __name__ == "__main__":
    unittest.main()
