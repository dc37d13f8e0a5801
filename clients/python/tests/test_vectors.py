"""The suite's language-neutral RUDP vectors (spec/vectors/README.md).

tests/vectors/ holds copies, because `docker build` sees only this folder.
Run in the repository, the test also checks that they are up to date."""

import base64
import json
import os
import tempfile
import unittest
from unittest import mock

import receiver
import rudp

HERE = os.path.dirname(os.path.abspath(__file__))
SPEC = os.path.join(HERE, "..", "..", "..", "spec", "vectors")


def load(name: str) -> dict:
    with open(os.path.join(HERE, "vectors", name), "rb") as f:
        return json.load(f)


def raw(byte_string: dict) -> bytes:
    return base64.b64decode(byte_string["base64"])


class CopiesTest(unittest.TestCase):
    @unittest.skipUnless(os.path.isdir(SPEC), "not inside the repository")
    def test_copies_are_up_to_date(self):
        for name in ("datagrams.json", "receiver.json"):
            with open(os.path.join(SPEC, name), "rb") as spec, \
                 open(os.path.join(HERE, "vectors", name), "rb") as copy:
                self.assertTrue(spec.read() == copy.read(),
                                f"tests/vectors/{name} differs from spec/vectors: copy it again")


class DatagramVectorsTest(unittest.TestCase):
    def test_datagrams(self):
        for vector in load("datagrams.json")["vectors"]:
            with self.subTest(vector["name"]):
                datagram = raw(vector["datagram"])
                if not vector["valid"]:
                    with self.assertRaises(rudp.MalformedDatagram) as caught:
                        rudp.parse(datagram)
                    self.assertEqual(caught.exception.error, vector["error"])
                    continue
                expected = vector["packet"]
                packet = rudp.parse(datagram)
                self.assertEqual(packet.type, expected["type"])
                self.assertEqual(packet.seqno, int(expected["seqno"]))
                self.assertEqual(packet.data, raw(expected["data"]) if "data" in expected else b"")
                self.assertEqual(packet.sacks, tuple(int(s) for s in expected.get("sacks", [])))
                if vector.get("canonical"):
                    self.assertEqual(encode(packet), datagram)


def encode(packet: rudp.Packet) -> bytes:
    if packet.type == "ack":
        return rudp.encode_ack(packet.seqno)
    if packet.type == "sack":
        return rudp.encode_ack(packet.seqno, list(packet.sacks))
    return rudp.encode(packet.type, packet.seqno, packet.data)


class FakeSocket:
    """Stands in for the receiver's UDP socket: records what it sends."""

    def __init__(self):
        self.sent = []

    def sendto(self, datagram, address):
        self.sent.append((datagram, address))


def address(text: str) -> tuple:
    """"10.0.0.1:5000" or "[2001:db8::1]:6000" -> ("10.0.0.1", 5000)"""
    host, _, port = text.rpartition(":")
    return host.strip("[]"), int(port)


class ReceiverVectorsTest(unittest.TestCase):
    """Runs each script through Receiver.handle with a fake clock and socket."""

    def test_scripts(self):
        for script in load("receiver.json")["vectors"]:
            with self.subTest(script["name"]), tempfile.TemporaryDirectory() as outdir:
                self.run_script(script, outdir)

    def run_script(self, script: dict, outdir: str) -> None:
        now = [1000.0]
        cwd = os.getcwd()
        os.chdir(outdir)  # the receiver writes into the current directory
        try:
            with mock.patch("time.monotonic", lambda: now[0]):
                sock = FakeSocket()
                rx = receiver.Receiver(sock, script["idle_timeout_ms"] / 1000, script["sack"], False)
                for i, step in enumerate(script["steps"]):
                    now[0] = 1000.0 + step["at_ms"] / 1000
                    rx.drop_idle()  # what the receive loop does at least once a second
                    rx.handle(raw(step["datagram"]), address(step["from"]))
                    expected = [(raw(step["ack"]), address(step["from"]))] if step["ack"] else []
                    self.assertEqual(sock.sent, expected, f"step {i}: {step.get('note', '')}")
                    sock.sent.clear()
                rx.close()
        finally:
            os.chdir(cwd)
        files = {}
        for name in os.listdir(outdir):
            with open(os.path.join(outdir, name), "rb") as f:
                files[name] = f.read()
        self.assertEqual(files, {f["name"]: raw(f["content"]) for f in script["files"]})


if __name__ == "__main__":
    unittest.main()
