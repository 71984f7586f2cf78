"""``aimv analyze``: a timeline out for good audio; exit 2, one line and nothing lost for bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest

from aimv_timeline.events import PREFIX
from aimv_timeline.names import TIMELINE_FILE
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
    timeline = read_timeline(out / TIMELINE_FILE)
    assert len(timeline.windows) == 4
    assert timeline.source.sha256 and timeline.source.duration == 4.0
    assert "pitch-class-wheel" in timeline.engines["colour"]
    assert timeline.settings["listen"]["window_seconds"] == 1.0
    assert not list(out.glob(".*tmp*")), "no temporary files left behind"


def test_rerun_is_cached_and_other_settings_need_force(run_aimv, song, tmp_path):
    out = tmp_path / "out"
    assert run_aimv("analyze", song, "-o", out, *FAST).code == 0
    path = out / TIMELINE_FILE
    before = path.read_bytes()
    mtime = path.stat().st_mtime_ns
    again = run_aimv("analyze", song, "-o", out, *FAST[:-1])  # not --quiet
    assert again.code == 0 and path.stat().st_mtime_ns == mtime
    assert "listening (reused: the same song and settings)" in again.err  # nothing was heard
    result = run_aimv("analyze", song, "-o", out, *FAST, "--window", "2")
    _one_line_error(result, "exists", "--force")
    assert path.read_bytes() == before
    assert run_aimv("analyze", song, "-o", out, *FAST, "--window", "2", "--force").code == 0
    assert len(read_timeline(path).windows) == 2


def test_a_rerun_says_which_stages_it_reused(run_aimv, song, tmp_path):
    """The stage lines of a re-run say the listening and the sentences were reused; new
    describe settings describe again, and their line says nothing of reuse."""
    out = tmp_path / "out"
    args = ("listen", song, "-o", out, "--instruments", "none", "--no-voice")
    assert run_aimv(*args).code == 0
    again = run_aimv(*args)
    assert again.code == 0
    assert "[1/2] listening (reused: the same song and settings)" in again.err
    assert "[2/2] describing (reused: the same song and settings)" in again.err
    other = run_aimv(*args, "--top-k", "2")
    assert other.code == 0, other.err
    assert "[1/2] listening (reused" in other.err and "[2/2] describing\n" in other.err


def test_listen_is_the_stage_name_and_old_timelines_stay_cached(run_aimv, song, tmp_path):
    """'listen' is the subcommand and settings key; 'analyze' timelines are still reused."""
    out = tmp_path / "out"
    assert run_aimv("listen", song, "-o", out, *FAST).code == 0
    path = out / TIMELINE_FILE
    data = json.loads(path.read_text())
    data["settings"] = {"analyze": data["settings"].pop("listen"), **data["settings"]}
    path.write_text(json.dumps(data))
    mtime = path.stat().st_mtime_ns
    assert run_aimv("analyze", song, "-o", out, *FAST).code == 0
    assert path.stat().st_mtime_ns == mtime, "a timeline with the old key was analysed again"


def test_existing_timeline_from_another_song_is_not_overwritten(
    run_aimv, song, write_wav, tmp_path
):
    out = tmp_path / "out"
    assert run_aimv("analyze", song, "-o", out, *FAST).code == 0
    before = (out / TIMELINE_FILE).read_bytes()
    other = write_wav("other.wav", sine(330, 4.0, RATE), RATE)
    _one_line_error(run_aimv("analyze", other, "-o", out, *FAST), "another song")
    assert (out / TIMELINE_FILE).read_bytes() == before


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
    before = (out / TIMELINE_FILE).read_bytes()
    path, needle = _bad_inputs(tmp_path, write_wav)[case]
    _one_line_error(run_aimv("analyze", path, "-o", out, *FAST, "--force"), needle)
    assert (out / TIMELINE_FILE).read_bytes() == before


@pytest.mark.parametrize("window", ["0.1", "11", "nan", "abc", "-1"])
def test_invalid_window_is_refused(run_aimv, song, tmp_path, window):
    result = run_aimv("analyze", song, "-o", tmp_path / "o", *FAST, "--window", window)
    assert result.code == 2
    assert "--window" in result.err and "Traceback" not in result.err
    assert not (tmp_path / "o" / TIMELINE_FILE).exists()


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
    events = [line for line in result.err.splitlines() if line.startswith(PREFIX)]
    assert any('"event": "progress"' in e and '"done": 4' in e for e in events)


def test_going_offline_does_not_invalidate_the_cached_timeline(run_aimv, song, tmp_path):
    out = tmp_path / "out"
    args = ("analyze", song, "-o", out, "--instruments", "musicnn", "--asr", "none", "--quiet")
    assert run_aimv(*args).code == 0
    mtime = (out / TIMELINE_FILE).stat().st_mtime_ns
    result = run_aimv(*args, "--offline")
    assert result.code == 0, result.err
    assert (out / TIMELINE_FILE).stat().st_mtime_ns == mtime


def test_a_folder_where_the_timeline_goes_is_one_line(run_aimv, song, tmp_path):
    out = tmp_path / "out"
    (out / TIMELINE_FILE).mkdir(parents=True)
    result = run_aimv("analyze", song, "-o", out, *FAST, "--force")
    _one_line_error(result, TIMELINE_FILE)
    assert (out / TIMELINE_FILE).is_dir()


def test_bad_vectors_fail_before_listening_and_leave_no_folder(run_aimv, song, tmp_path):
    result = run_aimv("analyze", song, "-o", tmp_path / "w", "--vectors", "no-such", "--offline")
    assert result.code == 2 and "--vectors" in result.err
    assert "volume+colour" not in result.err  # nothing was listened to
    assert not (tmp_path / "w").exists()


def test_mp3_is_read_and_the_help_and_errors_say_so(run_aimv, song, tmp_path):
    """What the help and the errors name is what is really read: MP3 included."""
    import shutil
    import subprocess

    from aimv_timeline.names import AUDIO_FORMATS

    if shutil.which("ffmpeg") is None:
        pytest.skip("needs ffmpeg to make an MP3")
    mp3 = tmp_path / "song.mp3"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(song), str(mp3)], check=True)
    out = tmp_path / "out"
    result = run_aimv("listen", mp3, "-o", out, *FAST)
    assert result.code == 0, result.err
    timeline = read_timeline(out / TIMELINE_FILE)
    assert round(timeline.source.duration) == 4 and len(timeline.windows) == 4
    assert "MP3" in AUDIO_FORMATS
    assert AUDIO_FORMATS in run_aimv("listen", "--help").out.replace("\n", " ")
    junk = tmp_path / "junk.mp3"
    junk.write_bytes(b"no audio here " * 100)
    _one_line_error(run_aimv("listen", junk, "-o", out, *FAST), AUDIO_FORMATS)


def test_a_cut_off_mp3_is_refused_not_padded_with_stale_audio(run_aimv, song, tmp_path):
    """An interrupted download keeps the MP3's header (and its length): the missing seconds
    must not be filled with repeats of the last block, and libmpg123's warnings stay out."""
    import shutil
    import subprocess

    if shutil.which("ffmpeg") is None:
        pytest.skip("needs ffmpeg to make an MP3")
    mp3 = tmp_path / "song.mp3"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(song), str(mp3)], check=True)
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(mp3.read_bytes()[: mp3.stat().st_size // 2])
    result = run_aimv("listen", cut, "-o", tmp_path / "out", *FAST)
    _one_line_error(result, "cut.mp3", "truncated", "4.0")
    assert not (tmp_path / "out").exists()


def test_an_mp3_is_as_long_as_its_audio_whatever_its_header_says(run_aimv, song, tmp_path):
    """Without a Xing header libsndfile guesses the length from the file's size (cover art
    included); two MP3s joined with cat read as the first alone. Neither may pass unnoticed."""
    import shutil
    import subprocess

    from aimv_testkit.mp3 import write_mp3

    if shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None:
        pytest.skip("needs ffmpeg and ffprobe")
    art = write_mp3(song, tmp_path / "art.mp3", cover_art=True)
    result = run_aimv("listen", art, "-o", tmp_path / "art", *FAST)
    assert result.code == 0, result.err
    timeline = read_timeline(tmp_path / "art" / TIMELINE_FILE)
    assert abs(timeline.source.duration - 4.0) < 0.2  # the size-based guess: 255 s
    plain = tmp_path / "plain.mp3"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(song), str(plain)], check=True)
    joined = tmp_path / "joined.mp3"
    joined.write_bytes(plain.read_bytes() * 3)
    result = run_aimv("listen", joined, "-o", tmp_path / "joined", *FAST)
    _one_line_error(result, "joined.mp3", "joined")
    assert not (tmp_path / "joined").exists()


def test_bad_audio_prints_only_the_error_not_a_progress_bar(run_aimv, write_wav, tmp_path):
    nan = sine(440, 2.0, RATE)
    nan[RATE + 100] = np.nan
    path = write_wav("nan.wav", nan, RATE, subtype="FLOAT")
    result = run_aimv("listen", path, "-o", tmp_path / "o", "--instruments", "none", "--no-voice")
    _one_line_error(result, "NaN")


def test_errors_reach_tools_as_an_error_event(run_aimv, tmp_path):
    """With --progress json a failure is an `error` event (type, one-line message) besides the
    line for a person: the add-on reads the event, never searches stderr for "error"."""
    from aimv_timeline.events import parse_line

    result = run_aimv("listen", tmp_path / "none.wav", "-o", tmp_path / "o", "--progress", "json")
    assert result.code == 2
    events = [e for e in map(parse_line, result.err.splitlines()) if e is not None]
    assert [(e.kind, e.get("type")) for e in events] == [("error", "AudioInputError")]
    assert "does not exist" in events[0].get("message")
    assert result.err.splitlines()[-1].startswith("aimv: error:")


def test_windows_on_bars_without_a_beat_tracker_is_one_line(run_aimv, song, tmp_path):
    result = run_aimv(
        "listen", song, "-o", tmp_path / "out", "--windows", "bars", "--beats", "none", *FAST
    )
    _one_line_error(result, "--windows bars needs beat tracking")
    assert not (tmp_path / "out" / TIMELINE_FILE).exists()


def test_beats_per_bar_without_a_beat_tracker_is_one_line(run_aimv, song, tmp_path):
    """A bar length with no beats would be recorded and refuse later runs for nothing."""
    result = run_aimv(
        "listen", song, "-o", tmp_path / "out", "--beats", "none", "--beats-per-bar", "3", *FAST
    )
    _one_line_error(result, "--beats-per-bar 3 needs beats")
    assert not (tmp_path / "out" / TIMELINE_FILE).exists()


def test_rhythm_is_recorded_and_none_leaves_it_null(run_aimv, song, tmp_path):
    result = run_aimv("listen", song, "-o", tmp_path / "a", *FAST)
    assert result.code == 0, result.err
    timeline = read_timeline(tmp_path / "a" / TIMELINE_FILE)
    assert timeline.engines["rhythm"] == "onset" and timeline.rhythm is not None
    assert timeline.settings["listen"]["windows"] == "seconds"
    result = run_aimv("listen", song, "-o", tmp_path / "b", "--beats", "none", *FAST)
    assert result.code == 0, result.err
    timeline = read_timeline(tmp_path / "b" / TIMELINE_FILE)
    assert timeline.rhythm is None and "rhythm" not in timeline.engines


def test_the_music_pass_can_be_switched_off_and_a_typo_is_one_line(tmp_path):
    """--music-pass off: speech regions only (faster on a long instrumental song)."""
    from aimv_backend.cli.main import build_parser
    from aimv_backend.cli.options import listen_options

    parser = build_parser(load="listen")
    song = str(tmp_path / "song.wav")
    on = listen_options(parser.parse_args(["listen", song, "-o", str(tmp_path)]))
    off = listen_options(parser.parse_args(["listen", song, "-o", str(tmp_path),
                                            "--music-pass", "off"]))  # fmt: skip
    assert on.voice.music_pass is True and off.voice.music_pass is False
    with pytest.raises(SystemExit) as stop:
        parser.parse_args(["listen", song, "--music-pass", "maybe"])
    assert stop.value.code == 2


def test_beats_per_bar_is_heard_unless_given_and_a_typo_is_one_line(run_aimv, tmp_path):
    """--beats-per-bar: auto (the default: 3 or 4 heard from the song) or a number of beats."""
    from aimv_backend.cli.main import build_parser
    from aimv_backend.cli.options import listen_options

    parser = build_parser(load="listen")
    song = str(tmp_path / "song.wav")

    def bars(*extra):
        args = parser.parse_args(["listen", song, "-o", str(tmp_path), *extra])
        return listen_options(args).rhythm.beats_per_bar

    assert bars() is None and bars("--beats-per-bar", "auto") is None
    assert bars("--beats-per-bar", "3") == 3
    for bad in ("three", "1", "13"):
        _one_line_error(run_aimv("listen", tmp_path / "x.wav", "--beats-per-bar", bad),
                        "--beats-per-bar", bad)  # fmt: skip


@pytest.mark.parametrize("command", ["listen", "describe", "imagine", "stage", "render"])
def test_every_command_takes_the_same_seeds(run_aimv, tmp_path, command):
    """One rule for --seed: an integer 0 to 2**63 - 1 (imagine and render refused -1 while
    listen and describe recorded it)."""
    for bad in ("-1", str(2**63), "1.5"):
        result = run_aimv(command, tmp_path / "x.wav", "--seed", bad)
        _one_line_error(result, "--seed", bad)
