"""The design's tagger: PANNs Cnn14 (AudioSet, 527 labels) through the panns-inference package.

Two pitfalls of panns-inference are avoided (docs/instruments.md): importing the package runs
``wget`` for its label list (we load only its ``models`` module, under a private package name,
and ship the label CSV), and ``AudioTagging`` re-downloads over an existing checkpoint (we
resolve, download and load the checkpoint ourselves, see download.py).

Cnn14 was trained on 10-second clips and pools its last feature map over time (max + mean).
Running it once per window on a few seconds of context would repeat most of the work, so the
convolutional trunk runs once over the song in 20.48 s chunks with 1.6 s of audio margin on
each side (more than the trunk's receptive field), giving one 2048-d feature per 0.32 s. Each
window then pools the features over its context (at least CONTEXT_SECONDS centred on the
window, or the window itself if longer) and applies Cnn14's own classifier layers.
"""

from __future__ import annotations

import importlib
import importlib.util
import math
import os
import sys
import types
from functools import lru_cache
from pathlib import Path

import numpy as np

from aimv_backend.errors import ModelUnavailableError
from aimv_backend.listen.instruments.base import ScoreJob, TaggerEngine
from aimv_backend.listen.instruments.download import download_file
from aimv_backend.listen.instruments.labels import AUDIOSET_INSTRUMENTS, audioset_labels
from aimv_backend.progress import Progress
from aimv_backend.util.net import check_reachable
from aimv_backend.util.weights import load_torch_weights

CHECKPOINT_NAME = "Cnn14_mAP=0.431.pth"
CHECKPOINT_URL = "https://zenodo.org/record/3987831/files/Cnn14_mAP%3D0.431.pth?download=1"
CHECKPOINT_BYTES = 327_428_481
CHECKPOINT_MD5 = "541141fa2ee191a88f24a3219fff024e"  # as published on the Zenodo record
ENV_CHECKPOINT = "AIMV_PANNS_CHECKPOINT"

SAMPLE_RATE = 32_000
FEATURE_HOP = 320 * 32  # samples per trunk output frame: STFT hop x five 2x poolings (0.32 s)
CHUNK_FRAMES = 64  # 20.48 s of song per trunk pass
MARGIN_FRAMES = 5  # 1.6 s of audio each side of a chunk; Cnn14's receptive field is ~+-1.3 s
CONTEXT_SECONDS = 4.0
CPU_MAX_BATCH = 2
CNN14_KWARGS = dict(
    sample_rate=32000, window_size=1024, hop_size=320, mel_bins=64, fmin=50, fmax=14000,
    classes_num=527,
)  # fmt: skip
_ALIAS = "_aimv_panns_inference"


def default_checkpoint_path() -> Path:
    return Path.home() / "panns_data" / CHECKPOINT_NAME


def resolve_checkpoint(option: str | os.PathLike[str] | None) -> Path:
    """--panns-checkpoint, else $AIMV_PANNS_CHECKPOINT, else ~/panns_data/Cnn14_mAP=0.431.pth."""
    if option:
        return Path(option).expanduser()
    env = os.environ.get(ENV_CHECKPOINT)
    if env:
        return Path(env).expanduser()
    return default_checkpoint_path()


def ensure_checkpoint(
    path: Path, *, allow_download: bool, progress: Progress, url: str | None = None
) -> Path:
    """Return ``path`` if it is a file; otherwise download it there (or explain why not).

    An existing file is never replaced, even when it turns out not to load (see _load_cnn14).
    """
    if path.is_file():
        return path
    if path.exists():
        raise ModelUnavailableError(f"--panns-checkpoint {str(path)!r} is not a file")
    if not allow_download:
        raise ModelUnavailableError(
            f"PANNs checkpoint {str(path)!r} is missing and downloads are disabled; "
            f"get it from {CHECKPOINT_URL} or use --instruments musicnn"
        )
    check_reachable(url or CHECKPOINT_URL, what="PANNs checkpoint not downloaded")  # <= 2 s
    progress.notice(f"downloading the PANNs Cnn14 checkpoint (327 MB) to {path}")
    return download_file(
        url=url or CHECKPOINT_URL,
        destination=path,
        expected_size=CHECKPOINT_BYTES,
        expected_md5=CHECKPOINT_MD5,
        progress=progress,
        what="PANNs Cnn14 checkpoint",
    )


def panns_models_module() -> types.ModuleType:
    """panns_inference.models, imported without running panns_inference/__init__.py.

    The package __init__ imports config.py, which downloads the label list with wget at import
    time. We register the package folder under a private name and import only ``models`` (it
    needs ``pytorch_utils`` and torchlibrosa, nothing that touches the network).
    """
    spec = importlib.util.find_spec("panns_inference")  # finds the folder, runs nothing
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailableError(
            "the panns-inference package is not installed: pip install 'aimv[panns]'"
        )
    if _ALIAS not in sys.modules:
        package = types.ModuleType(_ALIAS)
        package.__path__ = list(spec.submodule_search_locations)
        package.__package__ = _ALIAS
        sys.modules[_ALIAS] = package
    try:
        return importlib.import_module(f"{_ALIAS}.models")
    except ImportError as exc:
        raise ModelUnavailableError(f"panns-inference cannot be loaded: {exc}") from None


@lru_cache(maxsize=1)
def _load_cnn14(path: str, mtime_ns: int, size: int, device: str):
    import pickle
    import zipfile

    model = panns_models_module().Cnn14(**CNN14_KWARGS)
    checkpoint = load_torch_weights(path, what="PANNs checkpoint")  # one line if not weights
    try:
        state = (
            checkpoint["model"]
            if isinstance(checkpoint, dict) and "model" in checkpoint
            else checkpoint
        )
        model.load_state_dict(state)
    except (
        OSError, RuntimeError, EOFError, KeyError, TypeError, ValueError, AttributeError,
        IndexError, pickle.UnpicklingError, zipfile.BadZipFile,
    ) as exc:  # fmt: skip
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelUnavailableError(
            f"PANNs checkpoint {path!r} cannot be loaded as Cnn14 ({first_line}); the file was "
            f"left as it is: delete or replace it ({size} bytes, expected {CHECKPOINT_BYTES})"
        ) from None
    return model.to(device).eval()


def _trunk(model, audio):
    """Cnn14.forward up to its time pooling: (batch, samples) -> (batch, 2048, frames)."""
    x = model.logmel_extractor(model.spectrogram_extractor(audio))
    x = model.bn0(x.transpose(1, 3)).transpose(1, 3)
    blocks = (model.conv_block1, model.conv_block2, model.conv_block3, model.conv_block4,
              model.conv_block5, model.conv_block6)  # fmt: skip
    for i, block in enumerate(blocks):
        x = block(x, pool_size=(2, 2) if i < 5 else (1, 1), pool_type="avg")
    return x.mean(dim=3)


def _head(model, features):
    """Cnn14.forward after the trunk: (batch, 2048, frames) -> (batch, 527) probabilities."""
    import torch

    x = features.amax(dim=-1) + features.mean(dim=-1)
    return torch.sigmoid(model.fc_audioset(torch.relu(model.fc1(x))))


class PannsEngine(TaggerEngine):
    """PANNs Cnn14 from a checkpoint file in panns-inference's format ({"model": state_dict})."""

    name = "panns:Cnn14"
    sample_rate = SAMPLE_RATE
    table = AUDIOSET_INSTRUMENTS

    def __init__(self, checkpoint: Path, *, device: str | None = None):
        import torch

        self.labels = audioset_labels()
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        stat = checkpoint.stat()
        self.model = _load_cnn14(str(checkpoint), stat.st_mtime_ns, stat.st_size, self.device)

    def song_features(self, audio: np.ndarray, *, batch_size: int, progress: Progress):
        """Trunk features of the whole song: (2048, ceil(samples / FEATURE_HOP)) tensor."""
        import torch

        if self.device == "cpu":  # batching gains nothing on a CPU but costs ~200 MB a chunk
            batch_size = min(batch_size, CPU_MAX_BATCH)
        n_out = max(1, math.ceil(audio.shape[0] / FEATURE_HOP))
        chunk = min(CHUNK_FRAMES, n_out)
        n_chunks = math.ceil(n_out / chunk)
        padded = np.zeros((n_chunks * chunk + 2 * MARGIN_FRAMES) * FEATURE_HOP, np.float32)
        margin = MARGIN_FRAMES * FEATURE_HOP
        padded[margin : margin + audio.shape[0]] = audio
        span = (chunk + 2 * MARGIN_FRAMES) * FEATURE_HOP
        parts = []
        batches = math.ceil(n_chunks / batch_size)
        task = progress.task("instruments (panns)", batches)
        try:
            with torch.inference_mode():
                for b in range(batches):
                    ks = range(b * batch_size, min(n_chunks, (b + 1) * batch_size))
                    x = np.stack([padded[k * chunk * FEATURE_HOP :][:span] for k in ks])
                    feats = _trunk(self.model, torch.from_numpy(x).to(self.device))
                    core = feats[:, :, MARGIN_FRAMES : MARGIN_FRAMES + chunk]
                    parts.append(core.permute(1, 0, 2).reshape(feats.shape[1], -1))
                    task.advance(1)
        finally:
            task.close()
        return torch.cat(parts, dim=1)[:, :n_out]

    def score_active(self, job: ScoreJob, scores: np.ndarray) -> None:
        import torch

        feats = self.song_features(job.audio, batch_size=job.batch_size, progress=job.progress)
        n_out = feats.shape[1]
        duration = job.audio.shape[0] / SAMPLE_RATE
        frame_s = FEATURE_HOP / SAMPLE_RATE
        rows, segments = [], []
        for w, ((start, end), on) in enumerate(zip(job.spans, job.active, strict=True)):
            if not on:
                continue
            middle = 0.5 * (start + end)
            lo = max(0.0, min(start, middle - CONTEXT_SECONDS / 2))
            hi = min(duration, max(end, middle + CONTEXT_SECONDS / 2))
            i0 = min(int(lo / frame_s), n_out - 1)
            i1 = min(max(i0 + 1, math.ceil(hi / frame_s)), n_out)
            rows.append(w)
            segments.append((i0, i1))
        with torch.inference_mode():
            for w, (i0, i1) in zip(rows, segments, strict=True):
                probs = _head(self.model, feats[None, :, i0:i1])
                scores[w] = probs[0].float().cpu().numpy()
