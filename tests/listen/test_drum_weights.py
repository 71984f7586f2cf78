"""Loading drum-classifier weights from a file, and the ensemble experiment's averaging."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from aimv_backend.errors import ModelUnavailableError
from aimv_backend.listen.drums import features
from aimv_backend.listen.drums.detect import drum_model
from aimv_backend.listen.drums.model import load_weights, weights_path
from bench._drum_ensemble import PatchEnsemble, load_ensemble
from tests.listen._instrument_clips import part, tools_missing

needs_synth = pytest.mark.skipif(tools_missing() is not None, reason=str(tools_missing()))


@pytest.fixture(scope="module")
def groove_patches():
    """Normalised patches at the onsets of a rendered drum groove (synth's drum kit)."""
    audio = part("drum_kit", 6.0)
    mel = features.power_mel(audio)
    onsets = features.onset_frames(mel)
    patches = features.take_patches(mel, features.drum_patch_starts(onsets), features.DRUM_FRAMES)
    return features.normalise_patches(patches)


@pytest.fixture()
def copied_weights(tmp_path):
    """The shipped drum weights, copied to a file of another name and folder."""
    copy = tmp_path / "drums.npz"
    shutil.copyfile(weights_path("drum_pieces"), copy)
    return copy


@needs_synth
def test_weights_copied_elsewhere_hear_the_groove_as_the_shipped_model_does(
    copied_weights, groove_patches
):
    shipped = drum_model().probabilities(groove_patches)
    assert shipped.shape[0] >= 8 and shipped.max(axis=1).mean() > 0.5  # drums heard as drums
    np.testing.assert_allclose(
        load_weights(copied_weights, name="copy").probabilities(groove_patches), shipped
    )


@needs_synth
def test_an_ensemble_averages_its_members(copied_weights, groove_patches):
    one = drum_model().probabilities(groove_patches)
    two = load_ensemble(f"{weights_path('drum_pieces')}+{copied_weights}")
    probs, emb = two.probabilities_and_embeddings(groove_patches)
    np.testing.assert_allclose(probs, one, rtol=1e-5)
    assert emb.shape[0] == one.shape[0] and emb.shape[1] > 0


def test_a_member_of_another_patch_length_is_refused():
    model = drum_model()
    other = type(model)(model.name, model.classes, model.frames + 1, model.net, model.meta)
    with pytest.raises(ModelUnavailableError, match="frames"):
        PatchEnsemble((model, other))


@pytest.mark.parametrize("content", [b"", b"not a zip file", b"PK\x03\x04broken"])
def test_unreadable_weights_raise_one_clear_error_naming_the_file(tmp_path, content):
    bad = tmp_path / "drum_pieces.npz"
    bad.write_bytes(content)
    with pytest.raises(ModelUnavailableError, match="drum_pieces.npz"):
        load_weights(bad, name="drum_pieces")


def test_missing_weights_name_the_path_and_the_tool_that_makes_them(tmp_path):
    with pytest.raises(ModelUnavailableError, match="train_listen_models"):
        load_weights(tmp_path / "absent.npz", name="drum_pieces")
