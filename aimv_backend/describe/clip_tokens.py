"""Count CLIP text-encoder tokens exactly, with CLIP's own byte-pair encoding (stdlib only).

Stable Diffusion's text encoder is CLIP's: it reads 77 tokens, start and end included, and
silently drops the rest. The merges of CLIP's BPE (OpenAI CLIP, MIT licence) ship in
``aimv_backend/data/vectors/clip-bpe-merges.txt.gz`` (the 48,894 merges CLIP uses, 0.2 MB), so
prompts are sized by the real tokenizer without transformers, torch or a download. This is the
algorithm of CLIP's ``SimpleTokenizer`` with its "lower" cleaning (ftfy text repair left out).
"""

from __future__ import annotations

import gzip
import re
from functools import lru_cache
from pathlib import Path

MERGES_PATH = Path(__file__).resolve().parents[1] / "data" / "vectors" / "clip-bpe-merges.txt.gz"
START, END = "<|startoftext|>", "<|endoftext|>"
_N_MERGES = 49152 - 256 - 2  # what CLIP uses of its merge list

# CLIP's pattern with \p{L} / \p{N} written for the standard re module.
_PATTERN = re.compile(
    r"'s|'t|'re|'ve|'m|'ll|'d|[^\W\d_]+|\d|(?:[^\s\w]|_)+", re.IGNORECASE | re.UNICODE
)


@lru_cache(maxsize=1)
def byte_encoder() -> dict[int, str]:
    """CLIP's reversible map of the 256 bytes to printable characters."""
    bs = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, (chr(c) for c in cs), strict=True))


@lru_cache(maxsize=1)
def _tables() -> tuple[dict[tuple[str, str], int], dict[str, int]] | None:
    """(merge ranks, vocabulary ids), or None when the merges file is missing."""
    try:
        lines = gzip.open(MERGES_PATH, "rt", encoding="utf-8").read().split("\n")
    except OSError:
        return None
    merges = [tuple(line.split()) for line in lines[1 : _N_MERGES + 1]]
    symbols = list(byte_encoder().values())
    vocab = symbols + [s + "</w>" for s in symbols] + ["".join(m) for m in merges]
    vocab += [START, END]
    ranks = {m: i for i, m in enumerate(merges)}
    return ranks, {v: i for i, v in enumerate(vocab)}


@lru_cache(maxsize=65536)
def _bpe(token: str) -> tuple[str, ...]:
    ranks = _tables()[0]
    word = (*token[:-1], token[-1] + "</w>")
    while len(word) > 1:
        pairs = {(word[i], word[i + 1]) for i in range(len(word) - 1)}
        best = min(pairs, key=lambda p: ranks.get(p, float("inf")))
        if best not in ranks:
            break
        merged: list[str] = []
        i = 0
        while i < len(word):
            if i < len(word) - 1 and (word[i], word[i + 1]) == best:
                merged.append(word[i] + word[i + 1])
                i += 2
            else:
                merged.append(word[i])
                i += 1
        word = tuple(merged)
    return word


def available() -> bool:
    """True when the shipped BPE merges can be read."""
    return _tables() is not None


def clip_token_ids(text: str) -> list[int]:
    """CLIP token ids of ``text`` with the start and end tokens (no truncation, no padding).

    Raises FileNotFoundError when the merges file is missing (see :func:`available`).
    """
    tables = _tables()
    if tables is None:
        raise FileNotFoundError(f"CLIP BPE merges {str(MERGES_PATH)!r} are missing")
    vocab = tables[1]
    encoder = byte_encoder()
    ids = [vocab[START]]
    for piece in _PATTERN.findall(" ".join(text.split()).lower()):
        token = "".join(encoder[b] for b in piece.encode("utf-8"))
        ids.extend(vocab[t] for t in _bpe(token))
    ids.append(vocab[END])
    return ids
