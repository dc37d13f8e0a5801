"""Unit tests of sender.py: packetizing and the RTO estimator."""

import io
import os
import unittest

import rudp
import sender


def packetize(data: bytes, first_seqno: int = 0) -> list[rudp.Packet]:
    stream = io.BufferedReader(io.BytesIO(data))  # like a file or stdin: has peek()
    packets = []
    for seqno, datagram, is_end in sender.datagrams(stream, first_seqno):
        packet = rudp.parse(datagram)
        packets.append(packet)
        assert seqno == packet.seqno and is_end == (packet.type == "end")
    return packets


class DatagramsTest(unittest.TestCase):
    def test_empty_file_is_empty_start_then_empty_end(self):
        self.assertEqual(packetize(b"", 7), [rudp.Packet("start", 7), rudp.Packet("end", 8)])

    def test_one_byte(self):
        self.assertEqual(packetize(b"x", 0), [rudp.Packet("start", 0, b"x"), rudp.Packet("end", 1)])

    def test_exactly_one_full_packet(self):
        data = os.urandom(rudp.max_payload("start", 0))
        self.assertEqual(packetize(data), [rudp.Packet("start", 0, data), rudp.Packet("end", 1)])

    def test_large_file(self):
        data = os.urandom(100_000) + b"|" * 1000
        packets = packetize(data, first_seqno=95)  # seqnos grow from 2 to 3 digits
        self.assertEqual(len(packets), 70)  # ceil(101000 / ~1450)
        self.assertEqual([p.type for p in packets], ["start"] + ["data"] * 68 + ["end"])
        self.assertEqual([p.seqno for p in packets], list(range(95, 95 + len(packets))))
        self.assertEqual(b"".join(p.data for p in packets), data)
        for packet in packets[:-1]:  # RUDP-46: all but the last as large as allowed
            self.assertEqual(len(packet.data), rudp.max_payload(packet.type, packet.seqno))

    def test_short_reads_from_a_pipe(self):
        r, w = os.pipe()
        data = os.urandom(5000)
        with open(r, "rb") as reader:
            pid = os.fork()
            if pid == 0:  # the child writes in small pieces, like a slow pipe
                os.close(r)
                for i in range(0, len(data), 100):
                    os.write(w, data[i:i + 100])
                os._exit(0)
            os.close(w)
            got = b"".join(rudp.parse(d).data for _, d, _ in sender.datagrams(reader, 0))
            os.waitpid(pid, 0)
        self.assertEqual(got, data)


class RttEstimatorTest(unittest.TestCase):
    def test_starts_at_500_ms(self):
        self.assertEqual(sender.RttEstimator().rto, 0.5)

    def test_rfc6298_formulas(self):
        rtt = sender.RttEstimator()
        rtt.sample(0.4)  # first sample: srtt = r, rttvar = r/2, rto = srtt + 4 rttvar
        self.assertAlmostEqual(rtt.srtt, 0.4)
        self.assertAlmostEqual(rtt.rto, min(0.4 + 4 * 0.2, sender.MAX_RTO))
        rtt.sample(0.2)
        self.assertAlmostEqual(rtt.rttvar, 0.75 * 0.2 + 0.25 * 0.2)
        self.assertAlmostEqual(rtt.srtt, 0.875 * 0.4 + 0.125 * 0.2)

    def test_floor_and_backoff_cap(self):
        rtt = sender.RttEstimator()
        for _ in range(20):
            rtt.sample(0.001)
        self.assertEqual(rtt.rto, sender.MIN_RTO)
        for _ in range(10):
            rtt.backoff()
        self.assertEqual(rtt.rto, sender.MAX_RTO)



class FakeSocket:
    """Records the seqnos the sender sends."""

    def __init__(self):
        self.sent = []

    def send(self, datagram):
        self.sent.append(rudp.parse(datagram).seqno)


class SenderLogicTest(unittest.TestCase):
    """The sender's reactions to acks and timers, without a network: a fake
    socket records what is sent, a fake clock is moved by hand."""

    RTT = 0.010  # the round-trip time of start, the first sample

    def sender(self, sack=False, packets=20):
        """A sender whose start was acked after RTT: packets 1..5 are out."""
        data = b"x" * (rudp.max_payload("data", 100) * packets)
        stream = io.BufferedReader(io.BytesIO(data))
        self.sock = FakeSocket()
        self.now = 0.0
        s = sender.Sender(self.sock, stream, sack, False, 60, first_seqno=0, clock=lambda: self.now)
        s.fill_window()
        self.assertEqual(self.sock.sent, [0])  # start goes alone (RUDP-11)
        self.now = self.RTT
        self.ack(s, 1)
        s.fill_window()
        if packets >= 5:
            self.assertEqual(self.sock.sent, [1, 2, 3, 4, 5])
        self.assertAlmostEqual(s.rtt.srtt, self.RTT)
        return s

    def ack(self, s, cum, sacks=None):
        self.sock.sent.clear()
        s.on_ack(rudp.parse(rudp.encode_ack(cum, sacks)))
        return self.sock.sent

    def wait(self, s, seconds):
        """Let ``seconds`` pass, running the timers that fall due."""
        self.sock.sent.clear()
        self.now += seconds
        while s.run_timers(self.now):
            pass
        return self.sock.sent

    def test_window_of_five(self):  # RUDP-40
        s = self.sender()
        self.ack(s, 3)
        s.fill_window()
        self.assertEqual(self.sock.sent, [6, 7])  # seqnos below 3 + 5 only

    def test_fast_retransmit_on_third_duplicate(self):  # RUDP-42
        s = self.sender()
        self.now += 0.001  # too soon for RACK: only the count can tell
        self.assertEqual(self.ack(s, 1), [])
        self.assertEqual(self.ack(s, 1), [])
        self.assertEqual(self.ack(s, 1), [1])  # the 4th identical ack
        self.assertEqual(self.ack(s, 1), [])  # once, not on every later duplicate

    def test_rack_on_first_duplicate_once_overdue(self):  # RUDP-42, RFC 8985
        s = self.sender()
        self.now += 0.002
        self.assertEqual(self.ack(s, 1), [])  # 1 may still be on its way
        overdue = self.RTT + max(self.RTT / 4, 0.002)  # SRTT + max(SRTT/4, 2 ms)
        self.assertAlmostEqual(s.loss_check_at, self.RTT + overdue)
        self.assertEqual(self.wait(s, overdue - 0.003), [])
        self.assertEqual(self.wait(s, 0.002), [1])  # one duplicate was enough
        self.assertLess(s.deadline - self.now, s.rtt.rto + 1e-9)  # the head got a full timeout

    def test_duplicate_long_after_sending_repairs_at_once(self):  # RFC 8985
        s = self.sender()
        self.now += 0.1
        self.assertEqual(self.ack(s, 1), [1])

    def test_tail_loss_probe_once(self):  # RFC 8985 7
        s = self.sender()
        self.now += 0.1
        self.assertEqual(self.ack(s, 1), [1])  # the repair ...
        self.assertEqual(self.wait(s, 2 * self.RTT - 0.001), [])
        self.assertEqual(self.wait(s, 0.002), [1])  # ... got no ack in 2 SRTT: probe it
        self.assertEqual(self.wait(s, 0.05), [])  # once; the timer does the rest
        self.assertEqual(self.wait(s, s.rtt.rto), [1, 2, 3, 4, 5])

    def test_no_probe_after_the_repair_is_acked(self):
        s = self.sender()
        self.now += 0.1
        self.assertEqual(self.ack(s, 1), [1])
        self.now += 0.005
        self.ack(s, 6)
        self.assertEqual(self.wait(s, 0.05), [])

    def test_stale_and_impossible_acks_are_ignored(self):
        s = self.sender()
        self.ack(s, 3)
        for cum in (2, 9):
            self.assertEqual(self.ack(s, cum), [])
        self.assertEqual((s.base, s.dupacks), (3, 0))

    def test_timeout_without_sack_is_go_back_n(self):  # RUDP-41, RUDP-43
        s = self.sender()
        self.now += 0.005
        self.ack(s, 3)
        s.fill_window()
        self.assertEqual(self.wait(s, s.rtt.rto), [3, 4, 5, 6, 7])  # never 1 or 2: acked

    def test_backoff_only_when_no_ack_came(self):  # RUDP-41
        s = self.sender()
        base_rto = s.rtt.rto
        self.assertEqual(self.wait(s, base_rto), [1, 2, 3, 4, 5])
        self.assertEqual(s.rtt.rto, base_rto)  # an ack (start's) came before: no doubling
        self.wait(s, base_rto)
        self.assertEqual(s.rtt.rto, 2 * base_rto)  # a silent round: back off
        for _ in range(3):
            self.wait(s, s.rtt.rto)
        self.assertEqual(s.rtt.rto, sender.MAX_RTO)  # the cap
        self.ack(s, 1)  # a duplicate: the path works again
        self.wait(s, sender.MAX_RTO)
        self.assertEqual(s.rtt.rto, base_rto)

    def test_first_timeout_is_500_ms_then_doubles(self):  # RUDP-41
        s = sender.Sender(FakeSocket(), io.BufferedReader(io.BytesIO(b"abc")), False, False, 60,
                          first_seqno=0, clock=lambda: 0.0)
        s.fill_window()
        self.assertEqual(s.deadline, 0.5)
        s.on_timeout()  # start was lost: no ack at all
        self.assertEqual(s.rtt.rto, 1.0)

    def test_timeout_resends_window_but_not_sacked(self):  # RUDP-32
        s = self.sender(sack=True)
        self.now += 0.001
        self.ack(s, 1, [3, 4])
        self.assertEqual(self.wait(s, s.rtt.rto), [1, 2, 5])

    def test_lone_packet_goes_twice_on_timeout(self):
        s = self.sender(sack=True)
        self.now += 0.001
        self.ack(s, 1, [2, 3, 5])
        self.assertEqual(self.sock.sent, [1])  # 3 held above: at once (RFC 6675)
        self.ack(s, 4, [5])  # 1 arrived: 1, 2, 3 delivered, 4 missing, 5 held
        self.assertEqual(self.wait(s, s.rtt.rto), [4, 4])

    def test_sack_holes_resent_when_three_later_are_held(self):  # RFC 6675, RUDP-32
        s = self.sender(sack=True)
        self.now += 0.001
        self.assertEqual(self.ack(s, 1, [3, 4]), [])
        self.assertEqual(self.ack(s, 1, [3, 4, 5]), [1, 2])  # both have 3 held above

    def test_sack_hole_below_one_held_once_overdue(self):  # RACK with SACK, RUDP-32
        s = self.sender(sack=True)
        self.now += 0.001
        self.assertEqual(self.ack(s, 1, [3]), [])
        self.assertEqual(self.wait(s, 0.05), [1, 2])  # both holes, never the held 3

    def test_plain_acks_with_sack_flag(self):  # RUDP-30: the receiver may not do SACK
        s = self.sender(sack=True)
        self.now += 0.001
        for _ in range(2):
            self.assertEqual(self.ack(s, 1), [])
        self.assertEqual(self.ack(s, 1), [1])

    def test_end_and_completion(self):  # RUDP-45
        s = self.sender(packets=4)
        end = s.end_seqno
        self.assertEqual(end, 3)
        self.assertEqual(self.sock.sent[-1], end)  # all fits in the first window
        self.ack(s, end)
        self.assertLessEqual(s.base, s.end_seqno)  # not done: end itself is not acked
        self.ack(s, end + 1)
        self.assertGreater(s.base, s.end_seqno)  # run() stops here
        self.assertEqual((s.in_flight, s.deadline), ({}, None))  # timer stopped


if __name__ == "__main__":
    unittest.main()
