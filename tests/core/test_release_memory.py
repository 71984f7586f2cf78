"""Freed heap memory goes back to the system after a stage (glibc keeps it otherwise)."""

from __future__ import annotations

import sys
import threading

import pytest

from aimv_backend.util.memory import release_free_memory


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    import os

    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")
def test_memory_freed_in_a_thread_is_returned():
    survivors = []

    def work():  # as a model run in the listening stage's side thread
        blocks = [bytes(3000) + bytes([i % 256]) for i in range(60_000)]
        survivors.extend(blocks[::50])  # a few live blocks keep the arena from shrinking
        del blocks

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    before = _rss_mb()
    assert release_free_memory() is True
    assert before - _rss_mb() > 100  # of the ~170 MB freed
