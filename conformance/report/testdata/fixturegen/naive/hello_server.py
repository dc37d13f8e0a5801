"""Naive Hello server: serves exactly one client, then exits."""
import socket
import sys

srv = socket.create_server(("", int(sys.argv[1])))
conn, _ = srv.accept()
with conn:
    conn.settimeout(5)
    data = b""
    try:
        while not data.endswith(b"\n"):
            chunk = conn.recv(1024)
            if not chunk:
                break
            data += chunk
    except socket.timeout:
        pass
    print(data.decode(errors="replace").strip(), flush=True)
    conn.sendall(b"Goodbye in Naive\n")
