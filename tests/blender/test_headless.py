"""The headless script's messages, without Blender: the slow-engine estimate, what counts as a
user's error, and the video defaults it shares with ``aimv render``."""

from __future__ import annotations

import pytest

from aimv_blender import headless
from aimv_timeline import AimvError, flags
from aimv_timeline.presets import PRESETS


def test_eevee_on_a_cpu_is_estimated_with_the_fast_alternative():
    # measured here: EEVEE through Mesa's software EGL, about 240 s a frame at 1280x720
    message = headless.slow_render_warning(
        engine="eevee", first_frame_s=240.0, frames=30 * 60, software=True
    )
    assert message is not None
    assert "240 s a frame" in message and "120.0 h" in message and "1800 frames" in message
    assert "without a GPU" in message and "--preset preview (workbench)" in message


def test_fast_renders_say_nothing():
    assert (
        headless.slow_render_warning(
            engine="workbench", first_frame_s=5.0, frames=10_000, software=True
        )
        is None
    )
    assert (
        headless.slow_render_warning(engine="eevee", first_frame_s=0.05, frames=720, software=False)
        is None
    )


def test_only_aimv_errors_are_one_line_user_errors():
    known = headless.user_errors()
    assert issubclass(headless.UsageError, AimvError)
    assert isinstance(headless.UsageError("x"), known)
    assert not isinstance(ValueError("a bug"), known)  # a traceback, not "aimv-blender: error"


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_video_defaults_are_the_shared_presets(preset):
    args = headless.build_parser().parse_args(
        ["--timeline", "t.json", "-o", "v.mp4", "--preset", preset]
    )
    video = headless.video_settings(args)
    p = PRESETS[preset]
    assert video == {
        "resolution": p.resolution,
        "fps": p.fps,
        "engine": p.engine,
        "samples": p.samples,
    }
    args = headless.build_parser().parse_args(["-o", "v.mp4", "--resolution", "8000x8000"])
    with pytest.raises(headless.UsageError, match="--resolution"):
        headless.video_settings(args)


def _options(parser) -> dict[str, object]:
    """Each option string of ``parser`` with what --help and parsing use of it."""
    return {
        s: (a.help, a.choices, a.metavar, a.type)
        for a in parser._actions  # noqa: SLF001 - argparse keeps no public list
        for s in a.option_strings
    }


def test_the_flags_it_shares_with_aimv_come_from_the_one_table():
    from aimv_backend.cli.main import build_parser as aimv_parser

    mine = _options(headless.build_parser())
    render = aimv_parser()._subparsers._group_actions[0].choices["render"]  # noqa: SLF001
    theirs = _options(render)
    shared = [
        flags.WINDOW, flags.INSTRUMENTS, flags.ASR, flags.LANGUAGE, flags.RESOLUTION, flags.FPS,
        flags.ENGINE, flags.SAMPLES, flags.CROSSFADE, flags.FONT, flags.SCENE, flags.FRAMES,
        flags.SEED, *flags.LAYERS,
    ]  # fmt: skip
    for spec in shared:
        for spelling in spec.flags:
            assert mine[spelling][1:] == theirs[spelling][1:], spelling  # choices, metavar, type
            assert mine[spelling][0].startswith(spec.help), spelling
            assert theirs[spelling][0].startswith(spec.help), spelling
    assert mine["--preset"][:2] == theirs["--preset"][:2]


def test_backend_flags_not_given_keep_the_backend_settings_defaults(tmp_path):
    from aimv_blender.subprocess_runner import BackendSettings, backend_steps

    def argv(*extra: str) -> list[str]:
        args = headless.build_parser().parse_args(["song.wav", "-o", "v.mp4", *extra])
        settings = BackendSettings.from_choices(
            args, command="aimv", audio=tmp_path / "song.wav", work_dir=tmp_path, online=False
        )
        (step,) = backend_steps(settings, ["aimv"])
        return list(step.argv)

    plain = argv()
    assert plain[plain.index("--window") + 1] == "1"
    assert plain[plain.index("--instruments") + 1] == "auto"
    assert "--language" not in plain and "--textures" in plain
    given = argv("--window", "2.5", "--asr", "none", "--language", "es", "--textures", "none")
    assert given[given.index("--window") + 1] == "2.5"
    assert given[given.index("--asr") + 1] == "none" and "--textures" not in given
    assert given[given.index("--language") + 1] == "es"
    assert "--beats-per-bar" not in plain and "--beats-per-bar" not in argv(
        "--beats-per-bar", "auto"
    )
    three = argv("--beats-per-bar", "3")
    assert three[three.index("--beats-per-bar") + 1] == "3"


def test_layers_and_frames_are_checked_as_before():
    args = headless.build_parser().parse_args(
        ["-o", "v.mp4", "--no-lyrics", "--no-motion", "--frames", "3:9"]
    )
    assert sorted(args.layers_off) == ["lyrics", "motion"] and args.frames == (3, 9)
    bad = headless.build_parser().parse_args(["-o", "v.mp4", "--frames", "0:9"])
    with pytest.raises(headless.UsageError, match="--frames .*0:9"):
        headless.video_settings(bad)
    with pytest.raises(SystemExit):  # argparse: one line and exit 2
        headless.build_parser().parse_args(["-o", "v.mp4", "--frames", "three"])
