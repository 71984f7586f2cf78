"""Which instruments play in each window: PANNs Cnn14 or the offline musicnn tagger, with the
drum pieces of the kit classifier (aimv_backend.listen.drums) merged in.

``tag_instruments`` loads the song at the engine's rate, scores every non-silent window, and
applies the design's selection rule (selection.py) through the engine's label table
(labels.py). ``--instruments auto`` uses PANNs when its checkpoint is present or can be
downloaded, and otherwise falls back to musicnn, whose weights ship in the musicnn package.
See docs/instruments.md.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass

from aimv_backend.audio.io import AudioInfo, load_mono
from aimv_backend.errors import ModelUnavailableError, ParameterError
from aimv_backend.listen.instruments.base import TaggerEngine, window_rms_dbfs
from aimv_backend.listen.instruments.selection import DEFAULT_CONFIDENCE, select_instruments
from aimv_backend.listen.volume import FLOOR_DBFS, song_silence_dbfs
from aimv_backend.listen.windows import WindowSpan
from aimv_backend.progress import Progress
from aimv_timeline import names
from aimv_timeline.schema import Hit, InstrumentGuess

ENGINES = (*names.INSTRUMENT_ENGINES, "none")
DRUM_ENGINES = ("kit", "none")
FAMILY_ENGINE = "family-cnn:families"

__all__ = [
    "ENGINES",
    "InstrumentOptions",
    "InstrumentResult",
    "check_instrument_options",
    "load_engine",
    "tag_instruments",
]


@dataclass(frozen=True)
class InstrumentOptions:
    """How to tag instruments.

    engine: "auto" (PANNs if available, else musicnn), "musicnn", "panns" or "none".
    confidence: score in [0, 1] from which a label counts as confident (design: 0.70).
    panns_checkpoint: path of Cnn14_mAP=0.431.pth; None: $AIMV_PANNS_CHECKPOINT or
        ~/panns_data/Cnn14_mAP=0.431.pth.
    allow_download: fetch a missing PANNs checkpoint (327 MB); False never touches the network.
    batch_size: patches (musicnn) or 20 s chunks (PANNs) per model call.
    drums: "kit" finds drum hits and names their pieces (kick, crash, ...); "none" skips it.
    families: "kit" adds the instrument-family classifier (bass, organ, brass, saxophone,
        synth, ...) to musicnn's scores (PANNs has those classes itself); "none" leaves the
        tagger alone.
    drum_gate: classifier score in (0, 1] from which an onset is a drum hit.
    Validated on construction: a ParameterError names the option and its value.
    """

    engine: str = "auto"
    confidence: float = DEFAULT_CONFIDENCE
    panns_checkpoint: str | None = None
    allow_download: bool = True
    batch_size: int = 8
    drums: str = "kit"
    drum_gate: float = 0.3
    families: str = "kit"

    def __post_init__(self) -> None:
        check_instrument_options(self)


@dataclass(frozen=True)
class InstrumentResult:
    """engine: what produced the guesses ("musicnn:MTT_musicnn", "panns:Cnn14", "none").

    windows: one tuple of guesses per input window, in order; () for silent windows.
    hits: per window, its drum hits (() when silent); None when drums were not analysed.
    drum_engine: what found the hits ("kit-cnn:drum_pieces"), or None.
    family_engine: the family classifier that joined the tagger ("family-cnn:families"), or None.
    """

    engine: str
    windows: tuple[tuple[InstrumentGuess, ...], ...]
    hits: tuple[tuple[Hit, ...], ...] | None = None
    drum_engine: str | None = None
    family_engine: str | None = None


def check_instrument_options(options: InstrumentOptions) -> None:
    """Refuse bad options with a ParameterError naming the option and its value (run on
    construction; kept public for callers that check an instance again)."""
    if options.engine not in ENGINES:
        raise ParameterError(
            f"--instruments must be one of {', '.join(ENGINES)}, got {options.engine!r}"
        )
    c = options.confidence
    if isinstance(c, bool) or not isinstance(c, (int, float)) or not math.isfinite(c):
        raise ParameterError(f"--instrument-confidence must be a number in [0, 1], got {c!r}")
    if not 0.0 <= c <= 1.0:
        raise ParameterError(f"--instrument-confidence must be between 0 and 1, got {c!r}")
    b = options.batch_size
    if isinstance(b, bool) or not isinstance(b, int) or not 1 <= b <= 4096:
        raise ParameterError(
            f"InstrumentOptions.batch_size must be an integer in [1, 4096], got {b!r}"
        )
    p = options.panns_checkpoint
    if p is not None and (not isinstance(p, (str, os.PathLike)) or not os.fspath(p).strip()):
        raise ParameterError(f"--panns-checkpoint must be a file path, got {p!r}")
    if options.drums not in DRUM_ENGINES:
        raise ParameterError(
            f"--drums must be one of {', '.join(DRUM_ENGINES)}, got {options.drums!r}"
        )
    if options.families not in DRUM_ENGINES:
        raise ParameterError(
            f"--families must be one of {', '.join(DRUM_ENGINES)}, got {options.families!r}"
        )
    from aimv_backend.listen.drums import check_drum_thresholds

    check_drum_thresholds(gate=options.drum_gate, piece_threshold=options.drum_gate)
    if not isinstance(options.allow_download, bool):
        raise ParameterError(
            f"allow_download must be True or False, got {options.allow_download!r}"
        )


def load_engine(options: InstrumentOptions, progress: Progress) -> TaggerEngine:
    """The engine ``options`` ask for, loaded (models are cached per process).

    Raises ModelUnavailableError when the named engine cannot run; under "auto" a PANNs
    failure becomes a notice and musicnn is used instead.
    """
    from aimv_backend.listen.instruments.musicnn_engine import MusicnnEngine

    if options.engine == "musicnn":
        return MusicnnEngine()
    if options.engine == "panns":
        return _panns(options, progress)
    from aimv_backend.listen.instruments import panns_engine

    path = panns_engine.resolve_checkpoint(options.panns_checkpoint)
    if not options.allow_download and not path.exists():  # offline, as on most runs: one line
        progress.notice(f"instruments: musicnn (no PANNs checkpoint at {path}; offline)")
        return MusicnnEngine()
    try:
        return _panns(options, progress)
    except ModelUnavailableError as exc:
        progress.notice(f"instruments: musicnn, PANNs is not available ({exc})")
        return MusicnnEngine()


def _panns(options: InstrumentOptions, progress: Progress) -> TaggerEngine:
    from aimv_backend.listen.instruments import panns_engine

    path = panns_engine.resolve_checkpoint(options.panns_checkpoint)
    path = panns_engine.ensure_checkpoint(
        path, allow_download=options.allow_download, progress=progress
    )
    return panns_engine.PannsEngine(path)


def tag_instruments(
    *,
    audio_info: AudioInfo,
    windows: Sequence[WindowSpan],
    options: InstrumentOptions,
    progress: Progress,
    silent: Sequence[bool] | None = None,
    notes: Sequence[Sequence] | None = None,
) -> InstrumentResult:
    """Guess the instruments of every window of the song.

    silent[i] True (e.g. the window's volume level is "silent") skips window i; windows whose
    RMS is below the song's silence (-60 dBFS, lower in a quiet song: volume.song_silence_dbfs)
    are skipped too. Skipped windows get () -- no instrument at all.
    Window times are taken from ``WindowSpan.start``/``end`` (seconds).
    notes: each window's basic-pitch notes (notes.window_notes), which the family classifier's
    use checks for chords in the bass register (families.low_chord); when None they are heard
    here if basic-pitch is installed (and the families join the tagger).
    """
    if silent is not None and len(silent) != len(windows):
        raise ParameterError(f"silent has {len(silent)} entries for {len(windows)} windows")
    if notes is not None and len(notes) != len(windows):
        raise ParameterError(f"notes has {len(notes)} entries for {len(windows)} windows")
    if options.engine == "none" or not windows:
        return InstrumentResult("none", tuple(() for _ in windows))
    engine = load_engine(options, progress)
    audio = load_mono(audio_info, sample_rate=engine.sample_rate)
    spans = [(w.start, w.end) for w in windows]
    levels = window_rms_dbfs(audio, spans, engine.sample_rate)
    quiet = song_silence_dbfs(max(levels, default=FLOOR_DBFS))
    active = [
        level >= quiet and not (silent is not None and silent[i]) for i, level in enumerate(levels)
    ]
    scores = engine.window_scores(
        audio, spans, active, batch_size=options.batch_size, progress=progress
    )
    # The family classifier closes musicnn's gaps; PANNs has its own bass, organ, brass classes.
    use_families = options.families == "kit" and engine.name.startswith("musicnn")
    mel = None
    if use_families or options.drums == "kit":
        from aimv_backend.listen.drums import features

        mel = features.power_mel(load_mono(audio_info, sample_rate=features.RATE))
    if use_families and notes is None:
        notes = _notes(audio_info, windows, active, progress)
    out = _select(scores, engine, active, options, mel if use_families else None, spans, notes)
    family_engine = FAMILY_ENGINE if use_families else None
    if options.drums == "none":
        return InstrumentResult(engine.name, out, family_engine=family_engine)
    from aimv_backend.listen import drums

    drum = drums.listen_drums(
        mel=mel,
        spans=spans,
        active=active,
        gate=options.drum_gate,
        piece_threshold=options.drum_gate,
    )
    merged = tuple(
        drums.merge_pieces(g, drum.piece_scores[i], confidence=options.confidence) if on else ()
        for i, (g, on) in enumerate(zip(out, active, strict=True))
    )
    return InstrumentResult(engine.name, merged, drum.hits, drums.ENGINE_NAME, family_engine)


def _notes(audio_info, windows, active, progress):
    """basic-pitch's notes per window, or None when basic-pitch is not installed (with
    ``--colour spectrum`` the colour stage did not hear them: a pass of its own, shown)."""
    from aimv_backend.listen import notes as bp

    if not bp.notes_available():
        return None
    task = progress.task("instruments: notes (basic-pitch)", 1)
    try:
        audio = load_mono(audio_info, sample_rate=bp.SAMPLE_RATE)
        notes = bp.window_notes(
            audio=audio, sample_rate=bp.SAMPLE_RATE, windows=windows, skip=[not a for a in active]
        )
        task.advance()
    finally:
        task.close()
    return notes


def _select(scores, engine, active, options, mel, spans, notes=None):
    """The selection rule per window, on the tagger's scores plus the family classifier's."""
    if mel is None:
        return tuple(
            select_instruments(
                scores[i], labels=engine.labels, table=engine.table, confidence=options.confidence
            )
            if on
            else ()
            for i, on in enumerate(active)
        )
    from aimv_backend.listen import families

    fam = families.window_family_scores(mel, spans, active)
    out = []
    for i, on in enumerate(active):
        if not on:
            out.append(())
            continue
        row, labels, table = families.combine(
            scores[i],
            fam[i],
            labels=engine.labels,
            table=engine.table,
            notes=None if notes is None else notes[i],
        )
        out.append(
            select_instruments(row, labels=labels, table=table, confidence=options.confidence)
        )
    return tuple(out)
