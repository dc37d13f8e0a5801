"""Hello Internet over TCP: the client and the server (spec/hello.md).

Usage: hello.py client HOST PORT
       hello.py server PORT [--challenge]

We send a message as one UTF-8 line ending in "\\n" (HELLO-1). We receive
leniently (HELLO-2): a message also ends when the peer closes its side, or
when it has sent something and then stays quiet for a second, because some
programs never send the newline.
"""

import argparse
import ipaddress
import signal
import socket
import sys
import threading
import time

LANGUAGE = "Python"
IDLE_GAP = 1.0  # HELLO-2: a pause this long after some bytes ends a message
TIMEOUT = 10.0  # the longest a whole exchange may take, connecting included
HALF_CLOSE_DELAY = 3.0  # client: still no reply after this? half-close (see run_client)
LINGER = 2.0  # server: how long to wait for the client to close after the reply
MAX_MESSAGE = 64 * 1024  # longer messages are cut here

print_lock = threading.Lock()  # keeps the lines of concurrent clients apart


def read_message(sock: socket.socket, deadline: float) -> bytes:
    """Read one message leniently (HELLO-2): up to "\\n", the peer's close,
    or an idle gap after some bytes. Returns b"" if the peer closed before
    sending anything; raises TimeoutError if nothing arrived by ``deadline``
    (a time.monotonic() value)."""
    data = b""
    while b"\n" not in data and len(data) < MAX_MESSAGE:
        remaining = max(deadline - time.monotonic(), 0.001)
        sock.settimeout(min(remaining, IDLE_GAP) if data else remaining)
        try:
            chunk = sock.recv(4096)
        except TimeoutError:
            if not data:
                raise
            break  # the idle gap (or the deadline) ends a message without "\n"
        except ConnectionResetError:
            if not data:
                raise
            break  # a peer that closes with unread input resets: what came is intact
        if not chunk:  # the peer closed (or half-closed) its side
            break
        data += chunk
    return data.split(b"\n", 1)[0][:MAX_MESSAGE]


def text(message: bytes) -> str:
    """The text of a message without surrounding whitespace such as "\\r\\n"
    (HELLO-15) or NUL padding (C programs that send their whole buffer)."""
    return message.decode("utf-8", errors="replace").strip(" \t\r\n\v\f\0")


# ---- client -------------------------------------------------------------------

def run_client(host: str, port: int) -> int:
    deadline = time.monotonic() + TIMEOUT
    try:
        # HELLO-5: create_connection resolves host names and tries each address.
        sock = socket.create_connection((host, port), timeout=TIMEOUT)
    except socket.gaierror as e:
        return fail(f"could not resolve host {host}: {e.strerror}")
    except OSError as e:  # HELLO-8: refused, unreachable, timed out...
        return fail(f"could not connect to {host} port {port}: {e.strerror or e}")
    with sock:
        try:
            sock.sendall(f"Hello in {LANGUAGE}\n".encode())  # HELLO-1, HELLO-3
            try:  # HELLO-6
                reply = read_message(sock, min(deadline, time.monotonic() + HALF_CLOSE_DELAY))
            except TimeoutError:
                # No reply yet: maybe the server reads until end of file before it
                # answers. A half-close gives it that EOF and still lets us read.
                sock.shutdown(socket.SHUT_WR)
                reply = read_message(sock, deadline)
        except TimeoutError:
            return fail(f"no reply from {host} port {port} within {TIMEOUT:g} s")
        except OSError as e:
            return fail(f"connection to {host} port {port} failed: {e.strerror or e}")
    if not reply:
        return fail(f"{host} port {port} closed the connection without replying")
    print(text(reply), flush=True)  # HELLO-7
    return 0


def fail(message: str) -> int:
    print(f"hello client: {message}", file=sys.stderr)
    return 1


# ---- server -------------------------------------------------------------------

def challenge_reply(message: str) -> str:
    """HELLO-20: "Goodbye X from Python" for "Hello in X" (first two words in
    any case); for any other message X is the whole message, so the client
    sees what we understood."""
    words = message.split()
    if len(words) >= 3 and [w.lower() for w in words[:2]] == ["hello", "in"]:
        words = words[2:]
    return " ".join(["Goodbye", *words, "from", LANGUAGE]) + "\n"


def peer_ip(address: tuple) -> str:
    """The client's IP; on a dual-stack socket IPv4 clients appear as ::ffff:a.b.c.d."""
    ip = ipaddress.ip_address(address[0])
    return str(ip.ipv4_mapped or ip) if ip.version == 6 else str(ip)


def serve_client(conn: socket.socket, address: tuple, challenge: bool) -> None:
    """Serve one connection, in its own thread (HELLO-14)."""
    ip = peer_ip(address)
    with conn:
        try:
            message = read_message(conn, time.monotonic() + TIMEOUT)
        except OSError as e:  # TimeoutError included: a silent client
            log(f"{ip}: no message: {e}")
            return
        if not message:
            log(f"{ip}: closed without a message")
            return
        output = text(message) + "\n"  # HELLO-11
        reply = f"Goodbye in {LANGUAGE}\n"  # HELLO-4
        if challenge:
            output = f"{ip}\n{output}"  # HELLO-21
            reply = challenge_reply(text(message))  # HELLO-20
        with print_lock:  # printed before the reply goes out
            sys.stdout.write(output)
            sys.stdout.flush()
        try:
            conn.sendall(reply.encode())
            # HELLO-12: reply, then close. Closing with unread input would make
            # the kernel reset the connection, which can destroy the reply before
            # the client reads it. So: half-close, read until the client closes
            # (or LINGER passes), then close.
            conn.shutdown(socket.SHUT_WR)
            deadline = time.monotonic() + LINGER
            while (remaining := deadline - time.monotonic()) > 0:
                conn.settimeout(remaining)
                if not conn.recv(4096):
                    break
        except OSError as e:
            if not isinstance(e, TimeoutError):
                log(f"{ip}: {e}")


def log(message: str) -> None:
    print(f"hello server: {message}", file=sys.stderr, flush=True)


def listen(port: int) -> socket.socket:
    """HELLO-10: listen on all addresses, IPv6 and IPv4 if the host can."""
    if socket.has_dualstack_ipv6():
        try:
            return socket.create_server(("::", port), family=socket.AF_INET6,
                                        dualstack_ipv6=True, backlog=128)
        except OSError:
            pass  # e.g. IPv6 disabled in this container: IPv4 only
    return socket.create_server(("", port), backlog=128)


def run_server(port: int, challenge: bool) -> int:
    try:
        server = listen(port)
    except OSError as e:
        log(f"cannot listen on TCP port {port}: {e.strerror}")
        return 1
    log(f"listening on TCP port {server.getsockname()[1]}")  # the real one, also for port 0
    with server:
        while True:  # HELLO-13: serve forever
            try:
                conn, address = server.accept()
            except OSError as e:  # e.g. out of file descriptors: try again soon
                log(f"accept: {e}")
                time.sleep(0.1)
                continue
            # Daemon threads do not keep the program alive when it is stopped.
            worker = threading.Thread(target=serve_client, args=(conn, address, challenge),
                                      daemon=True)
            try:
                worker.start()
            except RuntimeError as e:  # too many threads (the sandbox caps them)
                log(f"{peer_ip(address)}: dropped: {e}")
                conn.close()


# ---- command line ---------------------------------------------------------------

def port_number(text: str) -> int:
    """argparse type for a port: an integer 0-65535 (0: let the kernel pick)."""
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0-65535)")
    return int(text)


def main() -> int:
    parser = argparse.ArgumentParser(description="Hello Internet over TCP.")
    roles = parser.add_subparsers(dest="role", required=True)  # HELLO-30
    client = roles.add_parser("client", help="send Hello, print the reply")
    client.add_argument("host", help="server host name or IP address")
    client.add_argument("port", type=port_number)
    server = roles.add_parser("server", help="answer clients, concurrently, forever")
    server.add_argument("port", type=port_number)
    server.add_argument("--challenge", action="store_true",
                        help='reply "Goodbye <ClientLanguage> from Python", print client IPs')
    args = parser.parse_args()

    if args.role == "client":
        return run_client(args.host, args.port)
    # As PID 1 in a container, a process without a handler ignores SIGTERM.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        return run_server(args.port, args.challenge)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
