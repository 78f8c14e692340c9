"""The console chat as a real process: Ctrl-C or SIGTERM while it waits for a line ends it
at once with ``stopped`` and exit code 0; end of input still ends it quietly."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO, SAMPLE_CONTENT

HELP = "your training assistant"
WAIT = 60  # seconds; generous for a loaded machine, never reached when the chat stops


def environment(home: Path, index: Path) -> dict[str, str]:
    return {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(REPO),
        "HOME": str(home),
        "TRAINBOT_CONTENT_DIR": str(SAMPLE_CONTENT),
        "TRAINBOT_INDEX_DIR": str(index),
        "TRAINBOT_LANGUAGE": "en",
    }


@pytest.mark.parametrize(
    ("command", "signum"),
    [
        ("chat", signal.SIGINT),
        ("chat", signal.SIGTERM),
        ("run", signal.SIGINT),  # no token set: the console chat with the scheduler
        ("run", signal.SIGTERM),
    ],
    ids=lambda value: value.name if isinstance(value, signal.Signals) else value,
)
def test_a_stop_signal_ends_the_chat_while_it_waits_for_input(
    tmp_path: Path, private_index_dir: Path, command: str, signum: signal.Signals
) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "adapters", command],
        cwd=tmp_path,
        env=environment(tmp_path, private_index_dir),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write("/help\n")
        process.stdin.flush()
        first = process.stdout.readline()
        assert HELP in first, first
        process.send_signal(signum)  # stdin stays open: the chat is waiting for a line
        rest, errors = process.communicate(timeout=WAIT)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, errors
    assert errors.rstrip().endswith("stopped"), errors
    assert "Traceback" not in errors and "Traceback" not in rest


def test_ctrl_c_in_a_terminal_ends_the_chat(tmp_path: Path, private_index_dir: Path) -> None:
    """What a person does: type a line, then press Ctrl-C at the prompt."""
    import pty

    pid, terminal = pty.fork()
    if pid == 0:  # the child: the chat on the pseudo-terminal
        os.chdir(tmp_path)
        os.execve(
            sys.executable,
            [sys.executable, "-m", "adapters", "chat"],
            environment(tmp_path, private_index_dir),
        )
    screen = bytearray()

    def read_until(marker: bytes, *, after: int = 0, seconds: float = WAIT) -> bool:
        deadline = time.monotonic() + seconds
        while marker not in screen[after:] and time.monotonic() < deadline:
            ready, _, _ = select.select([terminal], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(terminal, 4096)
                except OSError:  # the child has gone and closed the terminal
                    break
                if not chunk:
                    break
                screen.extend(chunk)
        return marker in screen[after:]

    status: int | None = None
    try:
        assert read_until(b"> "), screen.decode(errors="replace")
        os.write(terminal, b"/help\n")
        assert read_until(HELP.encode()), screen.decode(errors="replace")
        assert read_until(b"> ", after=screen.index(HELP.encode()))
        os.write(terminal, b"\x03")  # Ctrl-C: the terminal sends SIGINT to the chat
        read_until(b"stopped")
        deadline = time.monotonic() + WAIT
        while status is None and time.monotonic() < deadline:
            done, code = os.waitpid(pid, os.WNOHANG)
            if done:
                status = code
            else:
                read_until(b"\0", seconds=0.2)  # keep the terminal drained
    finally:
        if status is None:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(terminal)
    shown = screen.decode(errors="replace")
    assert status is not None, f"the chat did not stop: {shown}"
    assert os.waitstatus_to_exitcode(status) == 0, shown
    assert "stopped" in shown and "Traceback" not in shown


def test_end_of_input_still_ends_the_chat_quietly(tmp_path: Path, private_index_dir: Path) -> None:
    """A last line without a newline is still answered (a file, then a pipe)."""
    script = tmp_path / "script.txt"
    script.write_text("/help\n/quiz", encoding="utf-8")
    for stdin in ("file", "pipe"):
        with script.open("rb") as source:
            result = subprocess.run(
                [sys.executable, "-m", "adapters", "chat"],
                cwd=tmp_path,
                env=environment(tmp_path, private_index_dir),
                stdin=source if stdin == "file" else None,
                input=None if stdin == "file" else script.read_bytes(),
                capture_output=True,
                timeout=120,
            )
        out, errors = result.stdout.decode(), result.stderr.decode()
        assert result.returncode == 0, errors
        assert HELP in out and "You are not enrolled yet" in out, stdin
        assert "stopped" not in errors, stdin
