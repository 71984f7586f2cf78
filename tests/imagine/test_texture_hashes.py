"""A damaged cached texture is remade, not reused (issue 13.5).

The cache used to check a PNG's header and its last 12 bytes only; damage in between went
unnoticed into the video. Each texture's sha256 is recorded when it is made and checked on reuse.
"""

from __future__ import annotations

from aimv_backend.imagine import TextureOptions, make_textures
from aimv_backend.progress import SilentProgress
from aimv_timeline import manifest

OPTIONS = TextureOptions(engine="procedural", size=(64, 64), seed=3)


def test_a_png_damaged_in_the_middle_is_remade(tmp_path, song_timeline):
    first = make_textures(
        song_timeline, timeline_dir=tmp_path, options=OPTIONS, progress=SilentProgress()
    )
    png = tmp_path / first.windows[0].texture
    good = png.read_bytes()
    damaged = bytearray(good)
    middle = len(damaged) // 2
    damaged[middle : middle + 16] = bytes(16)  # header and IEND intact
    png.write_bytes(bytes(damaged))
    others = {w.texture: (tmp_path / w.texture).stat().st_mtime_ns for w in first.windows[1:]}

    make_textures(song_timeline, timeline_dir=tmp_path, options=OPTIONS, progress=SilentProgress())
    assert png.read_bytes() == good  # remade, identically (same seed)
    for name, mtime in others.items():
        if name != first.windows[0].texture:
            assert (tmp_path / name).stat().st_mtime_ns == mtime  # the rest reused
    # and each texture is recorded as AIMV's own in the folder's manifest
    assert manifest.owns(tmp_path, png)
