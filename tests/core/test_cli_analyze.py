"""``aimv analyze``: a timeline out for good audio; exit 2, one line and nothing lost for bad input."""

from __future__ import annotations

import numpy as np
import pytest

from aimv_timeline.schema import read_timeline
from tests.conftest import sine

RATE = 16000
FAST = ("--instruments", "none", "--no-voice", "--no-describe", "--quiet")


@pytest.fixture
def song(write_wav):
    return write_wav("song.wav", sine(440, 4.0, RATE), RATE)


def _one_line_error(result, *needles):
    assert result.code == 2, result
    lines = [line for line in result.err.splitlines() if line.strip()]
    assert len(lines) == 1, result.err
    assert lines[0].startswith("aimv: error:")
    assert "Traceback" not in result.err
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_analyze_writes_a_valid_timeline(run_aimv, song, tmp_path):
    out = tmp_path / "out"
    result = run_aimv("analyze", song, "-o", out, *FAST)
    assert result.code == 0, result.err
    timeline = read_timeline(out / "timeline.json")
    assert len(timeline.windows) == 4
    assert timeline.source.sha256 and timeline.source.duration == 4.0
    assert "pitch-class-wheel" in timeline.engines["colour"]
    assert timeline.settings["analyze"]["window_seconds"] == 1.0
    assert not list(out.glob(".*tmp*")), "no temporary files left behind"


def test_rerun_is_cached_and_other_settings_need_force(run_aimv, song, tmp_path):
    out = tmp_path / "out"
    assert run_aimv("analyze", song, "-o", out, *FAST).code == 0
    path = out / "timeline.json"
    before = path.read_bytes()
    mtime = path.stat().st_mtime_ns
    assert run_aimv("analyze", song, "-o", out, *FAST).code == 0
    assert path.stat().st_mtime_ns == mtime
    result = run_aimv("analyze", song, "-o", out, *FAST, "--window", "2")
    _one_line_error(result, "exists", "--force")
    assert path.read_bytes() == before
    assert run_aimv("analyze", song, "-o", out, *FAST, "--window", "2", "--force").code == 0
    assert len(read_timeline(path).windows) == 2


def test_existing_timeline_from_another_song_is_not_overwritten(
    run_aimv, song, write_wav, tmp_path
):
    out = tmp_path / "out"
    assert run_aimv("analyze", song, "-o", out, *FAST).code == 0
    before = (out / "timeline.json").read_bytes()
    other = write_wav("other.wav", sine(330, 4.0, RATE), RATE)
    _one_line_error(run_aimv("analyze", other, "-o", out, *FAST), "another song")
    assert (out / "timeline.json").read_bytes() == before


def _bad_inputs(tmp_path, write_wav):
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"\x00\x01 definitely not audio " * 64)
    good = write_wav("good.wav", sine(440, 2.0, RATE), RATE, subtype="PCM_16")
    truncated_header = tmp_path / "th.wav"
    truncated_header.write_bytes(good.read_bytes()[:20])
    truncated_data = tmp_path / "td.wav"
    truncated_data.write_bytes(good.read_bytes()[: 44 + RATE])
    zero = write_wav("zero.wav", np.zeros(0, np.float32), RATE)
    short = write_wav("short.wav", sine(440, 0.5, RATE), RATE)
    nan = sine(440, 2.0, RATE)
    nan[100] = np.nan
    nan_path = write_wav("nan.wav", nan, RATE, subtype="FLOAT")
    return {
        "missing": (tmp_path / "missing.wav", "does not exist"),
        "folder": (tmp_path, "is a folder"),
        "empty": (empty, "empty"),
        "junk": (junk, "not audio"),
        "truncated header": (truncated_header, "th.wav"),
        "truncated data": (truncated_data, "truncated"),
        "zero length": (zero, "no audio"),
        "shorter than a window": (short, "shorter than one window"),
        "nan": (nan_path, "NaN"),
    }


@pytest.mark.parametrize(
    "case",
    [
        "missing",
        "folder",
        "empty",
        "junk",
        "truncated header",
        "truncated data",
        "zero length",
        "shorter than a window",
        "nan",
    ],
)
def test_bad_audio_exits_2_with_one_line_and_keeps_existing_output(
    run_aimv, write_wav, tmp_path, song, case
):
    out = tmp_path / "out"
    assert run_aimv("analyze", song, "-o", out, *FAST).code == 0
    before = (out / "timeline.json").read_bytes()
    path, needle = _bad_inputs(tmp_path, write_wav)[case]
    _one_line_error(run_aimv("analyze", path, "-o", out, *FAST, "--force"), needle)
    assert (out / "timeline.json").read_bytes() == before


@pytest.mark.parametrize("window", ["0.1", "11", "nan", "abc", "-1"])
def test_invalid_window_is_refused(run_aimv, song, tmp_path, window):
    result = run_aimv("analyze", song, "-o", tmp_path / "o", *FAST, "--window", window)
    assert result.code == 2
    assert "--window" in result.err and "Traceback" not in result.err
    assert not (tmp_path / "o" / "timeline.json").exists()


def test_unwritable_output_folder(run_aimv, song, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the output folder should be")
    _one_line_error(run_aimv("analyze", song, "-o", blocker / "out", *FAST), "cannot be created")
    _one_line_error(run_aimv("analyze", song, "-o", blocker, *FAST), "not a folder")
    assert blocker.read_text().startswith("a file")


def test_progress_json_lines_for_tools(run_aimv, song, tmp_path):
    result = run_aimv(
        "analyze",
        song,
        "-o",
        tmp_path / "o",
        "--instruments",
        "none",
        "--no-voice",
        "--no-describe",
        "--progress",
        "json",
    )
    assert result.code == 0
    events = [line for line in result.err.splitlines() if line.startswith("AIMV-PROGRESS ")]
    assert any('"event": "progress"' in e and '"done": 4' in e for e in events)


def test_going_offline_does_not_invalidate_the_cached_timeline(run_aimv, song, tmp_path):
    out = tmp_path / "out"
    args = ("analyze", song, "-o", out, "--instruments", "musicnn", "--asr", "none", "--quiet")
    assert run_aimv(*args).code == 0
    mtime = (out / "timeline.json").stat().st_mtime_ns
    result = run_aimv(*args, "--offline")
    assert result.code == 0, result.err
    assert (out / "timeline.json").stat().st_mtime_ns == mtime


def test_a_folder_where_the_timeline_goes_is_one_line(run_aimv, song, tmp_path):
    out = tmp_path / "out"
    (out / "timeline.json").mkdir(parents=True)
    result = run_aimv("analyze", song, "-o", out, *FAST, "--force")
    _one_line_error(result, "timeline.json")
    assert (out / "timeline.json").is_dir()


def test_bad_vectors_fail_before_listening_and_leave_no_folder(run_aimv, song, tmp_path):
    result = run_aimv("analyze", song, "-o", tmp_path / "w", "--vectors", "no-such", "--offline")
    assert result.code == 2 and "--vectors" in result.err
    assert "volume+colour" not in result.err  # nothing was listened to
    assert not (tmp_path / "w").exists()


def test_windows_on_bars_without_a_beat_tracker_is_one_line(run_aimv, song, tmp_path):
    result = run_aimv(
        "analyze", song, "-o", tmp_path / "out", "--windows", "bars", "--beats", "none", *FAST
    )
    _one_line_error(result, "--windows bars needs beat tracking")
    assert not (tmp_path / "out" / "timeline.json").exists()


def test_rhythm_is_recorded_and_none_leaves_it_null(run_aimv, song, tmp_path):
    result = run_aimv("analyze", song, "-o", tmp_path / "a", *FAST)
    assert result.code == 0, result.err
    timeline = read_timeline(tmp_path / "a" / "timeline.json")
    assert timeline.engines["rhythm"] == "onset" and timeline.rhythm is not None
    assert timeline.settings["analyze"]["windows"] == "seconds"
    result = run_aimv("analyze", song, "-o", tmp_path / "b", "--beats", "none", *FAST)
    assert result.code == 0, result.err
    timeline = read_timeline(tmp_path / "b" / "timeline.json")
    assert timeline.rhythm is None and "rhythm" not in timeline.engines
