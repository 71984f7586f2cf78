"""Word vectors for the abstractions: where they come from, and the nearest evocative words.

Three sources, chosen by ``--vectors``:

* ``default``: the evocative vocabulary embedded with all-MiniLM-L6-v2, shipped in
  ``aimv_backend/data/vectors`` as gensim KeyedVectors (float16, ~1.5 MB; rebuilt by
  tools/build_vocab_vectors.py). It works offline and needs only gensim and numpy.
* a gensim-data name (``glove-wiki-gigaword-100``, ``word2vec-google-news-300``, ...): read from
  ``$GENSIM_DATA_DIR`` (default ``~/gensim-data``) when already there, else fetched with
  ``gensim.downloader.load`` (online users).
* a path to a word2vec binary (``.bin``), a word2vec/GloVe text file (``.txt``, ``.vec``,
  optionally ``.gz``) or a ``.npy`` matrix with a ``.vocab.txt`` word list beside it. gensim's
  own ``.kv``/``.model`` files are pickles, which can run code when loaded: they are refused,
  except the package's own shipped file (docs/security.md).

Whatever the source, the candidates are the words of the evocative vocabulary that the model
knows, less instrument names: a general-purpose model such as GloVe ranks topical neighbours
first ("kick" -> "minute", "goal"), and restricting the candidates to a curated list of images,
motions and moods keeps those out. Sources load lazily, once per process.
"""

from __future__ import annotations

import os
import pickle
import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from aimv_backend.describe import lexicon, sung_object
from aimv_backend.errors import ModelUnavailableError, ParameterError

VECTORS_DIR = Path(__file__).resolve().parents[1] / "data" / "vectors"
VOCABULARY_PATH = VECTORS_DIR / "evocative_vocabulary.txt"
SHIPPED_PATH = VECTORS_DIR / "evocative-minilm.kv"
SHIPPED_NAME = "aimv-evocative-minilm"

# gensim-data models of word vectors: name -> whether the file is word2vec binary.
DOWNLOADER_MODELS: dict[str, bool] = {
    "glove-wiki-gigaword-50": False,
    "glove-wiki-gigaword-100": False,
    "glove-wiki-gigaword-200": False,
    "glove-wiki-gigaword-300": False,
    "glove-twitter-25": False,
    "glove-twitter-50": False,
    "glove-twitter-100": False,
    "glove-twitter-200": False,
    "word2vec-google-news-300": True,
    "fasttext-wiki-news-subwords-300": False,
}
MIN_CANDIDATES = 50
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_KV_SUFFIXES = (".kv", ".model", ".wordvectors", ".kv.gz")
_BINARY_SUFFIXES = (".bin", ".bin.gz")


# The design's instrument -> abstraction examples ("kick -> canon" read as cannon): what the
# shipped vectors are checked against (tools/build_vocab_vectors.py and the tests).
DESIGN_PAIRS = (
    ("crash", "impact"),
    ("splash", "wave"),
    ("synth", "tech"),
    ("kick", "cannon"),
    ("bass", "deep"),
    ("tom", "bounce"),
    ("cello", "floating"),
    ("vocal", "vibrate"),
    ("guitar", "pedal"),
)


def read_vocabulary(path: str | os.PathLike[str] = VOCABULARY_PATH) -> list[str]:
    """The words of a vocabulary file: whitespace-separated, '#' starts a comment line."""
    words: list[str] = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if not line.lstrip().startswith("#"):
            words.extend(w.strip().lower() for w in line.split())
    return list(dict.fromkeys(w for w in words if w))


def gensim_data_dir() -> Path:
    """Where gensim's downloader keeps its models (``$GENSIM_DATA_DIR`` or ~/gensim-data)."""
    return Path(os.environ.get("GENSIM_DATA_DIR") or Path.home() / "gensim-data")


def resolve_source(spec: str) -> tuple[str, str]:
    """("shipped", path) | ("file", path) | ("downloader", name) for a ``--vectors`` value."""
    value = (spec or "default").strip()
    if value in ("default", SHIPPED_NAME):
        return "shipped", str(SHIPPED_PATH)
    path = Path(value).expanduser()
    looks_like_path = (
        os.sep in value
        or "/" in value
        or path.suffix in (".txt", ".vec", ".gz", ".bin", ".kv", ".npy", ".model")
    )
    if path.is_file():
        return "file", str(path)
    if looks_like_path or path.exists():
        raise ParameterError(f"--vectors {value!r}: no such file")
    if value in DOWNLOADER_MODELS or _NAME.match(value):
        return "downloader", value
    raise ParameterError(
        f"--vectors {value!r}: not 'default', a gensim-data name "
        f"(e.g. glove-wiki-gigaword-100) or a vectors file"
    )


PICKLE_REFUSED = (
    "which can run code when it is loaded; AIMV "
    "reads only formats that cannot: word2vec text (.txt, .vec), word2vec binary (.bin) or "
    ".npy with a vocabulary file beside it (see docs/security.md); convert it with "
    "KeyedVectors.load(...).save_word2vec_format(PATH, binary=True)"
)
_PICKLE_MAGIC = b"\x80"  # pickle protocol 2 and later


def is_shipped(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is the package's own shipped vectors file (the one pickle AIMV loads)."""
    return os.path.realpath(path) == os.path.realpath(SHIPPED_PATH)


def _npy_vocabulary(path: str) -> Path:
    base = Path(path)
    for candidate in (
        base.with_suffix(".vocab.txt"),
        base.with_suffix(".vocab"),
        base.with_suffix(".txt"),
    ):
        if candidate.is_file():
            return candidate
    raise ParameterError(
        f"--vectors {path!r}: a .npy file needs its words, one per line and in row order, in "
        f"{base.with_suffix('.vocab.txt').name!r} beside it"
    )


def _load_npy(path: str, *, what: str):
    """KeyedVectors from a .npy matrix (read with allow_pickle=False) and a vocabulary file."""
    from gensim.models import KeyedVectors

    vocab_path = _npy_vocabulary(path)
    try:
        matrix = np.load(path, allow_pickle=False, mmap_mode="r")
        words = [w.strip() for w in vocab_path.read_text(encoding="utf-8").splitlines()]
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        message = " ".join(str(exc).split())[:200]
        raise ParameterError(
            f"{what} {path!r}: cannot be read as .npy vectors ({message})"
        ) from None
    words = [w for w in words if w]
    if (
        matrix.ndim != 2
        or matrix.shape[0] != len(words)
        or not np.issubdtype(matrix.dtype, np.floating)
    ):
        raise ParameterError(
            f"{what} {path!r}: expected a 2-D float matrix with one row per word of "
            f"{vocab_path.name!r} ({len(words)} words), got shape {tuple(matrix.shape)} "
            f"of {matrix.dtype}"
        )
    kv = KeyedVectors(vector_size=int(matrix.shape[1]))
    kv.add_vectors(words, np.asarray(matrix, dtype=np.float32))
    return kv


def _load_file(path: str, *, what: str):
    """KeyedVectors from word2vec binary or text, or .npy plus a vocabulary.

    gensim's own ``.kv`` format is a pickle: only the package's shipped file is loaded that
    way; any other is refused before a byte of it is unpickled.
    """
    from gensim.models import KeyedVectors

    lower = path.lower()
    if not is_shipped(path):
        if lower.endswith(_KV_SUFFIXES):
            raise ParameterError(
                f"{what} {path!r} is gensim's own format, a Python pickle, {PICKLE_REFUSED}"
            )
        with open(path, "rb") as fh:  # word2vec readers never unpickle; this names the cause
            if fh.read(1) == _PICKLE_MAGIC:
                raise ParameterError(
                    f"{what} {path!r} looks like a Python pickle, {PICKLE_REFUSED}"
                )
    if lower.endswith(".npy"):
        return _load_npy(path, what=what)
    try:
        if is_shipped(path):
            kv = KeyedVectors.load(path)
        elif lower.endswith(_BINARY_SUFFIXES):
            kv = KeyedVectors.load_word2vec_format(path, binary=True)
        else:
            try:
                kv = KeyedVectors.load_word2vec_format(path, binary=False)
            except ValueError:  # GloVe's own text files have no "count dim" header line
                kv = KeyedVectors.load_word2vec_format(path, binary=False, no_header=True)
    except (
        OSError,
        ValueError,
        EOFError,
        UnicodeDecodeError,
        AttributeError,
        IndexError,
        KeyError,
        TypeError,
        pickle.UnpicklingError,
    ) as exc:
        message = " ".join(str(exc).split())[:200]
        raise ParameterError(
            f"{what} {path!r}: cannot be read as word2vec text or binary ({message})"
        ) from None
    if not isinstance(kv, KeyedVectors):
        raise ParameterError(f"{what} {path!r}: holds a {type(kv).__name__}, not KeyedVectors")
    return kv


def _load_downloader(name: str, *, allow_download: bool):
    """A gensim-data model: from the local gensim-data folder, else gensim.downloader.load."""
    local = gensim_data_dir() / name / f"{name}.gz"
    if local.is_file():
        from gensim.models import KeyedVectors

        try:
            return KeyedVectors.load_word2vec_format(
                str(local), binary=DOWNLOADER_MODELS.get(name, False)
            )
        except (OSError, ValueError, EOFError, UnicodeDecodeError) as exc:
            raise ModelUnavailableError(
                f"--vectors {name!r}: {str(local)!r} cannot be read ({exc}); delete the folder "
                f"to download it again"
            ) from None
    if not allow_download:
        raise ModelUnavailableError(
            f"--vectors {name!r}: not in {str(gensim_data_dir())!r} and downloads are off; "
            f"use --vectors default or a file path"
        )
    import gensim.downloader

    try:
        # return_path: fetch the data file only. Without it gensim imports the Python module
        # that comes with the download, i.e. runs code from the network.
        data_path = gensim.downloader.load(name, return_path=True)
    except Exception as exc:  # noqa: BLE001 - urllib, ValueError, json, checksum: all the same here
        message = " ".join(str(exc).split())[:200]
        raise ModelUnavailableError(
            f"--vectors {name!r}: gensim's downloader could not fetch it "
            f"({type(exc).__name__}: {message}); offline, use --vectors default or a file path"
        ) from None
    if name not in DOWNLOADER_MODELS or not str(data_path).endswith(".gz"):
        raise ParameterError(f"--vectors {name!r}: is not a gensim-data word-vectors model")
    from gensim.models import KeyedVectors

    try:
        return KeyedVectors.load_word2vec_format(str(data_path), binary=DOWNLOADER_MODELS[name])
    except (OSError, ValueError, EOFError, UnicodeDecodeError) as exc:
        raise ModelUnavailableError(
            f"--vectors {name!r}: the download cannot be read ({exc})"
        ) from None


class WordSpace:
    """A vector source restricted to the evocative vocabulary, with cached neighbour lists."""

    def __init__(self, name: str, kv, vocabulary: Sequence[str]):
        self.name = name
        self.kv = kv
        index = kv.key_to_index
        candidates = [w for w in vocabulary if w in index and w not in lexicon.INSTRUMENT_NOUNS]
        if len(candidates) < MIN_CANDIDATES:
            raise ParameterError(
                f"--vectors {name!r}: knows only {len(candidates)} words of the evocative "
                f"vocabulary (needs {MIN_CANDIDATES})"
            )
        self.candidates: tuple[str, ...] = tuple(candidates)
        matrix = np.asarray(kv.vectors[[index[w] for w in candidates]], dtype=np.float32)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        self._matrix = matrix / np.maximum(norms, 1e-12)
        self._ranked: dict[tuple[str, int], tuple[tuple[str, float], ...]] = {}

    def vector(self, phrase: str) -> np.ndarray | None:
        """The vector of a word or phrase: the word itself, else the mean of its known words."""
        kv = self.kv
        p = phrase.strip()
        for key in (p, p.lower(), p.lower().replace(" ", "-"), p.lower().replace(" ", "_")):
            if key and key in kv.key_to_index:
                return np.asarray(kv[key], dtype=np.float32)
        parts = [w for w in sung_object.words_of(p) if w in kv.key_to_index]
        if not parts:
            return None
        return np.mean([np.asarray(kv[w], dtype=np.float32) for w in parts], axis=0)

    def query_vector(self, phrase: str) -> np.ndarray | None:
        """The look-up vector of an instrument: its own vector and its gloss's, half each.

        ``lexicon.INSTRUMENT_GLOSSES`` lists a few character words per instrument ("tom":
        bounce, thud, rolling) that pull a word such as "tom" away from the name Tom.
        """
        own = self.vector(phrase)
        gloss = lexicon.INSTRUMENT_GLOSSES.get(phrase.strip().lower(), ())
        gloss_vecs = [self.vector(w) for w in gloss]
        gloss_vecs = [g for g in gloss_vecs if g is not None]
        parts = []
        for vec in (own, np.mean(gloss_vecs, axis=0) if gloss_vecs else None):
            if vec is not None and float(np.linalg.norm(vec)) > 0:
                parts.append(vec / np.linalg.norm(vec))
        return np.mean(parts, axis=0) if parts else None

    def ranked(self, phrase: str, *, limit: int = 64) -> tuple[tuple[str, float], ...]:
        """Evocative words nearest to ``phrase`` (cosine similarity, best first).

        Words of the same stem as the phrase's words are left out ("crash" never gives
        "crashing"). Empty when no vector can be found for the phrase.
        """
        key = (phrase, limit)
        if key in self._ranked:
            return self._ranked[key]
        vec = self.query_vector(phrase)
        result: tuple[tuple[str, float], ...] = ()
        if vec is not None and float(np.linalg.norm(vec)) > 0:
            sims = self._matrix @ (vec / np.linalg.norm(vec))
            order = np.argsort(-sims, kind="stable")
            own = sung_object.words_of(phrase) or [phrase.lower()]
            out: list[tuple[str, float]] = []
            for i in order:
                word = self.candidates[int(i)]
                if any(lexicon.same_family(word, w) for w in own):
                    continue
                out.append((word, float(sims[i])))
                if len(out) >= limit:
                    break
            result = tuple(out)
        self._ranked[key] = result
        return result


@lru_cache(maxsize=4)
def load_space(spec: str = "default", *, allow_download: bool = True) -> WordSpace:
    """Load a vector source once per process (see the module docstring for ``spec``).

    Raises ParameterError for an unusable value or file, ModelUnavailableError when a
    gensim-data model is neither local nor downloadable.
    """
    kind, where = resolve_source(spec)
    if kind == "shipped":
        if not Path(where).is_file():
            raise ModelUnavailableError(
                f"the shipped vectors {where!r} are missing: reinstall aimv or run "
                f"tools/build_vocab_vectors.py"
            )
        kv = _load_file(where, what="shipped vectors")
        name = SHIPPED_NAME
    elif kind == "file":
        kv = _load_file(where, what="--vectors")
        name = f"file:{Path(where).name}"
    else:
        kv = _load_downloader(where, allow_download=allow_download)
        name = where
    return WordSpace(name, kv, read_vocabulary(VOCABULARY_PATH))
