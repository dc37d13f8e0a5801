"""End to end: sender.py -> unreliable network -> receiver.py, files compared
byte for byte. The network is tests/relay.py on 127.0.0.1."""

import os
import subprocess
import tempfile
import time

import rudp
from tests.helpers import ProcessTestCase, program
from tests.relay import LossyRelay

ONE_PACKET = rudp.max_payload("start", 0)  # payload of a full start packet


class TransferTest(ProcessTestCase):
    sack = False

    def transfer(self, data: bytes, seed: int = 1, timeout: float = 60, **network) -> float:
        """Send ``data`` through a relay with the given faults; check it arrived
        intact and return how long it took."""
        flags = ["-k"] if self.sack else []
        outdir = tempfile.mkdtemp(prefix="transfer-test-")
        receiver = self.start(program("receiver.py", "-p", "0", *flags), cwd=outdir)
        relay = LossyRelay(receiver.port, seed, **network)
        self.addCleanup(relay.close)
        source = os.path.join(outdir, "input.partial")  # *.partial: ignored by the check below
        with open(source, "wb") as f:
            f.write(data)
        started = time.monotonic()
        sender = subprocess.run(
            program("sender.py", "-a", "127.0.0.1", "-p", str(relay.port), "-f", source, *flags),
            capture_output=True, timeout=timeout)
        elapsed = time.monotonic() - started
        self.assertEqual(sender.returncode, 0, sender.stderr.decode())
        self.assertEqual(sender.stdout, b"")  # stdout stays quiet
        outputs = [n for n in os.listdir(outdir) if not n.endswith(".partial")]
        self.assertEqual(len(outputs), 1, outputs)  # MANIFEST-11
        with open(os.path.join(outdir, outputs[0]), "rb") as f:
            self.assertTrue(f.read() == data, "received file differs from the input")
        return elapsed

    def test_sizes_on_a_perfect_network(self):
        for size in (0, 1, ONE_PACKET, ONE_PACKET + 1, 300_000):
            with self.subTest(size=size):
                self.transfer(os.urandom(size))

    def test_loss_duplication_reordering_corruption(self):
        self.transfer(os.urandom(150_000), seed=2, loss=0.1, duplicate=0.05,
                      corrupt=0.05, reorder=0.1)

    def test_heavy_loss(self):
        self.transfer(os.urandom(40_000), seed=3, loss=0.4)

    def test_blackout(self):
        elapsed = self.transfer(os.urandom(100_000), seed=4, blackout=(20, 3.0))
        self.assertGreater(elapsed, 3.0)  # it really went through the blackout


class SackTransferTest(TransferTest):
    sack = True


class GiveUpTest(ProcessTestCase):
    def test_gives_up_without_a_receiver(self):
        sender = subprocess.run(
            program("sender.py", "-a", "127.0.0.1", "-p", "9", "--give-up", "1.5"),
            input=b"data", capture_output=True, timeout=20)
        self.assertEqual(sender.returncode, 1)
        self.assertIn(b"giving up", sender.stderr)
