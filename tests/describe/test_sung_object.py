"""What a native reader found in the sentences (the sentence trial of 2026-12-03): the sung
object, its article, the foreground's nouns, the background's order, adjectives, colours."""

from __future__ import annotations

import pytest

from aimv_backend.describe import DescribeOptions, describe_timeline, describe_window
from aimv_backend.describe.edits import edited_windows
from aimv_backend.describe.lexicon import adjective
from aimv_backend.describe.sentence import (
    SentenceInputs,
    SentenceInstrument,
    build_sentence,
    foreground_phrase,
)
from aimv_backend.describe.sung_object import object_phrase, salient_word
from tests.describe.conftest import guess, timeline, window

I = SentenceInstrument  # noqa: E741


@pytest.mark.parametrize(
    "text, word",
    [
        ("purple rain", "rain"),  # "purple" is as often an adjective
        ("another one bites the dust", "dust"),  # "bites" is a verb more often
        ("the first time ever I saw your face", "face"),
        ("the news tonight", "news"),  # was "tonight"
        ("see you yesterday", ""),
        ("nobody said hello okay", ""),
        ("three times", "times"),
        ("fuck this shit", ""),  # never in a prompt
        ("I took the cocaine", ""),
        ("FIRE ON THE DANCE FLOOR", "floor"),  # a shouted line is no acronym
        ("my Heart", "heart"),  # a capital from the recogniser's segments is no name
        ("they sent me for an MRI", "MRI"),
    ],
)
def test_the_object_is_a_thing_a_picture_can_show(text, word):
    assert salient_word(text, language="en") == word


@pytest.mark.parametrize(
    "text, language, word",
    [
        ("sous l'étoile du nord", "fr", "étoile"),  # was "l'étoile"
        ("je t'aime", "fr", "aime"),
        ("el sol de hoy", "es", "sol"),  # was "hoy", carried into the next windows
        ("la ve.", "es", ""),  # two letters: a function word
    ],
)
def test_words_of_other_languages_lose_their_elisions_and_function_words(text, language, word):
    assert salient_word(text, language=language) == word


@pytest.mark.parametrize(
    "word, phrase",
    [
        ("heart", "a heart"),
        ("love", "love"),
        ("news", "news"),
        ("water", "water"),
        ("mountains", "mountains"),
        ("MRI", "an MRI"),
        ("FBI", "an FBI"),
        ("USB", "a USB"),
        ("étoile", "an étoile"),
        ("dice", "dice"),  # plurals WordNet lists as lemmas of their own
        ("bacteria", "bacteria"),
    ],
)
def test_the_object_reads_right_after_the_action(word, phrase):
    assert object_phrase(word) == phrase


def _sentence(instruments, abstractions, **given) -> str:
    """The sentence of a window in the normal volume and teal, without words unless given."""
    fields = dict(volume="normal", colour="teal", transcription="", voice=False, action="")
    inputs = SentenceInputs(
        **{**fields, **given},
        instruments=tuple(I(word, category) for word, category in instruments),
        abstractions=abstractions,
    )
    return build_sentence(inputs)


def _sung(text: str) -> str:
    return _sentence(
        [("piano", "keys"), ("violin", "strings"), ("cello", "strings")],
        ("cascade", "silk", "dusk"),
        transcription=salient_word(text, language="en"),
        voice=True,
        action="pointing at",
    )


def test_a_mass_noun_takes_no_article_and_a_shouted_word_one_in_the_sentence():
    assert "pointing at love," in _sung("I love you")
    assert "pointing at a love" not in _sung("I love you")
    assert "pointing at a floor," in _sung("FIRE ON THE DANCE FLOOR")  # not "an FLOOR"


def test_the_foreground_nouns_are_singular_so_none_reads_as_a_verb():
    phrase = foreground_phrase((I("bass", "bass"), I("strings", "strings")), ("echoes", "silk"))
    assert phrase == "silken strings echo"  # was "silken strings echoes"


def test_the_drum_stick_clause_comes_last_in_the_background():
    sentence = _sentence(
        [("snare", "drum"), ("kick", "drum"), ("synth", "synth")], ("snap", "punch", "tech")
    )
    assert sentence.startswith("Kick hits and drum stick strikes the Snare in the background")


@pytest.mark.parametrize(
    "word, expected",
    [
        ("gale", "gusty"),  # was "galy"
        ("airborne", "airborne"),  # already an adjective (was "airborny")
        ("shrill", "shrill"),  # was "shrilly", an adverb
        ("passionate", "passionate"),  # was "passionating"
        ("cars", "car-like"),  # "carry" is another word
        ("code", "code-like"),  # "cody" is a name
        ("crab", "crab-like"),  # "crabby" means grumpy
        ("race", "racing"),  # "racy" would reach the prompt
        ("tech", "techy"),  # the design's own
        ("pedal", "pedaly"),
        ("vibrate", "vibrating"),
    ],
)
def test_the_adjective_is_a_word_that_means_the_thing(word, expected):
    assert adjective(word) == expected


def test_a_colour_name_edited_by_hand_loses_its_judging_words():
    edited = window(0, colour="puke green", instruments=[guess("piano", "keys", 0.9)])
    sentence = describe_window(edited).sentence
    assert "a green color palette" in sentence and "puke" not in sentence


def test_an_old_timeline_whose_object_was_carried_counts_as_unedited():
    """An object carried from the line before (a window whose own words hold no noun) was
    replayed without it: the window counted as edited and kept its old sentence when the
    seed changed."""
    piano = [guess("piano", "keys", 0.9)]
    lines = ["holding the lantern", "and you and me", "all night long", "the river"]
    described = describe_timeline(
        timeline([window(i, text=t, instruments=piano) for i, t in enumerate(lines)]),
        options=DescribeOptions(allow_download=False),
    )
    assert "a lantern" in described.windows[1].description.sentence  # carried
    settings = {k: v for k, v in described.settings.items() if k != "described"}
    old = type(described)(**{**described.__dict__, "settings": settings})
    assert edited_windows(old) == []


def test_spoken_words_without_an_object_are_a_few_words_at_any_loudness():
    for volume, db in (("normal", 0.0), ("loud", 14.0), ("quiet", -14.0)):
        sentence = _sentence(
            [("piano", "keys")],
            ("cascade", "silk"),
            volume=volume,
            relative_db=db,
            voice=True,
            words_sung=True,
            spoken=True,
        )
        person = sentence.split(",")[0]
        assert person.endswith("a few words"), person  # was "Person loudly shouts"


def test_a_tagger_word_for_no_sound_is_not_an_instrument():
    """ "Silence plays ... a quiet silence silent": a window that is not silent but whose
    tagger said "silence" (or "other") has music, as a window with no instrument known."""
    heard = window(0, instruments=[guess("silence", "other", 0.8), guess("other", "other", 0.5)])
    sentence = describe_window(heard).sentence
    assert sentence.startswith("Music plays in the background"), sentence
    assert "silence" not in sentence.lower() and " other " not in sentence.lower()


def test_voices_that_do_not_sing_get_their_own_verbs_and_nouns():
    """PANNs' vocal styles took the singers' verb: "Rap sings", "Beatbox and Yodel sing",
    "alongside a Humming chant"."""
    plain = _sentence(
        [("rap", "vocal"), ("humming", "vocal"), ("synth", "synth")], ("street", "breath", "tech")
    )
    assert plain.startswith("Rap flows and Humming drifts in the background")
    sung = _sentence(
        [("beatbox", "vocal"), ("humming", "vocal"), ("synth", "synth")],
        ("street", "breath", "tech"),
        transcription="heart",
        voice=True,
        action="holding",
    )
    assert "alongside a Beatbox groove and a Humming drone with" in sung


def test_a_hyphenated_judging_colour_is_cleaned_too():
    edited = window(0, colour="puke-green", instruments=[guess("piano", "keys", 0.9)])
    assert "a green color palette" in describe_window(edited).sentence
