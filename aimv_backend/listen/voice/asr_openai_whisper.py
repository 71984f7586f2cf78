"""Transcription with openai-whisper (the original design's engine), for users with its weights.

--asr-model is a model name ("base", "small.en", ...) looked up in ``$XDG_CACHE_HOME/whisper``
or ``~/.cache/whisper`` (downloaded there only when downloads are allowed, through a temporary
folder so a failed download leaves nothing behind), or the path of a ``.pt`` checkpoint. The
checkpoint is read with ``torch.load(weights_only=True)``. A checkpoint given as a path gets the
alignment heads of the official model it is (by file name or sha256), which word timestamps
need; an unknown checkpoint keeps Whisper's default heads (all heads of the upper half of the
decoder) and a notice says so.
"""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from aimv_backend.errors import ModelUnavailableError, ParameterError
from aimv_backend.listen.voice.assign import AsrSegment, Transcript
from aimv_backend.util.files import sha256_file
from aimv_backend.util.weights import load_torch_weights
from aimv_timeline.schema import Word


def whisper_cache_dir() -> Path:
    """Where openai-whisper keeps its checkpoints: $XDG_CACHE_HOME/whisper or ~/.cache/whisper."""
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "whisper"


def _registry() -> tuple[dict[str, str], dict[str, bytes]]:
    import whisper

    return whisper._MODELS, whisper._ALIGNMENT_HEADS


def _expected_sha(url: str) -> str:
    return url.split("/")[-2]


def resolve_checkpoint(model: str, *, allow_download: bool) -> tuple[Path, str | None]:
    """(checkpoint path, official name or None) for --asr-model, downloading only if allowed."""
    urls, _ = _registry()
    path = Path(model).expanduser()
    if model not in urls:
        if path.is_file():
            return path.resolve(), None
        raise ParameterError(
            f"--asr-model {model!r} is neither an openai-whisper model name "
            f"({', '.join(list(urls)[:6])}, ...) nor a .pt checkpoint file"
        )
    url = urls[model]
    target = whisper_cache_dir() / os.path.basename(url)
    if target.is_file():
        if sha256_file(target) != _expected_sha(url):
            raise ModelUnavailableError(
                f"openai-whisper checkpoint {str(target)!r} fails its sha256 check; "
                "delete it to download it again"
            )
        return target, model
    if not allow_download:
        raise ModelUnavailableError(
            f"--asr-model {model!r}: {str(target)!r} is missing and downloads are not allowed; "
            "use --asr faster-whisper (offline default) or give a .pt path"
        )
    return _download(url, target), model


def _download(url: str, target: Path) -> Path:
    """Fetch ``url`` into a temporary folder beside ``target``, verify it, rename it in place."""
    import whisper

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".download.", dir=target.parent))
    try:
        got = Path(whisper._download(url, str(tmp), False))
        os.replace(got, target)
    except (OSError, RuntimeError, ValueError) as exc:
        raise ModelUnavailableError(
            f"openai-whisper checkpoint {url!r} cannot be downloaded: {exc}"
        ) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _official_name(path: Path) -> str | None:
    """Which official checkpoint a file is: by its name first, else by its sha256."""
    urls, _ = _registry()
    for name, url in urls.items():
        if path.name == os.path.basename(url) or path.stem == name:
            return name
    digest = sha256_file(path)
    for name, url in urls.items():
        if _expected_sha(url) == digest:
            return name
    return None


@functools.lru_cache(maxsize=2)
def load_model(path: str, name: str | None, device: str):
    """A whisper.model.Whisper from a checkpoint file (cached: one load per run).

    Returns (model, notice) where notice is a message for the user or None.
    """
    from whisper.model import ModelDimensions, Whisper

    checkpoint = load_torch_weights(path, what="openai-whisper checkpoint", map_location=device)
    if not isinstance(checkpoint, dict):
        raise ModelUnavailableError(
            f"openai-whisper checkpoint {path!r} cannot be loaded: it holds no model dict"
        )
    try:
        dims = ModelDimensions(**checkpoint["dims"])
        model = Whisper(dims)
        model.load_state_dict(checkpoint["model_state_dict"])
    except (OSError, RuntimeError, KeyError, IndexError, TypeError, ValueError) as exc:
        raise ModelUnavailableError(
            f"openai-whisper checkpoint {path!r} cannot be loaded: {str(exc).splitlines()[0]}"
        ) from None
    notice = None
    official = name or _official_name(Path(path))
    heads = _registry()[1].get(official) if official else None
    if heads is not None:
        try:
            model.set_alignment_heads(heads)
        except (ValueError, RuntimeError):  # the heads of a model of another size
            heads = None
    if heads is None:
        notice = (
            f"openai-whisper checkpoint {path!r} is not an official model; word timestamps use "
            "the default alignment heads and may be less exact"
        )
    return model.to(device).eval(), notice


def transcribe(
    *,
    checkpoint: tuple[str, str | None],
    audio: np.ndarray,
    language: str | None,
    max_new_tokens: int,
) -> tuple[Transcript, str | None]:
    """(segments with word times in seconds into ``audio``, notice for the user or None).

    checkpoint: (path, official name or None) from :func:`resolve_checkpoint`.
    audio: mono 16 kHz float32. One temperature, at most ``max_new_tokens`` per 30 s window,
    no conditioning on the previous text, fp16 only on a GPU (the same choices as the
    faster-whisper engine).
    """
    import torch
    import whisper

    path, name = checkpoint
    device = "cuda" if torch.cuda.is_available() else "cpu"
    whisper_model, notice = load_model(path, name, device)
    if not whisper_model.is_multilingual:
        if language not in (None, "en"):
            raise ParameterError(
                f"--language {language!r}: openai-whisper model {Path(path).name!r} is English-only"
            )
        language = "en"
    result = whisper.transcribe(
        whisper_model,
        np.ascontiguousarray(audio, dtype=np.float32),
        language=language,
        word_timestamps=True,
        condition_on_previous_text=False,
        temperature=0.0,
        sample_len=max_new_tokens,
        fp16=next(whisper_model.parameters()).is_cuda,
        verbose=None,
    )
    segments = []
    for seg in result.get("segments", ()):
        words = tuple(
            Word(
                text=str(w["word"]).strip(),
                start=float(w["start"]),
                end=float(w["end"]),
                probability=float(w.get("probability", 0.0)),
            )
            for w in seg.get("words", ()) or ()
        )
        segments.append(
            AsrSegment(
                words=words,
                avg_logprob=float(seg.get("avg_logprob", 0.0)),
                compression_ratio=float(seg.get("compression_ratio", 1.0)),
                no_speech_prob=float(seg.get("no_speech_prob", 0.0)),
            )
        )
    transcript = Transcript(language=result.get("language") or language, segments=tuple(segments))
    return transcript, notice
