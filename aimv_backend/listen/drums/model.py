"""The small CNNs behind drum pieces and instrument families, and their shipped weights.

One architecture for both: three 3x3 convolutions with batch norm and ReLU over a normalised
log-mel patch (frames x 64 bands) -- the first with stride 2, the others each followed by a 2x2
max pool -- then mean and max over what is left, then a linear layer to one logit per class
(multi-label: a sigmoid per class). About 25k weights.

Weights ship as ``.npz`` files in ``aimv_backend/data/listen/`` (plain arrays: no pickle), with
their class names and the front end's settings stored beside them so a mismatch is caught.
tools/train_listen_models.py writes them.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from aimv_backend.errors import ModelUnavailableError
from aimv_backend.listen.drums import features

DATA_FOLDER = "listen"
CHANNELS = (16, 32, 64)


def build_net(n_classes: int, channels: tuple[int, ...] = CHANNELS):
    """The PyTorch module (untrained) for ``n_classes`` outputs, ``channels`` per conv layer."""
    import torch
    from torch import nn

    class PatchNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            layers: list[nn.Module] = [nn.BatchNorm2d(1)]
            c_in = 1
            for i, c in enumerate(channels):
                layers += [
                    nn.Conv2d(c_in, c, 3, stride=2 if i == 0 else 1, padding=1, bias=False),
                    nn.BatchNorm2d(c),
                    nn.ReLU(),
                ]
                if i:
                    layers.append(nn.MaxPool2d(2))
                c_in = c
            self.body = nn.Sequential(*layers)
            self.dropout = nn.Dropout(0.2)
            self.head = nn.Linear(2 * c_in, n_classes)

        def embed(self, x: torch.Tensor) -> torch.Tensor:
            """x: (n, frames, bands) normalised patches -> pooled features (n, 2 * channels)."""
            h = self.body(x.unsqueeze(1))
            return torch.cat([h.mean(dim=(2, 3)), h.amax(dim=(2, 3))], dim=1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            """x: (n, frames, bands) normalised patches -> logits (n, n_classes)."""
            return self.head(self.dropout(self.embed(x)))

    return PatchNet()


@dataclass(frozen=True)
class PatchModel:
    """A loaded classifier: class names, patch length (frames) and the network (eval mode)."""

    name: str
    classes: tuple[str, ...]
    frames: int
    net: object
    meta: dict

    def probabilities(self, patches: np.ndarray, *, batch_size: int = 512) -> np.ndarray:
        """Sigmoid probabilities (n, classes) of normalised patches (n, frames, bands)."""
        return self.probabilities_and_embeddings(patches, batch_size=batch_size)[0]

    def probabilities_and_embeddings(
        self, patches: np.ndarray, *, batch_size: int = 512
    ) -> tuple[np.ndarray, np.ndarray]:
        """Sigmoid probabilities (n, classes) and the network's pooled features (n, 2 * last
        channels: what its last layer reads) of normalised patches (n, frames, bands)."""
        import torch

        n = patches.shape[0]
        out = np.zeros((n, len(self.classes)), dtype=np.float32)
        emb: np.ndarray | None = None
        with torch.inference_mode():
            for i in range(0, n, batch_size):
                x = torch.from_numpy(np.ascontiguousarray(patches[i : i + batch_size]))
                h = self.net.embed(x)
                out[i : i + batch_size] = torch.sigmoid(self.net.head(h)).numpy()
                if emb is None:
                    emb = np.zeros((n, h.shape[1]), dtype=np.float32)
                emb[i : i + batch_size] = h.numpy()
        return out, emb if emb is not None else np.zeros((0, 0), dtype=np.float32)


def weights_path(name: str) -> Path:
    return Path(str(resources.files("aimv_backend").joinpath("data", DATA_FOLDER, f"{name}.npz")))


def save_weights(net, *, path: Path, classes: tuple[str, ...], frames: int, meta: dict) -> None:
    """Write a trained network's state dict and metadata to ``path`` (.npz), atomically."""
    import os
    import tempfile

    arrays = {f"w:{k}": v.detach().cpu().numpy() for k, v in net.state_dict().items()}
    info = {
        "classes": list(classes),
        "frames": frames,
        "front_end": front_end_settings(),
        **meta,
    }
    arrays["meta"] = np.frombuffer(json.dumps(info).encode("utf-8"), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".npz", dir=path.parent)
    os.close(fd)
    try:
        np.savez_compressed(tmp, **arrays)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; a shipped file is world-readable
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def front_end_settings() -> dict:
    f = features
    return {
        "rate": f.RATE,
        "hop": f.HOP,
        "n_fft": f.N_FFT,
        "n_mels": f.N_MELS,
        "fmin": f.FMIN,
        "fmax": f.FMAX,
        "floor_decades": f.FLOOR_DECADES,
    }


@lru_cache(maxsize=4)
def load_model(name: str) -> PatchModel:
    """The shipped classifier ``name`` ("drum_pieces", "families"), cached per process.

    Raises ModelUnavailableError when the file is missing or does not fit this front end.
    """
    return load_weights(weights_path(name), name=name)


def load_weights(path: Path, *, name: str) -> PatchModel:
    """A classifier from a weights file written by save_weights (no pickle: plain arrays).

    Raises ModelUnavailableError when the file is missing or does not fit this front end.
    """
    import torch

    if not path.is_file():
        raise ModelUnavailableError(
            f"{name} weights not found at {str(path)!r}; run tools/train_listen_models.py"
        )
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(bytes(data["meta"]).decode("utf-8"))
            state = {k[2:]: torch.from_numpy(np.array(data[k])) for k in data.files if k != "meta"}
        classes, frames = tuple(meta["classes"]), int(meta["frames"])
    except (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        raise ModelUnavailableError(
            f"{name} weights at {str(path)!r} are unreadable: {exc}"
        ) from exc
    if meta.get("front_end") != front_end_settings():
        raise ModelUnavailableError(f"{str(path)!r} was trained with another front end")
    net = build_net(len(classes), tuple(meta.get("channels", CHANNELS)))
    try:
        net.load_state_dict(state)
    except RuntimeError as exc:  # tensors missing or of other shapes than meta says
        raise ModelUnavailableError(f"{name} weights at {str(path)!r} do not fit: {exc}") from exc
    net.eval()
    return PatchModel(name, classes, frames, net, meta)
