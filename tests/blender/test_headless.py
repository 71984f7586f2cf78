"""The headless script's messages, without Blender: the slow-engine estimate, what counts as a
user's error, and the video defaults it shares with ``aimv render``."""

from __future__ import annotations

import pytest

from aimv_blender import headless
from aimv_timeline import AimvError
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
