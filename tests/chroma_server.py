"""A real Chroma server (``chroma run``, shipped with chromadb) for tests and benchmarks."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


def free_port() -> int:
    """A loopback port free right now (for a server that cannot be told to pick one)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class ChromaServer:
    """A running ``chroma run`` server."""

    url: str
    pid: int


@contextmanager
def chroma_server(directory: Path) -> Iterator[ChromaServer]:
    """A ``chroma run`` server on a free loopback port for the duration."""
    executable = shutil.which("chroma") or str(Path(sys.executable).with_name("chroma"))
    if not Path(executable).exists():
        raise RuntimeError("the 'chroma' command (shipped with chromadb) is not installed")
    log_path = directory / "chroma.log"
    for _ in range(3):  # the free port may be taken between choosing and binding it
        port = free_port()
        command = [executable, "run", "--path", str(directory / "chroma"), "--host", "127.0.0.1"]
        with log_path.open("w") as log:
            process = subprocess.Popen(
                [*command, "--port", str(port)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={
                    "PATH": "/usr/bin:/bin",
                    "ANONYMIZED_TELEMETRY": "False",
                    "HOME": str(directory),
                },
            )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and process.poll() is None:
                try:
                    with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1) as response:
                        if response.status == 200:
                            break
                except OSError:
                    time.sleep(0.3)
            else:
                continue
            yield ChromaServer(url, process.pid)
            return
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    raise RuntimeError(f"chroma run did not start: {log_path.read_text()[-500:]}")
