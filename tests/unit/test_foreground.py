"""Background work gives way to model requests a user waits for (`foreground`)."""

from __future__ import annotations

import threading
import time

import pytest

from codeassist_lsp import foreground
from codeassist_lsp.foreground import MODEL_REQUESTS, Running, give_way


def test_nothing_running_means_no_wait() -> None:
    start = time.monotonic()
    give_way()
    assert time.monotonic() - start < 0.05


def test_background_work_waits_until_the_request_ends() -> None:
    ended = threading.Event()

    def request() -> None:
        with MODEL_REQUESTS.one():
            time.sleep(0.3)
            ended.set()

    thread = threading.Thread(target=request)
    thread.start()
    time.sleep(0.05)
    give_way()
    assert ended.is_set()
    thread.join()


def test_a_request_that_never_ends_holds_background_work_for_the_limit_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(foreground, "GIVE_WAY_S", 0.2)
    with MODEL_REQUESTS.one():
        start = time.monotonic()
        give_way()
        waited = time.monotonic() - start
    assert 0.15 < waited < 2


def test_stopping_ends_the_wait() -> None:
    stop = threading.Event()
    running = Running()
    with running.one():
        threading.Timer(0.1, stop.set).start()
        start = time.monotonic()
        running.wait_none(stop, 10)
        assert time.monotonic() - start < 5
