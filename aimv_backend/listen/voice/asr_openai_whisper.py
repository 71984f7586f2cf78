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
import hashlib
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from aimv_backend.errors import ModelUnavailableError, ParameterError
from aimv_backend.listen.voice.assign import Transcript
from aimv_backend.progress import Progress
from aimv_backend.timeline_schema import Word


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


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def model_names() -> tuple[str, ...]:
    """The official checkpoint names openai-whisper knows."""
    return tuple(_registry()[0])


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
        if _sha256(target) != _expected_sha(url):
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
    digest = _sha256(path)
    for name, url in urls.items():
        if _expected_sha(url) == digest:
            return name
    return None


@functools.lru_cache(maxsize=2)
def load_model(path: str, name: str | None, device: str):
    """A whisper.model.Whisper from a checkpoint file (cached: one load per run).

    Returns (model, notice) where notice is a message for the user or None.
    """
    import torch
    from whisper.model import ModelDimensions, Whisper

    try:
        checkpoint = torch.load(path, map_location=device, weights_only=True)
        dims = ModelDimensions(**checkpoint["dims"])
        model = Whisper(dims)
        model.load_state_dict(checkpoint["model_state_dict"])
    except (OSError, RuntimeError, KeyError, TypeError, ValueError) as exc:
        raise ModelUnavailableError(
            f"openai-whisper checkpoint {path!r} cannot be loaded: {str(exc).splitlines()[0]}"
        ) from None
    notice = None
    official = name or _official_name(Path(path))
    heads = _registry()[1].get(official) if official else None
    if heads is not None:
        try:
            model.set_alignment_heads(heads)
        except ValueError:
            heads = None
    if heads is None:
        notice = (
            f"openai-whisper checkpoint {path!r} is not an official model; word timestamps use "
            "the default alignment heads and may be less exact"
        )
    return model.to(device).eval(), notice


def transcribe(
    *,
    model: str,
    audio: np.ndarray,
    language: str | None,
    allow_download: bool,
    progress: Progress,
) -> tuple[Transcript, str]:
    """(words with times in seconds into ``audio`` + language, engine name).

    audio: mono 16 kHz float32. Decoding is greedy with temperature fallback, not conditioned
    on the previous text, fp16 only on a GPU.
    """
    import torch

    path, name = resolve_checkpoint(model, allow_download=allow_download)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    whisper_model, notice = load_model(str(path), name, device)
    if notice:
        progress.notice(notice)
    if not whisper_model.is_multilingual:
        if language not in (None, "en"):
            raise ParameterError(
                f"--language {language!r}: openai-whisper model {model!r} is English-only"
            )
        language = "en"
    import whisper

    with progress.task("voice: transcribe (openai-whisper)", 1) as task:
        result = whisper.transcribe(
            whisper_model,
            np.ascontiguousarray(audio, dtype=np.float32),
            language=language,
            word_timestamps=True,
            condition_on_previous_text=False,
            fp16=device == "cuda",
            verbose=None,
        )
        task.advance()
    words = []
    for segment in result.get("segments", ()):
        for w in segment.get("words", ()) or ():
            words.append(
                Word(
                    text=str(w["word"]).strip(),
                    start=float(w["start"]),
                    end=float(w["end"]),
                    probability=float(w.get("probability", 0.0)),
                )
            )
    engine = f"openai-whisper:{name or path.name}"
    return Transcript(language=result.get("language") or language, words=tuple(words)), engine
