"""What the rendered picture shows (Workbench, 320x180): the sung word readable inside its span,
a kick moving the camera on its frame, no flat backdrop, artists' edits kept on a rebuild and
switched-off layers gone from the picture."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.blender import picture_fixtures
from tests.blender.conftest import needs_bpy, run_bpy_script

pytestmark = [
    pytest.mark.blender,
    pytest.mark.slow,
    needs_bpy,
    pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng"),
]
FPS = 12
SESSION = Path(__file__).with_name("picture_session.py")


def frame_of(t: float) -> int:
    return 1 + round(t * FPS)


@pytest.fixture(scope="module")
def picture(tmp_path_factory, blender_env):
    pytest.importorskip("aimv_testkit")
    base = tmp_path_factory.mktemp("picture")
    timeline, word = picture_fixtures.make(base / "song")
    shots = base / "shots"
    shots.mkdir()
    word_frame = frame_of(word.start + 0.6 * (word.end - word.start))
    cfg = {
        "timeline": str(timeline),
        "shots": str(shots),
        "fps": FPS,
        "resolution": [320, 180],
        "word": word.text,
        "word_frame": word_frame,
        "kick_frame": frame_of(picture_fixtures.KICK_AT),
        "picto_frame": frame_of(3.5),
        "frames": sorted({*range(1, 48, 6), word_frame, frame_of(3.5)}),
        "fonts": str(Path(pytest.importorskip("matplotlib").get_data_path()) / "fonts" / "ttf"),
    }
    return run_bpy_script(SESSION, cfg, base, blender_env, timeout=400), cfg, word


def flat_share(path: str) -> float:
    """Share of the frame's pixels in its most common colour (5 bits per channel)."""
    px = np.asarray(Image.open(path).convert("RGB")) >> 3
    codes = (px[..., 0].astype(int) << 10) | (px[..., 1].astype(int) << 5) | px[..., 2]
    return float(np.bincount(codes.ravel()).max() / codes.size)


def read_text(path: str) -> str:
    pytesseract = pytest.importorskip("pytesseract")
    if shutil.which("tesseract") is None:
        pytest.skip("needs tesseract-ocr")
    img = Image.open(path).convert("L")
    img = img.resize((img.width * 3, img.height * 3), Image.LANCZOS)
    text = " ".join(pytesseract.image_to_string(img, config=f"--psm {psm}") for psm in (6, 11))
    return text.lower()


def test_the_spoken_word_is_readable_inside_its_span(picture):
    facts, cfg, word = picture
    frame = facts["frames"][str(cfg["word_frame"])]
    assert word.text in read_text(frame)


def test_a_kick_moves_the_camera_on_its_frame(picture):
    facts, cfg, _word = picture
    hit = cfg["kick_frame"]
    pos = {int(k): np.array(v) for k, v in facts["camera"].items()}
    before = np.linalg.norm(pos[hit - 1] - pos[hit - 2])
    jump = np.linalg.norm(pos[hit] - pos[hit - 1])
    assert jump > 0.2 and jump > 4 * before
    sizes = {int(k): v[0] for k, v in facts["screen_scale"].items()}
    assert sizes[hit] > sizes[hit - 1] * 1.01  # and the background pulses


def test_no_frame_is_one_flat_colour(picture):
    facts, _cfg, _word = picture
    shares = {f: flat_share(p) for f, p in facts["frames"].items()}
    assert max(shares.values()) <= 0.2, shares


def test_a_rebuild_keeps_the_artists_edits(picture):
    facts, cfg, _word = picture
    regen = facts["regen"]
    assert regen["body"] == cfg["word"].upper()
    assert regen["rotation"] == pytest.approx(0.2)
    assert regen["picto_keys_kept"] and regen["picto_other_keys"]
    more = facts["regen_more"]
    assert more["texture_swap_kept"]  # the background's node keys too (docs/blender.md)
    assert more["punch_still_muted"]  # a muted curve is an edit, as a moved key is
    assert more["material"] == "Artist Gold"


def test_the_screen_and_the_flash_have_their_own_colour_keys(picture):
    """Every material's node tree is called "Shader Nodetree": their actions must not be one."""
    facts, _cfg, _word = picture
    screen_action, flash_action = facts["node_actions"]
    assert screen_action != flash_action
    screen, flash = facts["colours"]
    assert max(abs(a - b) for a, b in zip(screen[:3], flash[:3], strict=True)) > 0.05


def test_switching_a_layer_off_removes_it_from_the_picture(picture):
    facts, cfg, word = picture
    assert word.text not in read_text(facts["off"]["lyrics"])
    assert word.text in read_text(facts["on_again"])
    assert facts["off"]["lyric_kept"]  # waiting, with its edits, in the excluded collection
    # renamed by the artist, the collection is still the layer's: no twin under the old name
    assert word.text not in read_text(facts["renamed_off"])
    assert "My Words" in facts["collections"] and "AIMV Lyrics" not in facts["collections"]
    assert facts["on_again_rotation"] == pytest.approx(0.2)
    with_picto = np.asarray(Image.open(facts["frames"][str(cfg["picto_frame"])]).convert("RGB"))
    without = np.asarray(Image.open(facts["off"]["pictograms"]).convert("RGB"))
    red = lambda a: ((a[..., 0] > 180) & (a[..., 1] < 90) & (a[..., 2] < 110)).sum()  # noqa: E731
    assert red(with_picto) > 50 and red(without) < red(with_picto) / 5


def test_a_second_scene_cannot_take_the_first_scenes_stage(picture):
    facts, _cfg, _word = picture
    assert "belongs to scene" in facts["second_scene"]
    assert "one AIMV stage per .blend" in facts["second_scene"]
    assert facts["first_scene_lyrics"]


def test_build_names_the_artists_objects_that_hide_the_picture(picture):
    facts, _cfg, _word = picture
    assert facts["in_the_way"] == ["Cube"]  # not the one 40 m aside, not AIMV's own


def test_a_moved_work_folder_moves_the_pictograms_images_with_it(picture):
    """The artist moves the folder (the old one is gone) and rebuilds: every pictogram shows
    its image from the new folder, and no "heart.png.001" appears."""
    moved = picture[0]["moved"]
    assert moved["pictograms"] >= 1
    assert moved["files"] == [moved["expected"]]
    assert moved["names"] == []


def test_renamed_objects_stay_aimvs_and_copies_materials_and_fonts_stay_the_artists(picture):
    facts, cfg, _word = picture
    done = facts["renamed"]
    assert done["lights"] == ["AIMV Key Light", "My Rim"]  # no second rim light
    assert done["cameras"] == ["Hero Cam"] and done["active_camera"] == "Hero Cam"
    assert done["camera_action"][0] == done["camera_action"][1]  # its action, its edits
    assert done["panel_font"].endswith("DejaVuSans.ttf")  # the panel's font, set by AIMV
    assert done["word_font"].endswith("DejaVuSerif.ttf")  # then the artist's own, kept
    width_50, width_28 = done["screen_width"]
    assert width_28 / width_50 == pytest.approx(50 / 28, rel=0.15)  # no edge at 28 mm
    assert done["after_words_gone"] == [done["copy"]]  # only the artist's copy stays
    assert done["colour_kept_whole"]  # green keeps red's timing: one colour, one timing
    assert done["artist_marker"]  # "AIMV chorus" is the artist's marker, not AIMV's
    assert done["artist_red"] == [True, True]  # kept by a fake user, not dropped on save
