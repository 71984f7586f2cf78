"""Render a contact sheet of procedural textures (or of a rendered video's frames) for the docs.

    python tools/make_contact_sheet.py [--out docs/images/textures-contact-sheet.png]
    python tools/make_contact_sheet.py --video demo-out/demo.mp4 \
        --out docs/images/demo-contact-sheet.png     # a frame every 2 s, captioned with its time

Each tile is a real window-like input (the design's sentences, a colour, a volume level) rendered
by the procedural engine at 512x512 and shown smaller, captioned with its key words, colour and
level. The sheet is written atomically and kept under 1.5 MB.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aimv_backend.imagine.cache import save_png  # noqa: E402
from aimv_backend.imagine.procedural import Style, render_image  # noqa: E402
from aimv_backend.imagine.procedural_motifs import choose_motifs  # noqa: E402
from aimv_backend.util.files import atomic_path  # noqa: E402

# (caption, prompt, hue, saturation, value, level energy)
EXAMPLES = [
    (
        "crash, splash, synth / loud",
        "Person loudly sings, holding a heart, alongside a Crash and "
        "Splash hit with a foreground techy synth wave impact",
        8.0,
        0.85,
        0.9,
        0.9,
    ),
    (
        "kick, bass, tom / loud",
        "Kick hits and Bass plays in the background. In the foreground a bouncey tom deep canon",
        225.0,
        0.8,
        0.7,
        0.8,
    ),
    (
        "cello, vocal, guitar / quiet",
        "Cello plays and Vocal sings in the background. In the "
        "foreground a pedaly guitar vibrate floating",
        135.0,
        0.7,
        0.7,
        0.3,
    ),
    (
        "synth, techno / normal",
        "Synth plays in the background, a futuristic crystal tech grid",
        285.0,
        0.75,
        0.8,
        0.6,
    ),
    (
        "piano, bell / normal",
        "Piano plays in the background, a bell echo ripple",
        48.0,
        0.8,
        0.85,
        0.5,
    ),
    ("hi-hat, harp / normal", "Hi-hat hits and harp plays, sparkle shimmer", 185.0, 0.75, 0.8, 0.6),
    (
        "silent",
        "a still, calm and dark abstract texture, the scene has a maroon color palette",
        350.0,
        0.6,
        0.4,
        0.05,
    ),
    (
        "quiet, no description",
        "a soft, floating abstract texture, the scene has a teal color palette",
        175.0,
        0.6,
        0.6,
        0.3,
    ),
    (
        "loud, no description",
        "a bright, bursting high-impact abstract texture, the scene has an orange color palette",
        28.0,
        0.9,
        0.95,
        0.9,
    ),
    (
        "drum stick, snare / loud",
        "Drum stick strikes a snare, explosion impact",
        330.0,
        0.8,
        0.9,
        0.85,
    ),
    (
        "strings, choir / quiet",
        "Strings play and choir sings, floating water wave",
        205.0,
        0.55,
        0.7,
        0.35,
    ),
    (
        "bass, organ / normal",
        "Bass plays and organ plays, deep electric circuit",
        100.0,
        0.7,
        0.6,
        0.55,
    ),
]


def _font(size: int) -> ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1
        return ImageFont.load_default()


def make_sheet(*, columns: int = 4, tile: int = 256, seed: int = 0) -> Image.Image:
    caption_h = 34
    rows = (len(EXAMPLES) + columns - 1) // columns
    sheet = Image.new("RGB", (columns * tile, rows * (tile + caption_h)), (18, 18, 20))
    draw = ImageDraw.Draw(sheet)
    font, small = _font(14), _font(11)
    for i, (caption, prompt, hue, sat, val, energy) in enumerate(EXAMPLES):
        image = render_image(
            prompt,
            seed=seed,
            size=(512, 512),
            style=Style(hue=hue, saturation=sat, value=val, energy=energy),
        )
        x, y = (i % columns) * tile, (i // columns) * (tile + caption_h)
        sheet.paste(image.resize((tile, tile), Image.LANCZOS), (x, y))
        motifs = ", ".join(m for m, _ in choose_motifs(prompt, np.random.default_rng(0)))
        draw.text((x + 6, y + tile + 3), caption, fill=(235, 235, 235), font=font)
        draw.text(
            (x + 6, y + tile + 19),
            f"hue {hue:.0f}, energy {energy:.2f}: {motifs}",
            fill=(160, 160, 165),
            font=small,
        )
    return sheet


def video_sheet(
    video: Path, *, every: float = 2.0, columns: int = 4, tile: tuple[int, int] = (320, 180)
) -> Image.Image:
    """Frames of ``video`` every ``every`` seconds (ffmpeg), tiled and captioned with the time."""
    import subprocess  # noqa: PLC0415

    w, h = tile
    raw = subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-i",
            str(video),
            "-vf",
            f"fps=1/{every},scale={w}:{h}",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-",
        ],
        capture_output=True,
        check=True,
    ).stdout
    frames = np.frombuffer(raw, np.uint8).reshape(-1, h, w, 3)
    rows = (len(frames) + columns - 1) // columns
    sheet = Image.new("RGB", (columns * w, rows * h), (18, 18, 20))
    draw = ImageDraw.Draw(sheet)
    font = _font(13)
    for i, frame in enumerate(frames):
        x, y = (i % columns) * w, (i // columns) * h
        sheet.paste(Image.fromarray(frame), (x, y))
        label = f"{i * every:.0f} s"
        draw.rectangle((x + 4, y + 4, x + 12 + 8 * len(label), y + 22), fill=(0, 0, 0))
        draw.text((x + 8, y + 6), label, fill=(235, 235, 235), font=font)
    return sheet


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs/images/textures-contact-sheet.png")
    parser.add_argument("--video", type=Path, help="tile this MP4's frames instead of textures")
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    sheet = video_sheet(args.video) if args.video else make_sheet()
    save_png(sheet, args.out)
    size = args.out.stat().st_size
    if size > 1_500_000:  # keep the repository light: fall back to a 256-colour palette
        with atomic_path(args.out, suffix=".png") as tmp:
            sheet.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(tmp, optimize=True)
        size = args.out.stat().st_size
    print(f"wrote {args.out} ({sheet.width}x{sheet.height}, {size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
