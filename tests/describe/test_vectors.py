"""Vector sources: the shipped file, files on disk, and gensim's downloader (with local files)."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from aimv_backend.describe import DescribeOptions, describe_window, load_space
from aimv_backend.describe.lexicon import INSTRUMENT_NOUNS
from aimv_backend.describe.vectors import SHIPPED_NAME, read_vocabulary, resolve_source
from aimv_backend.errors import ModelUnavailableError, ParameterError

from .conftest import guess, window

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def fresh_cache():
    load_space.cache_clear()
    yield
    load_space.cache_clear()


@pytest.fixture(scope="module")
def small_kv():
    """A 300-word KeyedVectors cut from the shipped vectors, shrunk to 24 random dimensions."""
    from gensim.models import KeyedVectors

    shipped = load_space("default", allow_download=False).kv
    vocabulary = read_vocabulary()[:260]
    words = vocabulary + ["crash", "kick", "cello", "synth", "minute", "goal", "Tom"]
    rng = np.random.default_rng(0)
    projection = rng.standard_normal((shipped.vector_size, 24)).astype(np.float32)
    vectors = []
    for w in words:
        base = shipped[w.lower()] if w.lower() in shipped.key_to_index else shipped["tom"]
        vectors.append(np.asarray(base, dtype=np.float32) @ projection)
    kv = KeyedVectors(vector_size=24)
    kv.add_vectors(words, np.asarray(vectors))
    return kv


def _check_space_works(spec: str, expected_name: str):
    space = load_space(spec, allow_download=False)
    assert space.name == expected_name
    vocabulary = set(read_vocabulary())
    assert "minute" not in space.candidates and "goal" not in space.candidates
    assert set(space.candidates) <= vocabulary
    d = describe_window(
        window(
            0,
            text="heart",
            instruments=[
                guess("crash", "drum", 0.9),
                guess("kick", "drum", 0.8),
                guess("cello", "strings", 0.5),
            ],
        ),
        options=DescribeOptions(vectors=spec, allow_download=False),
    )
    assert len(d.abstractions) == 3
    assert all(a in vocabulary and a not in INSTRUMENT_NOUNS for a in d.abstractions)
    return space


@pytest.mark.parametrize("kind", ["text", "binary", "npy", "glove"])
def test_vectors_from_a_file(tmp_path, small_kv, kind):
    if kind == "text":
        path = tmp_path / "vectors.txt"
        small_kv.save_word2vec_format(str(path), binary=False)
    elif kind == "binary":
        path = tmp_path / "vectors.bin"
        small_kv.save_word2vec_format(str(path), binary=True)
    elif kind == "npy":
        path = tmp_path / "vectors.npy"
        np.save(path, np.asarray(small_kv.vectors, dtype=np.float32))
        (tmp_path / "vectors.vocab.txt").write_text("\n".join(small_kv.index_to_key) + "\n")
    else:  # GloVe's own text format: no header line
        path = tmp_path / "glove.6B.24d.txt"
        small_kv.save_word2vec_format(str(path), binary=False)
        lines = path.read_text().splitlines()[1:]
        path.write_text("\n".join(lines) + "\n")
    _check_space_works(str(path), f"file:{path.name}")


def test_downloader_name_found_in_gensim_data_dir(tmp_path, small_kv, monkeypatch):
    """A model already in $GENSIM_DATA_DIR (gensim-data layout) loads without any download."""
    name = "glove-wiki-gigaword-50"
    folder = tmp_path / name
    folder.mkdir()
    plain = tmp_path / "plain.txt"
    small_kv.save_word2vec_format(str(plain), binary=False)
    with gzip.open(folder / f"{name}.gz", "wb") as fh:
        fh.write(plain.read_bytes())
    monkeypatch.setenv("GENSIM_DATA_DIR", str(tmp_path))

    import gensim.downloader

    def no_network(*args, **kwargs):
        raise AssertionError("the downloader must not be called for a local model")

    monkeypatch.setattr(gensim.downloader, "load", no_network)
    _check_space_works(name, name)


def test_downloader_is_called_for_a_missing_model(tmp_path, small_kv, monkeypatch):
    monkeypatch.setenv("GENSIM_DATA_DIR", str(tmp_path))
    import gensim.downloader

    calls = []

    def fake_load(name, return_path=False):
        """gensim's download: the data file (return_path) and never its Python module."""
        calls.append((name, return_path))
        folder = tmp_path / name
        folder.mkdir(exist_ok=True)
        plain = tmp_path / "plain.txt"
        small_kv.save_word2vec_format(str(plain), binary=False)
        with gzip.open(folder / f"{name}.gz", "wb") as fh:
            fh.write(plain.read_bytes())
        return str(folder / f"{name}.gz")

    monkeypatch.setattr(gensim.downloader, "load", fake_load)
    space = load_space("glove-wiki-gigaword-100", allow_download=True)
    assert calls == [("glove-wiki-gigaword-100", True)]
    assert space.name == "glove-wiki-gigaword-100"


def test_offline_download_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("GENSIM_DATA_DIR", str(tmp_path))
    import gensim.downloader

    def offline(name, return_path=False):
        raise ValueError("Incorrect model/corpus name")  # what gensim raises offline

    monkeypatch.setattr(gensim.downloader, "load", offline)
    with pytest.raises(ModelUnavailableError, match="glove-wiki-gigaword-300.*could not fetch"):
        load_space("glove-wiki-gigaword-300", allow_download=True)


def test_download_off_and_model_absent(tmp_path, monkeypatch):
    monkeypatch.setenv("GENSIM_DATA_DIR", str(tmp_path))
    t0 = time.perf_counter()
    with pytest.raises(ModelUnavailableError, match="word2vec-google-news-300.*downloads are off"):
        load_space("word2vec-google-news-300", allow_download=False)
    assert time.perf_counter() - t0 < 1.0


def test_real_downloader_with_an_unknown_name_fails_cleanly(tmp_path, monkeypatch):
    """gensim's real downloader (offline here: no network) ends in one ModelUnavailableError."""
    import gensim.downloader

    monkeypatch.setenv("GENSIM_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(gensim.downloader, "BASE_DIR", str(tmp_path))
    t0 = time.perf_counter()
    with pytest.raises(ModelUnavailableError, match="aimv-no-such-model"):
        load_space("aimv-no-such-model", allow_download=True)
    assert time.perf_counter() - t0 < 30


@pytest.mark.parametrize(
    "spec,error", [("no/such/vectors.txt", "no such file"), ("Not A Name!", "not 'default'")]
)
def test_bad_vectors_values(spec, error):
    with pytest.raises(ParameterError, match=error):
        resolve_source(spec)


class _Evil:
    """Unpickling this runs a command (creates the marker file)."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("name", ["evil.kv", "evil.model", "evil.txt", "evil.bin", "evil"])
def test_a_pickled_vectors_file_never_runs_code(tmp_path, name):
    """Security (issue 13.3): gensim's .kv is a pickle; no user file is ever unpickled."""
    import pickle

    marker = tmp_path / "pwned"
    path = tmp_path / name
    path.write_bytes(pickle.dumps(_Evil(str(marker))))
    with pytest.raises(ParameterError, match="pickle"):
        load_space(str(path), allow_download=False)
    assert not marker.exists()


def test_a_real_gensim_kv_file_is_refused_with_how_to_convert(tmp_path, small_kv):
    path = tmp_path / "vectors.kv"
    small_kv.save(str(path))
    with pytest.raises(ParameterError, match="save_word2vec_format"):
        load_space(str(path), allow_download=False)


@pytest.mark.parametrize("name", ["broken.bin", "broken.kv", "broken.txt"])
def test_unreadable_vectors_file(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"\x00\x01garbage" * 10)
    with pytest.raises(ParameterError, match=name):
        load_space(str(path), allow_download=False)


def test_vectors_that_know_too_few_words(tmp_path):
    from gensim.models import KeyedVectors

    kv = KeyedVectors(vector_size=4)
    kv.add_vectors(["minute", "goal", "impact", "crash"], np.eye(4, dtype=np.float32))
    path = tmp_path / "tiny.txt"
    kv.save_word2vec_format(str(path))
    with pytest.raises(ParameterError, match="evocative vocabulary"):
        load_space(str(path), allow_download=False)


def test_shipped_vectors_load_with_gensim_only_and_once():
    assert load_space("default") is load_space("default")
    assert load_space("default").name == SHIPPED_NAME
    code = (
        "import sys; from aimv_backend.describe import load_space; "
        "s = load_space('default', allow_download=False); "
        "assert len(s.candidates) > 1500, len(s.candidates); "
        "assert 'torch' not in sys.modules and 'sentence_transformers' not in sys.modules; "
        "print(s.ranked('crash')[0][0])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip()


def test_shipped_files_are_small():
    folder = ROOT / "aimv_backend" / "data" / "vectors"
    total = sum(p.stat().st_size for p in folder.iterdir() if p.is_file())
    assert total < 2_500_000
