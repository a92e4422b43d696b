"""What this machine has: RAM, physical cores, this process's resident memory (Linux /proc).

Top level, not under llm/, because the index sizes its embedder threads from it too and
index/ must not import llm/.
"""

from __future__ import annotations

import os
from pathlib import Path

_MEMINFO = Path("/proc/meminfo")


def _meminfo_bytes(key: str) -> int | None:
    try:
        for line in _MEMINFO.read_text().splitlines():
            name, _, rest = line.partition(":")
            if name == key:
                return int(rest.split()[0]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def total_ram() -> int:
    """Physical RAM in bytes (0 when unknown)."""
    value = _meminfo_bytes("MemTotal")
    if value is not None:
        return value
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        return 0


def available_ram() -> int | None:
    """RAM that can be had without swapping, or None when unknown."""
    return _meminfo_bytes("MemAvailable")


def physical_cores() -> int:
    """Distinct (package, core) pairs; hyper-threads slow llama.cpp down, so count cores."""
    pairs: set[tuple[str, str]] = set()
    physical = core = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            key = key.strip()
            if key == "physical id":
                physical = value.strip()
            elif key == "core id":
                core = value.strip()
                pairs.add((physical, core))
    except OSError:
        pairs = set()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    cores = len(pairs) or os.cpu_count() or 1
    return max(1, min(cores, usable or cores))


def rss_bytes() -> int:
    """Resident memory of this process in bytes (0 when unknown)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return 0
    return 0
