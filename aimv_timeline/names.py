"""Names and limits both halves of AIMV agree on: file names, stage names, engine names.

One place for each literal, so the backend, the add-on, the headless script and the docs cannot
drift apart.
"""

from __future__ import annotations

# Exit codes of every AIMV program (aimv, the headless Blender script).
EXIT_USER_ERROR = 2  # bad input or options: one line on stderr
EXIT_CANCELLED = 130  # Ctrl-C or SIGTERM (128 + SIGINT, as shells report it)

# Files in a work folder.
TIMELINE_FILE = "timeline.json"
TEXTURES_DIR = "textures"
SEQUENCE_DIR = "aimv_sequence"  # the textures staged as one image sequence for Blender
CHUNKS_DIR = "chunks"  # encoded video segments, cached for a resumed render (docs/scale.md)
RENDER_RECORD_FILE = "render.json"
SCENE_FILE = "scene.blend"

# What the backend reads (libsndfile through soundfile) and Blender's sound strip plays.
AUDIO_FORMATS = "WAV, FLAC, MP3, OGG or AIFF"
AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".ogg", ".oga", ".opus", ".aif", ".aiff")

# The four stages, in order: folder names, CLI subcommands, option classes and docs use these.
STAGES = ("listen", "describe", "imagine", "stage")
# Older subcommand names kept as aliases.
STAGE_ALIASES = {"analyze": "listen", "textures": "imagine"}

# Engines.
RENDER_ENGINES = ("workbench", "eevee", "cycles")
TEXTURE_ENGINES = ("procedural", "diffusers")
# --textures video: procedural stills plus a generated clip per bar group or phrase (GPU)
VIDEO_ENGINE = "video"
INSTRUMENT_ENGINES = ("auto", "musicnn", "panns")
ASR_ENGINES = ("faster-whisper", "openai-whisper")

# The picture's layers that can be switched off (--no-<layer>, Scene.aimv.layer_<layer>), with
# what each shows; every layer is on by default on every entry point.
PICTURE_LAYERS = {
    "lyrics": "the sung and spoken words as 3D text",
    "pictograms": "OpenMoji pictograms of the sentence's nouns",
    "hits": "drum hits as camera punches, pulses and flashes",
    "motion": "the camera's sway and push-in and the background's drift",
}

# Limits.
MIN_RESOLUTION = 16
MAX_RESOLUTION = (7680, 4320)  # 8K UHD, the largest frame any entry point accepts
MIN_FPS = 1
MAX_FPS = 240
MAX_SAMPLES = 4096  # EEVEE/Cycles samples per pixel
MAX_SEED = 2**63  # --seed: 0 to MAX_SEED - 1, everywhere (torch's generators take int64)
MAX_CROSSFADE_SECONDS = 10.0
MAX_WORD_CHARS = 100  # one sung word (the longest real words are ~45 letters)
MAX_LINE_CHARS = 5000  # a window's words together
MIN_WINDOW_SECONDS = 0.25
MAX_WINDOW_SECONDS = 10.0
MAX_SONG_SECONDS = 6 * 3600  # the longest song a timeline may describe (bounds frame counts)
MAX_TIMELINE_BYTES = 256 * 1024 * 1024  # ~20x a 6-hour song's timeline at 0.25 s windows
MAX_JSON_NUMBER_CHARS = 64  # digits of one number in a timeline (seeds are < 2**64)


def check_resolution(width: int, height: int, *, option: str = "--resolution") -> str | None:
    """None when ``width`` x ``height`` (pixels) is renderable, else a one-line reason."""
    max_w, max_h = MAX_RESOLUTION
    if (
        MIN_RESOLUTION <= width <= max_w
        and MIN_RESOLUTION <= height <= max_h
        and not width % 2
        and not height % 2
    ):
        return None
    return (
        f"{option} must be even numbers from {MIN_RESOLUTION}x{MIN_RESOLUTION} "
        f"to {max_w}x{max_h}, got {width}x{height}"
    )


def check_frames_per_window(window_seconds: list[float], fps: int) -> str | None:
    """None when ``fps`` gives the windows (their lengths, seconds) a frame each, typically,
    else a one-line reason. The median window counts: beat windows vary around --window and
    the first and last may be short, which the keying allows."""
    if not window_seconds:
        return None
    typical = sorted(window_seconds)[len(window_seconds) // 2]
    if typical * fps >= 1.0:
        return None
    return (
        f"--fps {fps} gives less than one frame per window (the windows last {typical:.3g} s); "
        "raise --fps or --window"
    )
