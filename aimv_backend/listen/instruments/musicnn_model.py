"""musicnn (Pons & Serra, 2019) re-implemented in PyTorch, loaded from the shipped TF weights.

The graph follows ``musicnn/models.py`` (``build_musicnn`` with 64 mid-end filters and 200
back-end units, the MTT_musicnn configuration) layer by layer, in inference mode:

* front end: batch-normalised log-mel input (time x 96 mel); two "timbral" convolutions
  (7 x 38 and 7 x 67 mel bins, 204 filters each) and three "temporal" ones (128, 64, 32 frames
  x 1 bin, 51 filters, TensorFlow "same" padding), each ReLU -> batch norm -> max over frequency;
* mid end: three 1-D convolutions (7 frames, 64 filters) with residual connections, densely
  concatenated with the front end (561 + 3 x 64 = 753 features per frame);
* back end: max and mean over time (interleaved as TensorFlow flattens them), batch norm,
  dense 200 + ReLU, batch norm, dense 50 -> sigmoid.

TensorFlow's batch norm uses epsilon 0.001. Its "same" padding of an even kernel k puts
(k - 1) // 2 zeros before and the rest after, which we reproduce with explicit padding.
The port was checked against TensorFlow itself (see docs/instruments.md).
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from aimv_backend.listen.instruments.musicnn_checkpoint import CheckpointFormatError, TFCheckpoint

TF_BN_EPSILON = 1e-3
N_MELS = 96
SAMPLE_RATE = 16_000
N_FFT = 512
HOP = 256
PATCH_FRAMES = 187  # librosa.time_to_frames(3 s) + 1, as musicnn's extractor computes it
SONG_CHUNK_FRAMES = 1024  # 16 s of song per timbral pass (~50 MB of activations)

MTT_LABELS = (
    "guitar", "classical", "slow", "techno", "strings", "drums", "electronic", "rock", "fast",
    "piano", "ambient", "beat", "violin", "vocal", "synth", "female", "indian", "opera", "male",
    "singing", "vocals", "no vocals", "harpsichord", "loud", "quiet", "flute", "woman",
    "male vocal", "no vocal", "pop", "soft", "sitar", "solo", "man", "classic", "choir", "voice",
    "new age", "dance", "male voice", "female vocal", "beats", "harp", "cello", "no voice",
    "weird", "country", "metal", "female voice", "choral",
)  # fmt: skip


class _FrozenBN(nn.Module):
    """Inference-mode batch norm over the last axis, as y = x * scale + shift."""

    def __init__(self, ckpt: TFCheckpoint, name: str):
        super().__init__()
        gamma, beta = ckpt[f"{name}/gamma"], ckpt[f"{name}/beta"]
        mean, var = ckpt[f"{name}/moving_mean"], ckpt[f"{name}/moving_variance"]
        scale = gamma / np.sqrt(var + TF_BN_EPSILON)
        self.register_buffer("scale", torch.from_numpy(scale.astype(np.float32)))
        self.register_buffer("shift", torch.from_numpy((beta - mean * scale).astype(np.float32)))

    def forward(self, x: torch.Tensor, dim: int) -> torch.Tensor:
        shape = [1] * x.dim()
        shape[dim] = -1
        return x * self.scale.view(shape) + self.shift.view(shape)


def _conv2d(ckpt: TFCheckpoint, name: str) -> nn.Conv2d:
    kernel = ckpt[f"{name}/kernel"]  # TF layout (kh, kw, in, out)
    kh, kw, cin, cout = kernel.shape
    conv = nn.Conv2d(cin, cout, (kh, kw), bias=True)
    conv.weight.data = torch.from_numpy(np.ascontiguousarray(kernel.transpose(3, 2, 0, 1)))
    conv.bias.data = torch.from_numpy(ckpt[f"{name}/bias"])
    return conv


def _conv1d_over_features(ckpt: TFCheckpoint, name: str) -> nn.Conv1d:
    """A TF conv2d whose kernel spans the whole feature axis is a 1-D conv over time."""
    kernel = ckpt[f"{name}/kernel"]  # (7, features, 1, out)
    kh, features, _, cout = kernel.shape
    conv = nn.Conv1d(features, cout, kh, bias=True)
    weight = kernel[:, :, 0, :].transpose(2, 1, 0)  # (out, features, time)
    conv.weight.data = torch.from_numpy(np.ascontiguousarray(weight))
    conv.bias.data = torch.from_numpy(ckpt[f"{name}/bias"])
    return conv


def _dense(ckpt: TFCheckpoint, name: str) -> nn.Linear:
    kernel = ckpt[f"{name}/kernel"]  # (in, out)
    layer = nn.Linear(kernel.shape[0], kernel.shape[1])
    layer.weight.data = torch.from_numpy(np.ascontiguousarray(kernel.T))
    layer.bias.data = torch.from_numpy(ckpt[f"{name}/bias"])
    return layer


EXPECTED_SHAPES = {
    "conv2d/kernel": (7, 38, 1, 204),
    "conv2d_1/kernel": (7, 67, 1, 204),
    "conv2d_2/kernel": (128, 1, 1, 51),
    "conv2d_3/kernel": (64, 1, 1, 51),
    "conv2d_4/kernel": (32, 1, 1, 51),
    "conv2d_5/kernel": (7, 561, 1, 64),
    "conv2d_6/kernel": (7, 64, 1, 64),
    "conv2d_7/kernel": (7, 64, 1, 64),
    "dense/kernel": (1506, 200),
    "dense_1/kernel": (200, 50),
    "batch_normalization_9/gamma": (1506,),
}


class Musicnn(nn.Module):
    """musicnn with MTT_musicnn's sizes. Input (batch, frames, 96) log-mel; output logits."""

    def __init__(self, ckpt: TFCheckpoint):
        super().__init__()
        shapes = ckpt.shapes()
        for name, shape in EXPECTED_SHAPES.items():
            if shapes.get(name) != shape:
                raise CheckpointFormatError(
                    f"musicnn checkpoint {ckpt.prefix!r}: {name} has shape "
                    f"{shapes.get(name)}, expected {shape}"
                )
        self.bn_input = _FrozenBN(ckpt, "batch_normalization")
        self.timbral = nn.ModuleList([_conv2d(ckpt, "conv2d"), _conv2d(ckpt, "conv2d_1")])
        self.temporal = nn.ModuleList([_conv2d(ckpt, f"conv2d_{i}") for i in (2, 3, 4)])
        self.front_bn = nn.ModuleList(
            [_FrozenBN(ckpt, f"batch_normalization_{i}") for i in range(1, 6)]
        )
        self.mid = nn.ModuleList([_conv1d_over_features(ckpt, f"conv2d_{i}") for i in (5, 6, 7)])
        self.mid_bn = nn.ModuleList(
            [_FrozenBN(ckpt, f"batch_normalization_{i}") for i in (6, 7, 8)]
        )
        self.pool_bn = _FrozenBN(ckpt, "batch_normalization_9")
        self.dense = _dense(ckpt, "dense")
        self.dense_bn = _FrozenBN(ckpt, "batch_normalization_10")
        self.out = _dense(ckpt, "dense_1")

        # max_f(BN(ReLU(z))) = scale * ReLU(extreme_f z) + shift, where the extreme is the max
        # for scale > 0 and the min for scale < 0. Flipping the sign of those filters turns
        # both into one max, so the big (batch, filters, time, mel) maps are reduced at once
        # instead of passing through ReLU, BN and max separately (3x faster front end).
        sign = torch.cat([torch.sign(bn.scale) for bn in self.front_bn])
        self.register_buffer("front_sign", torch.where(sign == 0, torch.ones_like(sign), sign))
        with torch.no_grad():
            start = 0
            for conv in [*self.timbral, *self.temporal]:
                s = self.front_sign[start : start + conv.out_channels]
                conv.weight.mul_(s.view(-1, 1, 1, 1))
                conv.bias.mul_(s)
                start += conv.out_channels
        self.eval()

    def _timbral(self, padded: torch.Tensor) -> torch.Tensor:
        """Sign-folded timbral extremes: (B, 1, T + 6, 96) zero-padded input -> (B, 408, T)."""
        return torch.cat([conv(padded).amax(dim=3) for conv in self.timbral], dim=1)

    def _front(self, x: torch.Tensor, timbral: torch.Tensor | None = None) -> torch.Tensor:
        """(B, T, 96) log-mel -> (B, 561, T) front-end features.

        ``timbral`` may bring the timbral extremes precomputed (see song_timbral/patch_timbral).
        """
        x = self.bn_input(x.unsqueeze(1), dim=1)  # (B, 1, T, F)
        front = [self._timbral(F.pad(x, (0, 0, 3, 3))) if timbral is None else timbral]
        for conv in self.temporal:
            k = conv.kernel_size[0]
            front.append(conv(F.pad(x, (0, 0, (k - 1) // 2, k - 1 - (k - 1) // 2))).amax(dim=3))
        extreme = torch.cat(front, dim=1) * self.front_sign.view(1, -1, 1)
        scale = torch.cat([bn.scale for bn in self.front_bn]).view(1, -1, 1)
        shift = torch.cat([bn.shift for bn in self.front_bn]).view(1, -1, 1)
        return F.relu(extreme) * scale + shift

    def song_timbral(
        self,
        mel: torch.Tensor,
        *,
        chunk_frames: int = SONG_CHUNK_FRAMES,
        on_chunk: Callable[[], None] | None = None,
    ) -> torch.Tensor:
        """Timbral extremes of a whole song's log-mel (T, 96) -> (408, T), in bounded memory.

        The timbral filters span only 7 frames, so inside a patch they see the same input as
        over the whole song: overlapping patches can share this work (5x less convolution).
        Only the 3 frames at each patch edge, where musicnn pads with zeros, differ.
        """
        x = F.pad(self.bn_input(mel[None, None], dim=1), (0, 0, 3, 3))
        parts = []
        for a in range(0, mel.shape[0], chunk_frames):
            parts.append(self._timbral(x[:, :, a : a + chunk_frames + 6])[0])
            if on_chunk is not None:
                on_chunk()
        return torch.cat(parts, dim=1)

    def patch_timbral(self, song: torch.Tensor, patches: torch.Tensor, starts: list[int]):
        """The timbral extremes of patches (B, T, 96) that start at ``starts`` in the song."""
        t = patches.shape[1]
        out = torch.stack([song[:, s : s + t] for s in starts])
        x = self.bn_input(patches.unsqueeze(1), dim=1)
        out[:, :, :3] = self._timbral(F.pad(x[:, :, :6], (0, 0, 3, 0)))
        out[:, :, t - 3 :] = self._timbral(F.pad(x[:, :, t - 6 :], (0, 0, 0, 3)))
        return out

    def _front_plain(self, x: torch.Tensor) -> torch.Tensor:
        """The front end exactly as musicnn writes it (ReLU, BN, max); used to test _front."""
        x = self.bn_input(x.unsqueeze(1), dim=1)
        front, start = [], 0
        padded = F.pad(x, (0, 0, 3, 3))
        convs = [*self.timbral, *self.temporal]
        for conv, bn in zip(convs, self.front_bn, strict=True):
            k = conv.kernel_size[0]
            inp = padded if k == 7 else F.pad(x, (0, 0, (k - 1) // 2, k - 1 - (k - 1) // 2))
            s = self.front_sign[start : start + conv.out_channels].view(1, -1, 1, 1)
            start += conv.out_channels
            front.append(bn(F.relu(conv(inp) * s), dim=1).amax(dim=3))  # undo the sign fold
        return torch.cat(front, dim=1)

    def forward(
        self, x: torch.Tensor, *, plain: bool = False, timbral: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Logits (B, 50) of log-mel patches (B, T, 96); see _front for ``timbral``."""
        front_features = self._front_plain(x) if plain else self._front(x, timbral)
        h1 = self.mid_bn[0](F.relu(self.mid[0](F.pad(front_features, (3, 3)))), dim=1)
        h2 = self.mid_bn[1](F.relu(self.mid[1](F.pad(h1, (3, 3)))), dim=1) + h1
        h3 = self.mid_bn[2](F.relu(self.mid[2](F.pad(h2, (3, 3)))), dim=1) + h2
        mid = torch.cat([front_features, h1, h2, h3], dim=1)  # (B, 753, T)
        pooled = torch.stack([mid.amax(dim=2), mid.mean(dim=2)], dim=2).flatten(1)
        hidden = self.dense_bn(F.relu(self.dense(self.pool_bn(pooled, dim=1))), dim=1)
        return self.out(hidden)


def load_musicnn(model_dir: str | os.PathLike[str]) -> Musicnn:
    """Build the PyTorch musicnn from a musicnn model folder (e.g. ``.../musicnn/MTT_musicnn``)."""
    prefix = os.path.join(os.fspath(model_dir), "")  # files are named ".index", ".data-..."
    with torch.no_grad():
        return Musicnn(TFCheckpoint(prefix))


def log_mel(audio_16k: np.ndarray) -> np.ndarray:
    """musicnn's input: (frames, 96) log10(10000 * mel power + 1), in float32.

    The reference casts the mel power to float16 first; that loses precision and overflows
    under NumPy 2, so we stay in float32 (see docs/instruments.md for the measured effect).
    """
    import librosa

    mel = librosa.feature.melspectrogram(
        y=np.asarray(audio_16k, dtype=np.float32),
        sr=SAMPLE_RATE,
        hop_length=HOP,
        n_fft=N_FFT,
        n_mels=N_MELS,
    ).T.astype(np.float32)
    return np.log10(10000.0 * mel + 1.0, dtype=np.float32)
