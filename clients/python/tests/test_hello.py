"""hello.py as a black box: real client and server processes on 127.0.0.1."""

import socket
import subprocess
import threading
import time

import hello
from tests.helpers import ProcessTestCase, program


def exchange(port: int, message: bytes, half_close: bool = False) -> bytes:
    """Play a client by hand: send ``message``, return everything the server sends."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(message)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        reply = b""
        while chunk := sock.recv(4096):
            reply += chunk
        return reply


class ServerTest(ProcessTestCase):
    def test_strict_exchange(self):
        server = self.start(program("hello.py", "server", "0"))
        self.assertEqual(exchange(server.port, b"Hello in C\n"), b"Goodbye in Python\n")
        out, _ = server.stop()
        self.assertEqual(out, "Hello in C\n")

    def test_lenient_endings(self):  # HELLO-2, HELLO-15
        server = self.start(program("hello.py", "server", "0"))
        started = time.monotonic()
        self.assertEqual(exchange(server.port, b"Hello in A"), b"Goodbye in Python\n")  # idle gap
        self.assertGreaterEqual(time.monotonic() - started, hello.IDLE_GAP)
        self.assertEqual(exchange(server.port, b"Hello in B", half_close=True), b"Goodbye in Python\n")
        self.assertEqual(exchange(server.port, b"Hello in C\r\n\0\0"), b"Goodbye in Python\n")
        out, _ = server.stop()
        self.assertEqual(out.splitlines(), ["Hello in A", "Hello in B", "Hello in C"])

    def test_silent_client_blocks_nobody(self):  # HELLO-14
        server = self.start(program("hello.py", "server", "0"))
        with socket.create_connection(("127.0.0.1", server.port)):  # says nothing
            started = time.monotonic()
            self.assertEqual(exchange(server.port, b"Hello in Go\n"), b"Goodbye in Python\n")
            self.assertLess(time.monotonic() - started, 1)

    def test_challenge(self):  # HELLO-20, HELLO-21
        server = self.start(program("hello.py", "server", "0", "--challenge"))
        self.assertEqual(exchange(server.port, b"Hello in Rust\n"), b"Goodbye Rust from Python\n")
        self.assertEqual(exchange(server.port, b"hi there\n"), b"Goodbye hi there from Python\n")
        out, _ = server.stop()
        self.assertEqual(out.splitlines(), ["127.0.0.1", "Hello in Rust", "127.0.0.1", "hi there"])


class ClientTest(ProcessTestCase):
    def serve_once(self, reply: bytes, wait_for_eof: bool = False) -> tuple[int, list]:
        """A one-shot server in a thread; returns its port and, later, what it got."""
        listener = socket.create_server(("127.0.0.1", 0))
        self.addCleanup(listener.close)
        received = []

        def serve():
            conn, _ = listener.accept()
            with conn:
                data = conn.recv(4096)
                while wait_for_eof and (chunk := conn.recv(4096)):
                    data += chunk
                received.append(data)
                conn.sendall(reply)

        threading.Thread(target=serve, daemon=True).start()
        return listener.getsockname()[1], received

    def run_client(self, port: int, host: str = "127.0.0.1") -> subprocess.CompletedProcess:
        return subprocess.run(program("hello.py", "client", host, str(port)),
                              capture_output=True, text=True, timeout=20)

    def test_strict_exchange_with_host_name(self):  # HELLO-1, HELLO-5, HELLO-7
        port, received = self.serve_once(b"Goodbye in Go\n")
        client = self.run_client(port, host="localhost")
        self.assertEqual((client.returncode, client.stdout), (0, "Goodbye in Go\n"), client.stderr)
        self.assertEqual(received, [b"Hello in Python\n"])

    def test_reply_without_newline(self):  # HELLO-2
        port, _ = self.serve_once(b"Goodbye in Go")
        client = self.run_client(port)
        self.assertEqual((client.returncode, client.stdout), (0, "Goodbye in Go\n"), client.stderr)

    def test_server_that_waits_for_eof(self):
        port, received = self.serve_once(b"Goodbye in Go\n", wait_for_eof=True)
        client = self.run_client(port)
        self.assertEqual((client.returncode, client.stdout), (0, "Goodbye in Go\n"), client.stderr)

    def test_no_server(self):  # HELLO-8
        with socket.create_server(("127.0.0.1", 0)) as unused:
            port = unused.getsockname()[1]
        client = self.run_client(port)
        self.assertEqual(client.returncode, 1)
        self.assertIn("could not connect", client.stderr)
