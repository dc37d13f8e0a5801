"""Naive Hello client: wrong letter case, no newline, one recv."""
import socket
import sys

with socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10) as s:
    s.sendall(b"Hello in naive")
    print(s.recv(1024).decode(errors="replace"))
