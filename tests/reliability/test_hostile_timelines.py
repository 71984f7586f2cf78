"""Hostile timelines stay in their folder (issue 13.2, 13.15, 13.16).

A timeline is data anyone can hand over. Every path in it must resolve inside its folder or be
refused with one line naming the window; reading it is bounded (regular files only, a size
cap, bounded numbers and nesting); its numbers must fit the song.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from aimv_timeline.paths import UnsafePathError, place_file, resolve_inside
from aimv_timeline.schema import TimelineFormatError, read_timeline
from tests.blender import fixtures
from tests.blender.conftest import needs_bpy, run_bpy_script

ROOT = Path(__file__).resolve().parents[2]
HEADLESS = ROOT / "aimv_blender" / "headless.py"


@pytest.fixture
def work(tmp_path) -> Path:
    """A work folder with a valid textured timeline, and a victim file outside it."""
    fixtures.make_timeline(tmp_path / "work", textures=True)
    (tmp_path / "victim.png").write_bytes((tmp_path / "work" / "textures" / "000.png").read_bytes())
    return tmp_path / "work"


def _edit(work: Path, texture: str, index: int = 1) -> Path:
    path = work / "timeline.json"
    data = json.loads(path.read_text())
    data["windows"][index]["texture"] = texture
    path.write_text(json.dumps(data))
    return path


HOSTILE_PATHS = [
    "../victim.png",
    "../../../../../../etc/passwd",
    "/etc/passwd",
    "textures/../../victim.png",
    "..\\victim.png",
    "C:\\Windows\\win.ini",
    "~/.ssh/id_rsa",
    "",
    "textures/\x00.png",
]


@pytest.mark.parametrize("texture", HOSTILE_PATHS)
def test_paths_leading_outside_are_refused_naming_the_window(work, texture):
    path = _edit(work, texture)
    with pytest.raises(TimelineFormatError, match=r"windows\[1\]\.texture") as err:
        read_timeline(path)
    assert "\n" not in str(err.value)


def test_a_link_inside_the_folder_to_a_file_outside_is_refused(work):
    os.symlink(work.parent / "victim.png", work / "textures" / "link.png")
    with pytest.raises(TimelineFormatError, match="outside the timeline's folder"):
        read_timeline(_edit(work, "textures/link.png"))


def test_paths_inside_are_fine(work):
    (work / "textures" / "sub").mkdir()
    shutil.copy(work / "textures" / "000.png", work / "textures" / "sub" / "x.png")
    assert read_timeline(_edit(work, "textures/./sub/../sub/x.png")).windows[1].texture


def test_resolve_inside_is_the_one_rule(tmp_path):
    assert resolve_inside(tmp_path, "a/b.png", what="w") == (tmp_path / "a" / "b.png").resolve()
    for bad in ("..", ".", "a/../..", "/x"):
        with pytest.raises(UnsafePathError, match="^w: "):
            resolve_inside(tmp_path, bad, what="w")


def test_files_are_copied_never_hard_linked_unless_aimv_made_them(tmp_path):
    src, dst = tmp_path / "user.png", tmp_path / "seq.png"
    src.write_bytes(b"the user's picture")
    place_file(src, dst)
    assert os.stat(src).st_nlink == 1  # a copy: saving dst can never rewrite src
    dst.write_bytes(b"saved over")
    assert src.read_bytes() == b"the user's picture"
    with pytest.raises(UnsafePathError):
        place_file("/dev/zero", tmp_path / "z.png")


@pytest.mark.parametrize(
    "content,words",
    [
        ("[" * 200_000 + "]" * 200_000, "nested too deeply"),
        ('{"schema_version": "1.0", "x": ' + "9" * 4300 + "}", "a number of 4300 characters"),
        ('{"schema_version": NaN}', "NaN"),
        (
            '{"schema_version": "1.1", "windows": [{"texture": "a.png", "texture": "b.png"}]}',
            "the key 'texture' appears twice in one object",
        ),
        ("\xff\xfe", "cannot be read"),
    ],
)
def test_unbounded_json_is_one_line(tmp_path, content, words):
    path = tmp_path / "timeline.json"
    path.write_bytes(
        content.encode("utf-8", "surrogateescape") if content != "\xff\xfe" else b"\xff\xfe"
    )
    with pytest.raises(TimelineFormatError, match=words) as err:
        read_timeline(path)
    assert "\n" not in str(err.value)


def test_fifo_devices_and_link_loops_are_refused_without_hanging(tmp_path):
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    zero = tmp_path / "zero.json"
    os.symlink("/dev/zero", zero)
    loop = tmp_path / "loop.json"
    os.symlink(tmp_path / "loop2.json", loop)
    os.symlink(loop, tmp_path / "loop2.json")
    for path, words in ((fifo, "FIFO"), (zero, "device"), (loop, "loop of symbolic links")):
        with pytest.raises(TimelineFormatError, match=words):
            read_timeline(path)


@pytest.mark.parametrize("command", ["describe", "imagine", "stage"])
def test_each_command_names_what_stands_in_the_timelines_place(tmp_path, command):
    """A FIFO must never be opened before the reader refuses it (it would block for good), and
    a folder or device is not "no such file"."""
    odd = {"fifo": "FIFO", "zero": "device", "folder": "directory"}
    os.mkfifo(tmp_path / "fifo")
    os.symlink("/dev/zero", tmp_path / "zero")
    (tmp_path / "folder").mkdir()
    for name, words in odd.items():
        target = tmp_path / name
        done = subprocess.run(
            [sys.executable, "-m", "aimv_backend", command, str(target), "--progress", "none"]
            + (["-o", str(tmp_path / "v.mp4")] if command == "stage" else []),
            capture_output=True,
            text=True,
            timeout=60,
        )
        lines = done.stderr.strip().splitlines()
        assert done.returncode == 2 and len(lines) == 1, done.stderr
        assert words in lines[0], lines[0]


def test_a_timeline_too_big_to_be_one_is_refused(tmp_path, monkeypatch):
    from aimv_timeline import reader

    monkeypatch.setattr(reader, "MAX_TIMELINE_BYTES", 1000)
    path = tmp_path / "timeline.json"
    path.write_text(" " * 2000)
    with pytest.raises(TimelineFormatError, match="more than the 1000"):
        read_timeline(path)


def test_windows_must_fit_the_song(work):
    """13.16: a duration of 3600 on a 4 s song, or windows past its end, is refused."""
    path = work / "timeline.json"
    data = json.loads(path.read_text())
    data["windows"][-1]["end"] = 3600.0
    path.write_text(json.dumps(data))
    with pytest.raises(TimelineFormatError, match="past the end of the song"):
        read_timeline(path)
    data = json.loads((work / "timeline.json").read_text())
    data["source"]["duration"] = 10**9
    path.write_text(json.dumps(data))
    with pytest.raises(TimelineFormatError, match=r"source\.duration"):
        read_timeline(path)


def test_a_lyric_word_too_long_to_set_in_3d_is_refused(work):
    """A 100,000-letter "word" kept the stage busy for minutes building its 3D text."""
    path = work / "timeline.json"
    data = json.loads(path.read_text())
    voiced = next(i for i, w in enumerate(data["windows"]) if (w.get("voice") or {}).get("words"))
    data["windows"][voiced]["voice"]["words"][0]["text"] = "la" * 50_000
    path.write_text(json.dumps(data))
    with pytest.raises(TimelineFormatError, match="100000 characters, at most 100") as err:
        read_timeline(path)
    assert f"windows[{voiced}].voice.words[0].text" in str(err.value)


def test_a_reused_timeline_must_match_the_song(run_aimv, work, tmp_path):
    """13.16: a timeline with the right hash but the wrong length is not reused."""
    song = work / "song.wav"
    out = tmp_path / "out" / "timeline.json"
    listen = ("analyze", song, "-o", out.parent, "--instruments", "none", "--no-voice",
              "--no-describe", "-q")  # fmt: skip
    assert run_aimv(*listen).code == 0
    data = json.loads(out.read_text())
    data["source"]["duration"] = 3600.0
    data["source"]["frames"] = 3600 * data["source"]["sample_rate"]
    out.write_text(json.dumps(data))
    again = run_aimv(*listen)
    assert again.code == 2 and "use --force" in again.err


@pytest.mark.blender
@pytest.mark.slow
@needs_bpy
def test_the_add_on_refuses_and_touches_nothing_outside(work, blender_env, tmp_path):
    """Entry point: headless Blender with a hostile --timeline. One line naming the window,
    and the victim is neither linked nor changed."""
    victim = work.parent / "victim.png"
    before = victim.read_bytes()
    _edit(work, "../victim.png")
    done = subprocess.run(
        [sys.executable, str(HEADLESS), "--", "--timeline", str(work / "timeline.json"),
         "-o", str(tmp_path / "v.mp4"), "--resolution", "32x18", "--fps", "4"],
        env=blender_env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr[-2000:]
    lines = [ln for ln in done.stderr.splitlines() if ln.startswith("aimv-blender: error:")]
    assert len(lines) == 1 and "windows[1].texture" in lines[0]
    assert victim.read_bytes() == before and os.stat(victim).st_nlink == 1


BUILD_SCRIPT = """
import json, os, sys
from dataclasses import replace
from pathlib import Path
sys.path.insert(0, ROOT)
from aimv_blender.layers import background
from aimv_timeline.schema import read_timeline

cfg = json.load(open(sys.argv[1]))
timeline = read_timeline(cfg["timeline"])
folder, seq = Path(cfg["timeline"]).parent, Path(cfg["seq"])
windows = list(timeline.windows)
windows[1] = replace(windows[1], texture="../victim.png")
out = {"error": None}
try:
    background.stage_sequence(replace(timeline, windows=tuple(windows)), folder, seq)
except background.MissingTexture as exc:
    out["error"] = str(exc)
first, _ = background.stage_sequence(timeline, folder, seq)
out["nlink"] = os.stat(first).st_nlink
json.dump(out, open(sys.argv[2], "w"))
"""


@pytest.mark.blender
@pytest.mark.slow
@needs_bpy
def test_the_scene_builder_checks_paths_again_where_it_opens_them(work, blender_env, tmp_path):
    """A timeline already in memory (the panel) whose texture leads outside: BuildError, and
    the image sequence holds copies, never links to a user's file."""
    script = tmp_path / "build.py"
    script.write_text(BUILD_SCRIPT.replace("ROOT", repr(str(ROOT))))
    data = run_bpy_script(
        script, {"timeline": str(work / "timeline.json"), "seq": str(work / "aimv_sequence")},
        tmp_path, blender_env,
    )  # fmt: skip
    assert data["error"] and "windows[1].texture" in data["error"]
    assert data["nlink"] == 1  # the fixture's textures are not in a manifest: copied


def test_a_timeline_cannot_name_a_file_for_the_word_vectors():
    """settings.describe.vectors is read back on a re-run; a path there would be a file read
    from outside the timeline's folder (docs/security.md), so only --vectors may name one."""
    import dataclasses

    from aimv_backend.describe import DescribeOptions
    from aimv_backend.orchestrator import describe_options_for
    from tests.describe.conftest import timeline, window

    base = timeline([window(0)])
    for hostile in ("/etc/passwd", "../../secret.kv", "~/.ssh/id_rsa", "C:\\x.kv"):
        edited = dataclasses.replace(base, settings={"describe": {"vectors": hostile}})
        chosen = describe_options_for(edited, DescribeOptions(), given=())
        assert chosen.vectors == DescribeOptions().vectors, hostile


def test_no_windows_and_lone_surrogates_are_refused_on_reading(work):
    """Both were read, then crashed a later stage with a traceback."""
    for edit, words in (
        (lambda t: t.update(windows=[]), "at least one window"),
        (lambda t: t["windows"][0]["colour"].update(name="\ud800 teal"), "lone surrogate"),
    ):
        path = work / "timeline.json"
        data = json.loads(path.read_text())
        edit(data)
        path.write_text(json.dumps(data))
        with pytest.raises(TimelineFormatError, match=words):
            read_timeline(path)
        fixtures.make_timeline(work, textures=True)  # the valid one again
