"""receiver.py as a black box: datagrams in, acks and files out."""

import os
import socket
import tempfile
import time

import rudp
from tests.helpers import ProcessTestCase, program


class ReceiverCase(ProcessTestCase):
    """Starts a receiver in a fresh directory, and a socket to talk to it."""

    sack = False

    def setUp(self):
        self.outdir = tempfile.mkdtemp(prefix="receiver-test-")
        args = ["-p", "0", "-t", "1"] + (["-k"] if self.sack else [])
        self.receiver = self.start(program("receiver.py", *args), cwd=self.outdir)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(self.sock.close)
        self.sock.connect(("127.0.0.1", self.receiver.port))
        self.sock.settimeout(2)
        self.name = "127.0.0.1.%d" % self.sock.getsockname()[1]

    def send(self, kind, seqno, data=b""):
        """Send one packet and return the ack it gets, parsed."""
        self.sock.send(rudp.encode(kind, seqno, data))
        return rudp.parse(self.sock.recv(2048))

    def assert_no_reply(self, datagram):
        self.sock.send(datagram)
        self.sock.settimeout(0.3)
        with self.assertRaises(TimeoutError):
            self.sock.recv(2048)
        self.sock.settimeout(2)

    def files(self):
        return sorted(os.listdir(self.outdir))

    def read(self, name):
        with open(os.path.join(self.outdir, name), "rb") as f:
            return f.read()



class ReceiverTest(ReceiverCase):
    def test_in_order_transfer_with_binary_data(self):
        data = [b"a|b", b"\x00\xff|\n", b"|"]
        self.assertEqual(self.send("start", 10, data[0]).seqno, 11)
        self.assertEqual(self.send("data", 11, data[1]).seqno, 12)
        self.assertEqual(self.files(), [self.name + ".partial"])  # RUDP-15
        self.assertEqual(self.send("end", 12, data[2]).seqno, 13)
        # RUDP-14: complete, closed and renamed before end is acked.
        self.assertEqual(self.files(), [self.name])
        self.assertEqual(self.read(self.name), b"".join(data))
        # RUDP-17: retransmissions of a completed transfer are still acked.
        self.assertEqual(self.send("data", 11, data[1]).seqno, 13)

    def test_out_of_order_window(self):
        self.send("start", 0, b"0")
        self.assertEqual(self.send("data", 3, b"3").seqno, 1)  # buffered (RUDP-12)
        self.assertEqual(self.send("data", 6, b"6").seqno, 1)  # outside 1..5: dropped
        self.assertEqual(self.send("data", 2, b"2").seqno, 1)
        self.assertEqual(self.send("data", 1, b"1").seqno, 4)  # 1, 2, 3 delivered
        self.assertEqual(self.send("data", 5, b"5").seqno, 4)
        self.assertEqual(self.send("data", 4, b"4").seqno, 6)
        self.assertEqual(self.send("end", 6, b"").seqno, 7)
        self.assertEqual(self.read(self.name), b"012345")

    def test_plain_acks_without_k(self):
        self.send("start", 0)
        self.assertEqual(self.send("data", 3), rudp.Packet("ack", 1))

    def test_bad_datagrams_are_never_acked(self):
        self.assert_no_reply(rudp.encode("data", 0, b"x"))  # RUDP-11: no start yet
        self.send("start", 0)
        good = rudp.encode("data", 1, b"payload")
        self.assert_no_reply(good.replace(b"payload", b"paylaod"))  # RUDP-8
        self.assert_no_reply(b"garbage")
        self.assert_no_reply(rudp.encode_ack(1))  # not a sender's packet

    def test_idle_transfer_is_dropped_leaving_partial(self):
        self.send("start", 0, b"x")
        time.sleep(1.5)  # -t 1
        self.assert_no_reply(rudp.encode("data", 1, b"y"))  # no transfer any more
        self.assertEqual(self.files(), [self.name + ".partial"])
        self.assertEqual(self.send("start", 0, b"z").seqno, 1)  # a new one

    def test_new_start_after_completion_begins_new_transfer(self):
        self.send("start", 0, b"first")
        self.send("end", 1)
        self.assertEqual(self.send("start", 50, b"second").seqno, 51)  # RUDP-18
        self.send("end", 51)
        self.assertEqual(self.read(self.name), b"second")

    def test_sigterm_exits(self):
        self.receiver.stop()
        self.assertEqual(self.receiver.proc.returncode, 0)


class SackReceiverTest(ReceiverCase):
    sack = True

    def test_sack_lists_buffered_seqnos_ascending(self):  # RUDP-31
        self.assertEqual(self.send("start", 0), rudp.Packet("sack", 1))
        self.assertEqual(self.send("data", 3), rudp.Packet("sack", 1, sacks=(3,)))
        self.assertEqual(self.send("data", 2), rudp.Packet("sack", 1, sacks=(2, 3)))
        self.assertEqual(self.send("data", 1), rudp.Packet("sack", 4))
        self.assertEqual(self.send("end", 4, b"|"), rudp.Packet("sack", 5))
        self.assertEqual(self.files(), [self.name])


