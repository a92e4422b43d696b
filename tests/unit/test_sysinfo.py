from __future__ import annotations

import os

from codeassist_lsp.sysinfo import physical_cores, rss_bytes, total_ram


def test_physical_cores_is_within_the_cpus_this_process_may_use() -> None:
    assert 1 <= physical_cores() <= len(os.sched_getaffinity(0))


def test_memory_figures_are_plausible() -> None:
    assert total_ram() > rss_bytes() > 0
