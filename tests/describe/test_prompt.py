"""Prompts: image-bearing parts first, within CLIP's 77 tokens, with the style suffix."""

from __future__ import annotations

import json

import pytest

from aimv_backend.describe import (
    DescribeOptions,
    clip_token_count,
    clip_tokens,
    describe_timeline,
    estimate_clip_tokens,
)
from aimv_backend.describe.prompt import CLIP_MAX_TOKENS, build_prompt
from aimv_backend.describe.sentence import SentenceInputs, SentenceInstrument, sentence_parts

I = SentenceInstrument  # noqa: E741


def test_clip_bpe_gives_clips_own_ids():
    # Published CLIP ids: <start> a photo of a cat <end>.
    assert clip_tokens.clip_token_ids("a photo of a cat") == [
        49406,
        320,
        1125,
        539,
        320,
        2368,
        49407,
    ]
    assert clip_tokens.clip_token_ids("A  PHOTO of a cat") == clip_tokens.clip_token_ids(
        "a photo of a cat"
    )
    assert clip_token_count("a techy synth wave impact") == 2 + 6  # tech + y is two tokens


def test_clip_bpe_matches_transformers_clip_tokenizer(tmp_path, song_timeline):
    """The shipped merges through transformers' CLIPTokenizer give the very same ids."""
    import gzip

    transformers = pytest.importorskip("transformers")
    lines = gzip.open(clip_tokens.MERGES_PATH, "rt", encoding="utf-8").read().split("\n")
    merges = [m for m in lines[1:] if m]
    symbols = list(clip_tokens.byte_encoder().values())
    vocab = symbols + [x + "</w>" for x in symbols] + ["".join(m.split()) for m in merges]
    vocab += [clip_tokens.START, clip_tokens.END]
    (tmp_path / "vocab.json").write_text(json.dumps({v: i for i, v in enumerate(vocab)}))
    (tmp_path / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n")
    reference = transformers.CLIPTokenizer(
        str(tmp_path / "vocab.json"), str(tmp_path / "merges.txt")
    )
    described = describe_timeline(song_timeline)
    texts = [w.description.prompt for w in described.windows]
    texts += [w.description.sentence for w in described.windows]
    texts += ["hi-hat 808 don't", "corazón", "naïve café's — “quotes”", "日本語", "a__b"]
    for text in texts:
        assert clip_tokens.clip_token_ids(text) == reference(text)["input_ids"], text


def test_token_estimate_is_pessimistic():
    # Real CLIP BPE counts (with start and end tokens): "a photo of a cat" = 7,
    # "cinematic, music video still" = 7.
    assert estimate_clip_tokens("a photo of a cat") >= 7
    assert estimate_clip_tokens("cinematic, music video still") >= 7
    assert estimate_clip_tokens("") == 2
    assert estimate_clip_tokens("corazón") > estimate_clip_tokens("corazon") - 1


def test_prompt_of_the_first_design_example():
    inputs = SentenceInputs(
        volume="loud",
        colour="teal",
        transcription="heart",
        voice=True,
        action="holding",
        instruments=(I("crash", "drum"), I("splash", "drum"), I("synth", "synth")),
        abstractions=("impact", "wave", "tech"),
    )
    prompt = build_prompt(sentence_parts(inputs), inputs, style="cinematic, volumetric light")
    assert prompt == (
        "a techy synth wave impact, a person loudly singing, holding a heart, "
        "with crash and splash, teal color palette, intense, dramatic, "
        "cinematic, volumetric light"
    )


@pytest.mark.parametrize(
    "level,db,said,shown",
    [
        ("normal", 0.0, "heart", "a person speaking, holding a heart"),
        ("loud", 14.0, "heart", "a person loudly shouting, holding a heart"),
        ("quiet", -3.0, "you and me", "a person softly saying a few words"),
    ],
)
def test_a_spoken_voice_is_described_as_speaking_in_the_prompt(level, db, said, shown):
    inputs = SentenceInputs(
        volume=level,
        colour="teal",
        relative_db=db,
        transcription="" if said == "you and me" else said,
        words_sung=said == "you and me",
        spoken=True,
        voice=True,
        action="holding",
        instruments=(I("piano", "keys"),),
        abstractions=("ivory", "deep"),
    )
    prompt = build_prompt(sentence_parts(inputs), inputs)
    assert shown in prompt, prompt
    assert not any(verb in prompt for verb in (" speaks", " shouts", " says "))


def test_every_prompt_fits_clip_and_ends_with_the_style(song_timeline):
    style = "cinematic, music video still, volumetric light"
    out = describe_timeline(song_timeline, options=DescribeOptions(style=style))
    for w in out.windows:
        p = w.description.prompt
        assert clip_token_count(p) <= CLIP_MAX_TOKENS
        assert p.endswith(style)
        assert "None" not in p and "  " not in p
        assert w.colour.name in p


def test_a_long_style_is_cut_to_fit_but_the_image_stays(song_timeline):
    style = ", ".join(["hyperdetailed photorealistic masterpiece, trending on artstation"] * 4)
    out = describe_timeline(song_timeline, options=DescribeOptions(style=style))
    for w in out.windows:
        p = w.description.prompt
        assert len(clip_tokens.clip_token_ids(p)) <= CLIP_MAX_TOKENS
        foreground = w.description.sentence.split("foreground ")[-1].split(",")[0]
        assert foreground.split()[-1] in p  # the image-bearing part survives
        assert "hyperdetailed" in p  # some of the style survives too


def test_without_the_merges_file_the_estimate_still_fits(monkeypatch, song_timeline):
    monkeypatch.setattr(clip_tokens, "available", lambda: False)
    out = describe_timeline(song_timeline, options=DescribeOptions(style="a " * 140))
    for w in out.windows:
        assert estimate_clip_tokens(w.description.prompt) <= CLIP_MAX_TOKENS
        assert len(clip_tokens.clip_token_ids(w.description.prompt)) <= CLIP_MAX_TOKENS
