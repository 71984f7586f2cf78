"""Word lists and small word rules of the describe stage (standard library only).

Kept apart from the sentence builder so the vocabulary builder (tools/build_vocab_vectors.py)
and the tests can use the same lists: what counts as an instrument word, each category's verb,
the actions, the stop words, and the adjective and article rules. docs/sentences.md explains
every choice.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# --------------------------------------------------------------------------------------------
# Instruments

# Single words that name an instrument (or a part of a kit): never an abstraction.
INSTRUMENT_NOUNS = frozenset(
    """
    guitar guitars bass basses banjo sitar mandolin zither ukulele lute harp harps piano pianos
    keyboard keyboards keys organ harpsichord clavinet synth synths synthesizer synthesiser
    sampler drum drums drummer snare snares rimshot kick kicks timpani tabla cymbal cymbals crash
    splash ride hihat hat hats tom toms conga congas bongo bongos djembe cajon tambourine rattle
    maraca maracas shaker cowbell clap claps handclap gong bell bells marimba xylophone
    glockenspiel vibraphone steelpan orchestra brass horn horns trumpet trumpets trombone tuba
    cornet flugelhorn violin violins fiddle viola cello cellos contrabass strings string
    pizzicato flute flutes piccolo saxophone sax clarinet oboe bassoon recorder woodwind
    harmonica accordion bagpipes bagpipe didgeridoo shofar theremin chime chimes vocal vocals
    voice voices choir singer singers percussion beatbox beatboxing guitarist pianist violinist
    cellist bassist instrument instruments yodel vocoder rap mallet mallets whistle turntable
    """.split()
)

# Instrument words and labels the listen stage can produce (musicnn tags, AudioSet instrument
# classes, docs/instruments.md): they get a vector in the shipped file so they can be queried.
INSTRUMENT_QUERIES = tuple(
    sorted(
        INSTRUMENT_NOUNS
        | {
            "electric guitar",
            "bass guitar",
            "acoustic guitar",
            "steel guitar",
            "slide guitar",
            "electric piano",
            "electronic organ",
            "hammond organ",
            "drum kit",
            "drum machine",
            "snare drum",
            "bass drum",
            "kick drum",
            "drum roll",
            "floor tom",
            "ride cymbal",
            "crash cymbal",
            "splash cymbal",
            "hi-hat",
            "wood block",
            "tubular bells",
            "mallet percussion",
            "french horn",
            "string section",
            "double bass",
            "church bell",
            "jingle bell",
            "wind chime",
            "singing bowl",
            "male vocal",
            "female vocal",
            "male voice",
            "female voice",
            "brass instrument",
            "wind instrument",
            "plucked string",
            "bowed string",
            "synth pad",
            "synth lead",
            "steel drum",
            "sub bass",
            "beat",
            "other",
            "child vocal",
            "plucked strings",
            "sleigh bells",
            "wind chimes",
            "turntable scratch",
            "chant",
            "humming",
            "music",
            "silence",
        }
    )
)

# Words that make a drum the kick (the design: "If Drum category and not Kick ...").
KICK_WORDS = frozenset({"kick", "kick drum", "bass drum", "kicks"})


@dataclass(frozen=True)
class CategoryWords:
    """How an instrument category acts in a sentence.

    verb: with one instrument ("Bass plays"); plural: with two of them ("Cello and Violin
    play"); noun: the sound as a thing, for the sung form ("alongside a Crash and Splash hit").
    """

    verb: str
    plural: str
    noun: str


# The design gives drum/guitar/violin/vocal/piano/bass -> hits/picks/plays/sings/plays/plays;
# the other categories of timeline_schema.INSTRUMENT_CATEGORIES are our choice.
CATEGORY_WORDS: dict[str, CategoryWords] = {
    "drum": CategoryWords("hits", "hit", "hit"),
    "guitar": CategoryWords("picks", "pick", "riff"),
    "strings": CategoryWords("plays", "play", "melody"),
    "vocal": CategoryWords("sings", "sing", "chant"),
    "keys": CategoryWords("plays", "play", "chord"),
    "bass": CategoryWords("plays", "play", "line"),
    "synth": CategoryWords("pulses", "pulse", "pulse"),
    "brass": CategoryWords("blares", "blare", "blast"),
    "woodwind": CategoryWords("breathes", "breathe", "breath"),
    "other": CategoryWords("plays", "play", "sound"),
}
DRUM_STICK = "drum stick strikes"
# Percussion played by hand, which no drum stick strikes: their own verb (one, several).
HAND_PERCUSSION: dict[str, tuple[str, str]] = {
    "maracas": ("shakes", "shake"),
    "shaker": ("shakes", "shake"),
    "tambourine": ("jingles", "jingle"),
    "clap": ("claps", "clap"),
    "claps": ("claps", "clap"),
    "hand clap": ("claps", "clap"),
    "handclap": ("claps", "clap"),
    "castanets": ("clicks", "click"),
    "finger snap": ("snaps", "snap"),
    "snap": ("snaps", "snap"),
}
# Voices that do not sing (PANNs' vocal styles): their own verb (one, several) and the noun of
# their sound in the sung form, where "Rap sings" and "a Humming chant" read wrong.
VOCAL_STYLES: dict[str, tuple[str, str, str]] = {
    "rap": ("flows", "flow", "verse"),
    "humming": ("drifts", "drift", "drone"),
    "beatbox": ("clicks", "click", "groove"),
    "beatboxing": ("clicks", "click", "groove"),
    "yodel": ("echoes", "echo", "call"),
    "whistle": ("whistles", "whistle", "tune"),
    "whistling": ("whistles", "whistle", "tune"),
    "chant": ("rises", "rise", ""),
}

# Instrument words that are plural nouns and so take the plural verb ("Strings play").
PLURAL_INSTRUMENTS = frozenset(
    {
        "strings",
        "drums",
        "vocals",
        "cymbals",
        "toms",
        "bells",
        "keys",
        "woodwinds",
        "bongos",
        "congas",
        "timpani",
        "horns",
        "voices",
        "castanets",
    }
)


def is_plural_instrument(word: str) -> bool:
    """Whether an instrument takes the plural verb: "Strings play", "Bagpipes breathe",
    "Tubular bells play" (its last word a plural noun), but "Bass plays"."""
    from aimv_backend.describe.pos import is_plural_noun  # noqa: PLC0415 - pos imports this

    words = word.strip().lower().split()
    if not words:
        return False
    last = words[-1]  # "tubular bells": the head noun says it
    return last in PLURAL_INSTRUMENTS or (last.endswith("s") and is_plural_noun(last))


# An abstraction of last resort when no vector can be found for an instrument at all; the
# design's own examples where they exist.
CATEGORY_FALLBACK_ABSTRACTION: dict[str, str] = {
    "drum": "impact",
    "guitar": "pedal",
    "strings": "floating",
    "vocal": "vibrate",
    "keys": "crystal",
    "bass": "deep",
    "synth": "tech",
    "brass": "blaze",
    "woodwind": "breeze",
    "other": "echo",
}

# --------------------------------------------------------------------------------------------
# People and words

# The design: "Action being looking at, running at, holding, etc ... Choose action randomly."
ACTIONS = (
    "holding",
    "looking at",
    "running at",
    "reaching for",
    "dancing with",
    "chasing",
    "carrying",
    "staring at",
    "walking toward",
    "clutching",
    "throwing",
    "embracing",
    "lifting",
    "pointing at",
    "spinning with",
    "drawing",
)

# Short words and ones that start with a vowel letter but a consonant sound, and the reverse.
_AN_EXCEPTIONS = ("hour", "honest", "honou", "honor", "heir")
_A_EXCEPTIONS = (
    "one", "once", "uni", "use", "usu", "ute", "eu", "ewe", "ufo", "uk", "utop", "uran", "urin",
    "uter", "unanim", "usur", "uvul",
)  # fmt: skip


def article(word: str) -> str:
    """'a' or 'an' before ``word`` (by its first sound: its first letter without accents, with
    the usual exceptions): "an orange", "a unicorn", "an hour", "an étoile", "an árbol"."""
    w = word.strip().lower()
    if not w:
        return "a"
    if w.startswith(_AN_EXCEPTIONS):
        return "an"
    if w.startswith(_A_EXCEPTIONS):
        return "a"
    first = unicodedata.normalize("NFD", w[0])[0]  # é -> e, á -> a
    return "an" if first in "aeiou" else "a"


def with_article(phrase: str) -> str:
    """``phrase`` with its article: 'an orange', 'a heart'."""
    return f"{article(phrase)} {phrase}"


# --------------------------------------------------------------------------------------------
# Adjectives

# Irregular or better forms; everything else follows the rules of :func:`adjective`.
_ADJECTIVE_EXCEPTIONS = {
    "metal": "metallic",
    "crystal": "crystalline",
    "gold": "golden",
    "wood": "wooden",
    "silk": "silken",
    "wool": "woolen",
    "fire": "fiery",
    "energy": "energetic",
    "melody": "melodic",
    "harmony": "harmonic",
    "rhythm": "rhythmic",
    "magic": "magical",
    "mystery": "mysterious",
    "glory": "glorious",
    "fury": "furious",
    "beauty": "beautiful",
    "sorrow": "sorrowful",
    "power": "powerful",
    "peace": "peaceful",
    "grace": "graceful",
    "joy": "joyful",
    "hope": "hopeful",
    "fear": "fearful",
    "dream": "dreamy",
    "ghost": "ghostly",
    "angel": "angelic",
    "heaven": "heavenly",
    "volcano": "volcanic",
    "atom": "atomic",
    "cosmos": "cosmic",
    "ocean": "oceanic",
    "sun": "sunny",
    "star": "starry",
    "moon": "moonlit",
    "night": "nightly",
    "water": "watery",
    "heart": "hearty",
    "glass": "glassy",
    "drama": "dramatic",
    "chaos": "chaotic",
    "storm": "stormy",
    "electricity": "electric",
    "technology": "technological",
    "machine": "mechanical",
    "robot": "robotic",
    "geometry": "geometric",
    "infinity": "infinite",
    "eternity": "eternal",
    "silence": "silent",
    "darkness": "dark",
    "light": "luminous",
    "depth": "deep",
    "height": "high",
    "strength": "strong",
    "weight": "weighty",
    "roar": "roaring",
    "boots": "booted",
    "eye": "watchful",
    "eyes": "watchful",
    "lens": "optical",
    "pulse": "pulsing",
    "rise": "rising",
    "chase": "chasing",
    "collapse": "collapsing",
    "scar": "scarred",
    "bone": "bony",
    "stone": "stony",
    # where the rule gives another word, one that means something else, or one the prompt
    # must not carry (bloody, dirty: see the colour names left out of prompts)
    "photograph": "photographic",
    "iron": "iron-like",
    "phone": "phone-like",
    "tide": "tidal",
    "skin": "skin-like",
    "blood": "crimson",
    "dirt": "earthy",
    "shoe": "shoe-like",
    "shoes": "shoe-like",
    "toes": "toe-like",
    "canoe": "canoe-like",
    "gale": "gusty",
    "rage": "raging",
    "sunrise": "dawning",
    "crab": "crab-like",  # "crabby" is grumpy
    "race": "racing",  # "racy" would reach the prompt
    "tortoise": "tortoise-like",
}
_ADJECTIVE_SUFFIXES = (
    "y",
    "ing",
    "ed",
    "ous",
    "ful",
    "ive",
    "ic",
    "ical",
    "less",
    "ish",
    "ent",
    "ant",
    "able",
    "ible",
    "ary",
    "ory",
    "ile",
    "ine",
    "ly",
    "en",
    "like",
    "ial",
    "est",
    "lit",  # candlelit, moonlit
)
# Abstract nouns read well as they are before a noun ("a collision synth"); "collisiony" not.
_NOUN_ADJUNCT_SUFFIXES = ("ion", "ness", "ment", "ity", "ism", "ance", "ence", "ure", "scape")
# Words of the vocabulary that already are adjectives although no suffix says so.
_PLAIN_ADJECTIVES = frozenset(
    """
    deep dark dim pale bright vivid calm quiet still wild free slow swift rapid vast huge tiny
    small wide narrow soft hard sharp rough smooth fine thick thin dense hollow solid heavy
    warm hot cold cool wet dry old young pure sad happy lost brave bold fierce strong tender
    gentle loud silent serene tranquil sublime divine holy sacred noble regal royal eternal
    infinite immense giant micro urban cyber digital virtual optical magnetic electric neon
    remote distant far open empty lonely lazy naive brief matte glossy opaque fragile brittle
    sturdy blunt jagged coarse airy ethereal tense weird strange eerie awake asleep chilly
    intense close
    """.split()
)
_VOWELS = "aeiou"


def adjective(word: str) -> str:
    """The adjective the design puts before the foreground instrument.

    The design turns the last abstraction into an adjective by adding "y": tech -> techy,
    bounce -> bouncy (the design writes "bouncey"), pedal -> pedaly. Rules, in order:
    a known irregular form (metal -> metallic); a word that already is an adjective (deep,
    floating, misty) and an abstract noun (collision, darkness) stay; a long verb in -ate/-ize
    takes "-ing" (vibrate -> vibrating); a final silent "e" is dropped (wave -> wavy); a short
    consonant-vowel-consonant word doubles its last letter (sun -> sunny, fog -> foggy); a
    final vowel takes "-like" (echo -> echo-like); otherwise "y" is added. A plural takes the
    adjective of its singular (sparks -> sparky).
    """
    w = word.strip().lower()
    if not w:
        return w
    if " " in w:  # a phrase: make its last word the adjective
        head, _, last = w.rpartition(" ")
        return f"{head} {adjective(last)}"
    if w in _ADJECTIVE_EXCEPTIONS:
        return _ADJECTIVE_EXCEPTIONS[w]
    if len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is", "as", "os")):
        # a plural: the adjective of its singular (sparks -> sparky, ashes -> ashy)
        if w.endswith("ies"):
            return adjective(w[:-3] + "y")
        if w.endswith(("ches", "shes", "xes", "oes")):
            return adjective(w[:-2])
        return adjective(w[:-1])
    from aimv_backend.describe.pos import pos_evidence  # noqa: PLC0415 - data loads once

    if w in _PLAIN_ADJECTIVES or len(w) <= 2:
        return w
    if w.endswith(_ADJECTIVE_SUFFIXES) or w.endswith(_NOUN_ADJUNCT_SUFFIXES):
        return w
    evidence = pos_evidence(w)
    if evidence["adj"] > evidence["noun"]:  # already an adjective: airborne, shrill
        return w
    if len(w) >= 7 and w.endswith(("ate", "ize", "ise")) and evidence["verb"] >= evidence["noun"]:
        return w[:-1] + "ing"  # verbs: vibrate -> vibrating
    made = _y_form(w)
    if made.endswith("y"):
        known = pos_evidence(made)
        if not known["adj"] and any(known.values()):  # another word: car -> "carry", "cody"
            return w + "-like"
    return made


def _y_form(w: str) -> str:
    """The design's "add y" with English spelling (see :func:`adjective`)."""
    if w.endswith("e") and not w.endswith(("ee", "ie", "oe")):
        return w[:-1] + "y"
    if w[-1] in "aiou" or w.endswith(("ee", "ie", "oe")):
        return w + "-like"
    if (
        len(w) <= 4
        and w[-1] not in _VOWELS + "wxy"
        and w[-2] in _VOWELS
        and w[-3] not in _VOWELS
        and sum(c in _VOWELS for c in w) == 1
    ):
        return w + w[-1] + "y"
    return w + "y"


# --------------------------------------------------------------------------------------------
# Stems and transcriptions


@lru_cache(maxsize=1)
def _porter():
    from gensim.parsing.porter import PorterStemmer  # pure Python, ships with gensim

    return PorterStemmer()


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Porter stem of a lowercase word ("vibrating" -> "vibrat")."""
    w = word.lower()
    try:
        return _porter().stem(w)
    except ImportError:  # gensim missing: a crude suffix strip keeps the filter working
        return re.sub(r"(ing|ed|es|s|y|er|ly)$", "", w) or w


def same_family(a: str, b: str) -> bool:
    """True when two words share a stem ("synth"/"synthetic", "crash"/"crashing")."""
    sa, sb = stem(a), stem(b)
    if sa == sb:
        return True
    short, long_ = sorted((sa, sb), key=len)
    return len(short) >= 4 and long_.startswith(short)


# --------------------------------------------------------------------------------------------
# Glosses: a few words of each instrument's character that steer its neighbourhood

# A word vector of "tom" is mostly a man's name and "bass" mostly a fish. Each instrument is
# therefore looked up together with a few words of its sound's character (half the weight),
# all from the evocative vocabulary; the design's own pairs (crash -> impact, ...) are among
# them. See docs/sentences.md.
INSTRUMENT_GLOSSES: dict[str, tuple[str, ...]] = {
    "crash": ("impact", "shatter", "burst"),
    "splash": ("wave", "spray", "ripple"),
    "ride": ("shimmer", "glide", "sparkle"),
    "hihat": ("tick", "sparkle", "hiss"),
    "hi-hat": ("tick", "sparkle", "hiss"),
    "hat": ("tick", "sparkle", "hiss"),
    "cymbal": ("shimmer", "impact", "wave"),
    "snare": ("snap", "crack", "strike"),
    "rimshot": ("crack", "snap", "click"),
    "kick": ("cannon", "punch", "thump"),
    "kick drum": ("cannon", "punch", "thump"),
    "bass drum": ("cannon", "boom", "thump"),
    "tom": ("bounce", "thud", "rolling"),
    "toms": ("bounce", "thud", "rolling"),
    "floor tom": ("bounce", "thud", "rumble"),
    "drum": ("pound", "heartbeat", "thunder"),
    "drums": ("pound", "heartbeat", "thunder"),
    "drum kit": ("pound", "heartbeat", "thunder"),
    "drum machine": ("pulse", "circuit", "tick"),
    "clap": ("snap", "crack", "spark"),
    "tambourine": ("jingle", "sparkle", "shake"),
    "shaker": ("sand", "dust", "shake"),
    "cowbell": ("clang", "metal", "knock"),
    "timpani": ("thunder", "boom", "rumble"),
    "tabla": ("patter", "bounce", "ripple"),
    "percussion": ("patter", "pound", "knock"),
    "guitar": ("pedal", "spark", "crackle"),
    "electric guitar": ("pedal", "voltage", "roar"),
    "acoustic guitar": ("wood", "warmth", "campfire"),
    "bass": ("deep", "rumble", "undertow"),
    "bass guitar": ("deep", "rumble", "undertow"),
    "double bass": ("deep", "velvet", "shadow"),
    "piano": ("cascade", "ivory", "raindrop"),
    "electric piano": ("glow", "velvet", "neon"),
    "keyboard": ("cascade", "glow", "ivory"),
    "keys": ("cascade", "glow", "ivory"),
    "organ": ("cathedral", "breath", "hum"),
    "harpsichord": ("lace", "crystal", "palace"),
    "synth": ("tech", "neon", "circuit"),
    "synthesizer": ("tech", "neon", "circuit"),
    "violin": ("soaring", "silk", "tears"),
    "viola": ("dusk", "velvet", "longing"),
    "cello": ("floating", "velvet", "dusk"),
    "strings": ("soaring", "silk", "floating"),
    "harp": ("ripple", "angelic", "cascade"),
    "vocal": ("vibrate", "breath", "echo"),
    "vocals": ("vibrate", "breath", "echo"),
    "voice": ("vibrate", "breath", "echo"),
    "choir": ("cathedral", "angelic", "echo"),
    "male vocal": ("vibrate", "breath", "echo"),
    "female vocal": ("vibrate", "breath", "echo"),
    "trumpet": ("blaze", "triumph", "golden"),
    "trombone": ("slide", "golden", "swagger"),
    "horn": ("majestic", "horizon", "golden"),
    "french horn": ("majestic", "horizon", "golden"),
    "tuba": ("heavy", "bounce", "elephant"),
    "brass": ("blaze", "golden", "triumph"),
    "saxophone": ("smoky", "velvet", "midnight"),
    "sax": ("smoky", "velvet", "midnight"),
    "flute": ("breeze", "bird", "airy"),
    "clarinet": ("wood", "twilight", "breeze"),
    "oboe": ("reed", "meadow", "longing"),
    "bassoon": ("wood", "grumble", "dusk"),
    "woodwind": ("breeze", "reed", "meadow"),
    "harmonica": ("railway", "dust", "wander"),
    "accordion": ("breath", "harbor", "dance"),
    "bagpipes": ("highland", "mist", "drone"),
    "sitar": ("shimmer", "spice", "temple"),
    "banjo": ("porch", "dust", "bounce"),
    "mandolin": ("sparkle", "sunlight", "ripple"),
    "ukulele": ("beach", "sunny", "breeze"),
    "marimba": ("wood", "raindrop", "bounce"),
    "xylophone": ("raindrop", "sparkle", "bounce"),
    "glockenspiel": ("sparkle", "starlight", "twinkle"),
    "vibraphone": ("shimmer", "midnight", "glow"),
    "bell": ("glimmer", "halo", "cathedral"),
    "bells": ("glimmer", "halo", "cathedral"),
    "gong": ("boom", "temple", "ripple"),
    "chime": ("wind", "glimmer", "breeze"),
    "chimes": ("wind", "glimmer", "breeze"),
    "orchestra": ("majestic", "storm", "cathedral"),
    "theremin": ("ghostly", "eerie", "oscillate"),
    "beat": ("pulse", "heartbeat", "pound"),
    "other": ("echo", "mystery", "shimmer"),
    "music": ("echo", "shimmer", "pulse"),
    "silence": ("stillness", "hush", "void"),
    # the other words of the listen stage (aimv_backend/listen/instruments/labels.py)
    "chant": ("cathedral", "echo", "ancient"),
    "rap": ("street", "urban", "punch"),
    "yodel": ("mountain", "echo", "valley"),
    "humming": ("breath", "murmur", "warmth"),
    "beatbox": ("street", "pulse", "click"),
    "whistle": ("breeze", "bird", "shrill"),
    "turntable scratch": ("spin", "glitch", "vortex"),
    "sleigh bells": ("snow", "sparkle", "frost"),
    "wind chimes": ("breeze", "glimmer", "porch"),
    "church bell": ("cathedral", "halo", "dawn"),
    "tubular bells": ("cathedral", "shimmer", "halo"),
    "singing bowl": ("temple", "ripple", "serene"),
    "drum roll": ("thunder", "rumble", "tension"),
    "vocoder": ("robot", "circuit", "voltage"),
    "child vocal": ("innocence", "playful", "breath"),
    "plucked strings": ("ripple", "raindrop", "sparkle"),
    "mallets": ("raindrop", "wood", "bounce"),
    "steelpan": ("beach", "sunny", "ripple"),
    "maracas": ("sand", "shake", "sunny"),
    "didgeridoo": ("drone", "earth", "desert"),
    "shofar": ("ancient", "horizon", "desert"),
    "zither": ("ripple", "lace", "mountain"),
    "pizzicato": ("raindrop", "droplet", "playful"),
    "sampler": ("circuit", "glitch", "loop"),
    "slide guitar": ("desert", "dust", "glide"),
    "wood block": ("knock", "wood", "tick"),
    "rattle": ("shake", "dust", "tremble"),
}
