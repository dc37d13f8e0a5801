"""Start the programs under test as real processes, the way the suite does."""

import os
import re
import subprocess
import sys
import unittest

APP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def program(name: str, *args: str) -> list[str]:
    return [sys.executable, os.path.join(APP, name), *args]


class ServerProcess:
    """A server or receiver started with port 0; ``port`` is the one it got,
    read from its "listening on ... port N" line on stderr."""

    def __init__(self, argv: list[str], cwd: str | None = None) -> None:
        self.proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        line = self.proc.stderr.readline().decode()
        match = re.search(r"listening on \w+ port (\d+)", line)
        if not match:
            self.stop()
            raise RuntimeError(f"{argv[1]} did not start: {line!r}")
        self.port = int(match.group(1))

    def stop(self) -> tuple[str, str]:
        """SIGTERM, as the suite does; returns (stdout, stderr)."""
        self.proc.terminate()
        out, err = self.proc.communicate(timeout=5)
        return out.decode(), err.decode()


class ProcessTestCase(unittest.TestCase):
    def start(self, argv: list[str], cwd: str | None = None) -> ServerProcess:
        server = ServerProcess(argv, cwd)
        self.addCleanup(lambda: server.proc.poll() is None and server.stop())
        return server
