"""The instrument and voice parts of listening run at the same time, and stop together."""

from __future__ import annotations

import threading

import pytest

from aimv_backend.errors import Cancelled
from aimv_backend.listen import checkpoint, overlap
from aimv_backend.progress import SilentProgress


def test_both_parts_run_at_the_same_time_and_both_results_come_back():
    side_started = threading.Event()

    def side(progress):
        side_started.set()
        return "instruments", threading.current_thread().name

    def main(progress):
        # Would time out if the side part only ran after this one.
        assert side_started.wait(timeout=10)
        return "voice"

    (value, thread), main_value = overlap.run_together(
        side=side, main=main, progress=SilentProgress()
    )
    assert (value, main_value) == ("instruments", "voice")
    assert thread != threading.current_thread().name


def _long_side(steps, running):
    def side(progress):
        task = progress.task("voice", 10_000)
        running.set()
        for _ in range(10_000):
            threading.Event().wait(0.005)
            task.advance()
            steps.append(1)
        return "finished"

    return side


def test_an_interrupted_main_part_stops_the_side_part_at_its_next_step():
    steps: list[int] = []
    side_running = threading.Event()

    def main(progress):
        side_running.wait(timeout=10)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        overlap.run_together(
            side=_long_side(steps, side_running), main=main, progress=SilentProgress()
        )
    count = len(steps)
    assert count < 10_000  # it stopped early...
    threading.Event().wait(0.05)
    assert len(steps) == count  # ...and it has ended: nothing runs after the stage has failed
    assert not [t for t in threading.enumerate() if t.name == "aimv-listen-side"]


def test_a_side_failure_is_raised_after_the_main_part_ends():
    def side(progress):
        raise Cancelled("the tagger failed")

    done = []
    with pytest.raises(Cancelled, match="tagger failed"):
        overlap.run_together(side=side, main=lambda p: done.append(1), progress=SilentProgress())
    assert done == [1]


def test_the_side_part_sees_the_listening_checkpoint(tmp_path):
    with checkpoint.active(tmp_path, "key") as cp:
        seen, _ = overlap.run_together(
            side=lambda p: checkpoint.current(), main=lambda p: None, progress=SilentProgress()
        )
    assert seen is cp


def test_ctrl_c_while_waiting_for_the_side_part_stops_it():
    """The voice became the side part, the longest: the main thread spent most of listening
    waiting for it, and a Ctrl-C there left Whisper running after the stage had failed."""
    import os
    import signal

    steps: list[int] = []
    running = threading.Event()

    def main(progress):
        running.wait(timeout=10)
        threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGINT)).start()  # Ctrl-C
        return "music"

    with pytest.raises(KeyboardInterrupt):
        overlap.run_together(side=_long_side(steps, running), main=main, progress=SilentProgress())
    count = len(steps)
    assert count < 10_000
    threading.Event().wait(0.05)
    assert len(steps) == count
    assert not [t for t in threading.enumerate() if t.name == "aimv-listen-side"]


def test_a_side_failure_stops_the_main_part_at_its_next_step():
    """A voice model that cannot load no longer lets the instrument part run to its end."""
    steps: list[int] = []

    def side(progress):
        raise Cancelled("the recogniser failed")

    def main(progress):
        task = progress.task("instruments", 10_000)
        for _ in range(10_000):
            threading.Event().wait(0.005)
            task.advance()
            steps.append(1)
        return "music"

    with pytest.raises(Cancelled, match="recogniser failed"):
        overlap.run_together(side=side, main=main, progress=SilentProgress())
    assert len(steps) < 1_000
