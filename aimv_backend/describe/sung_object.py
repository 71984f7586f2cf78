"""The sung object: the word of a line the person holds ("holding a heart"), and its article.

The design takes the object from the words sung in the window. It must be a thing a picture
can show, never a function word, a time word, a number, a greeting or a word the image prompt
must not carry, and it must read right after the action: "holding a heart", "holding
mountains", "holding love", "holding an MRI". docs/sentences.md explains
every choice; aimv_backend/describe/pos.py decides what is a noun.
"""

from __future__ import annotations

import re
import unicodedata

from aimv_backend.describe.lexicon import article

STOPWORDS = frozenset(
    """
    a an the and or but if of to in on at by for with from into onto over under up down out off
    i me my mine you your yours he him his she her hers it its we us our they them their this
    that these those there here what who whom which when where why how all any some no not nor
    so too very just only own same than then once again also ever never now still yet is am are
    was were be been being do does did done have has had having will would shall should can
    could may might must let get got go goes going gone come came make made say said know see
    give gave given take took taken want need feel felt tell told think thought keep kept put
    bring brought leave call find found seem try tried saw seen looking
    oh ooh ah yeah yes hey baby gonna wanna gotta cause 'cause ain't im i'm you're it's don't
    today tonight tomorrow yesterday forever always sometimes someday everyday anymore morning
    nobody somebody anybody everybody someone anyone everyone nothing something anything
    everything nowhere somewhere anywhere everywhere hello goodbye bye okay ok please thanks
    sorry maybe really alright whoa wow
    one two three four five six seven eight nine ten eleven twelve twenty hundred thousand
    million first second third last next
    el la los las un una unos unas y o de del al en con por para que se su sus mi tu yo es
    hoy ahora aquí allí siempre nunca muy más bien tan como cuando donde pero sin sobre este
    esta eso esa todo toda nada algo también ya mañana noche vez
    le les des et ou du au aux je tu il elle nous vous ils elles est dans pour pas ne qui
    avec sans sous sur tout toute tous rien très plus moins mais comme quand encore aussi alors
    donc cette ces mon ton son ma ta sa mes tes ses notre votre leur toujours jamais ici
    der die das ein eine und oder ich du er sie wir ihr ist nicht mit auf zu im den dem
    il lo gli e di da per non che io sei o os as um uma eu não com por
    """.split()
)

# Words a picture prompt must not carry (slurs, profanity, sex, drugs, self-harm): never the
# object; the noun carried from an earlier line stands in.
BLOCKED = frozenset(
    """
    fuck fucking fucked fucker motherfucker shit shitty bullshit bitch bitches bastard asshole
    ass dick cock pussy cunt whore slut hoe hoes nigga niggas nigger niggers faggot fag retard
    sex sexy porn nude naked orgasm cum
    cocaine coke heroin crack meth weed marijuana blunt joint molly ecstasy lean codeine
    suicide overdose rape rapist murder corpse gun guns pistol bullet bullets
    puta puto mierda coño joder pendejo cabrón verga putain merde salope connard scheiße
    """.split()
)

# Nouns that take no "a" as a whole mass or an idea ("holding love", "carrying water").
UNCOUNTABLE = frozenset(
    """
    news music information advice water love furniture weather happiness rice money time air
    sand snow rain smoke dust gold silver milk bread honey wine coffee tea sugar salt wisdom
    knowledge freedom peace joy anger sadness hope faith courage truth beauty darkness silence
    heaven hell mercy grace glory luck fun luggage traffic evidence equipment clothing poetry
    history hair ice oil steam thunder lightning sunshine moonlight starlight electricity
    energy nature death life fire blood gravity space fate loneliness sorrow grief pride shame
    desire passion youth magic chaos mud grass jewelry jewellery laughter applause harmony
    """.split()
)

# Sung syllables without meaning: a window whose words are only these "hums" (the design's
# "hmmmmm" / "oooooooo" case).
_VOCABLE = re.compile(r"^(?:h*m+|o+h*|a+h*|u+h*|e+h*|la+|na+|da+|doo+|du+|ba+|hm+|mm+|yeah+|uh+)$")
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*", re.UNICODE)
# French and Italian elisions: "l'étoile" is "étoile", "t'aime" is "aime".
_ELIDED = re.compile(r"^(?:[ldjtcmns]|qu|dell|nell|sull|dall|all|un)'(?=[^\W\d_])", re.IGNORECASE)
_LETTER_AN = frozenset("aefhilmnorsx")  # letters whose name starts with a vowel: "an MRI"

MAX_OBJECT_CHARS = 24  # longer than any word a singer holds ("extraordinarily": 15)
MIN_FOREIGN_CHARS = 3  # a two-letter word of another language is a function word ("ve", "ya")


def _tokens(text: str) -> list[str]:
    """The words of a transcription as sung (case kept), elisions split off."""
    text = unicodedata.normalize("NFC", text).replace("’", "'")
    return [_ELIDED.sub("", w) for w in _WORD.findall(text)]


def words_of(text: str) -> list[str]:
    """The words of a transcription, lowercase, without punctuation or digits."""
    return [w.lower() for w in _tokens(text)]


def is_vocable(word: str) -> bool:
    """True for sung syllables such as "ooh", "hmm", "la", "na"."""
    return bool(_VOCABLE.match(word.lower()))


def has_words(text: str) -> bool:
    """True when a transcription holds real words, not only sung syllables."""
    return any(not is_vocable(w) for w in words_of(text))


def _shouted(text: str) -> bool:
    """Whether a line is written mostly in capitals ("SET THE FIRE"): its capitals say
    nothing."""
    letters = [c for c in text if c.isalpha()]
    return sum(c.isupper() for c in letters) > 0.5 * len(letters)


def _is_acronym(token: str) -> bool:
    """An acronym as sung, in a line not shouted: two to five capitals ("an MRI", not "an
    FIRE"). A capitalised word is no name here: the recogniser capitalises the first word of
    each of its segments, wherever a window cuts."""
    return 2 <= len(token) <= 5 and token.isupper()


def salient_word(text: str, *, language: str | None = None) -> str:
    """The design's object ("holding a heart"): the longest noun of a line, a word that is a
    noun more than anything else first (later on a tie); "" when it holds none (the caller
    carries the last noun over). Never a stop word or a blocked word. Words of another
    language (``language`` not "en", or none known to WordNet) keep the longest content word
    of at least three letters. An acronym keeps its capitals ("MRI"); every other word is
    lowercase. See aimv_backend.describe.pos.
    """
    from aimv_backend.describe.pos import is_english_word, is_noun, is_noun_first

    tokens = [t for t in _tokens(text) if not is_vocable(t)]
    if not tokens:
        return ""
    shown = {}
    shouted = _shouted(text)
    for token in tokens:
        kept = not shouted and _is_acronym(token)
        shown.setdefault(token.lower(), token if kept else token.lower())
    # a "word" longer than MAX_OBJECT_CHARS is a line in a script written without spaces
    content = [
        w
        for w in (t.lower() for t in tokens)
        if w not in STOPWORDS and w not in BLOCKED and 1 < len(w) <= MAX_OBJECT_CHARS
    ]
    if not content:  # "you and me": words, but no object to hold
        return ""
    english = language == "en" or (language is None and any(is_english_word(w) for w in content))
    if english:
        content = [w for w in content if is_noun(w)]
        rank = {w: (is_noun_first(w), len(w)) for w in content}
    else:
        content = [w for w in content if len(w) >= MIN_FOREIGN_CHARS]
        rank = {w: (True, len(w)) for w in content}
    if not content:
        return ""
    best = content[0]
    for w in content[1:]:
        if rank[w] >= rank[best]:
            best = w
    return shown[best]


def object_phrase(word: str) -> str:
    """The object as the person holds it: "a heart", "an MRI", plural "mountains", a mass noun
    "love"."""
    from aimv_backend.describe.pos import is_plural_noun

    if len(word) >= 2 and word.isupper():  # an acronym reads letter by letter
        return f"{'an' if word[0].lower() in _LETTER_AN else 'a'} {word}"
    if word.lower() in UNCOUNTABLE or is_plural_noun(word):
        return word
    return f"{article(word)} {word}"
