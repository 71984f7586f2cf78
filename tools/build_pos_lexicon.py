"""Build aimv_backend/data/wordnet_pos.tsv.gz, the part-of-speech lexicon of the sung object.

Reads Princeton WordNet 3.0 as Debian's ``wordnet-base`` package installs it
(/usr/share/wordnet; WordNet 3.0 licence: use, copy, modify and distribute for any purpose,
with its copyright notice, which the output carries). For each single-word lemma it keeps how
often each part of speech was seen in WordNet's sense-tagged corpus (the index files'
``tagsense_cnt``; -1 where the word is not that part of speech), and the exception lists
that map irregular forms to lemmas ("men" -> "man", "ran" -> "run").

    apt-get install wordnet-base && python tools/build_pos_lexicon.py
"""

from __future__ import annotations

import argparse
import gzip
import io
import re
from pathlib import Path

POS = ("noun", "verb", "adj", "adv")
WORD = re.compile(r"^[a-z][a-z']*$")
HEADER = (
    "# WordNet 3.0 Copyright 2006 by Princeton University. All rights reserved.\n"
    '# THIS SOFTWARE AND DATABASE IS PROVIDED "AS IS" AND PRINCETON UNIVERSITY MAKES NO\n'
    "# REPRESENTATIONS OR WARRANTIES, EXPRESS OR IMPLIED. (WordNet 3.0 licence; see\n"
    "# docs/models-and-licences.md.) Built by tools/build_pos_lexicon.py.\n"
    "# word<TAB>noun<TAB>verb<TAB>adj<TAB>adv: sense-tagged counts, -1 = not that part of speech\n"
    "# =form<TAB>pos<TAB>lemma: an irregular form (exception lists)\n"
)


def read_index(path: Path) -> dict[str, int]:
    out = {}
    for line in path.read_text("latin-1").splitlines():
        if not line or line.startswith(" "):
            continue
        f = line.split()
        lemma, p_cnt = f[0], int(f[3])
        tagsense = int(f[4 + p_cnt + 1])
        if WORD.match(lemma):
            out[lemma] = tagsense
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wordnet", type=Path, default=Path("/usr/share/wordnet"))
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).resolve().parent.parent / "aimv_backend/data/wordnet_pos.tsv.gz",
    )
    args = parser.parse_args()
    names = {"noun": "noun", "verb": "verb", "adj": "adj", "adv": "adv"}
    counts = {p: read_index(args.wordnet / f"index.{names[p]}") for p in POS}
    words = sorted(set().union(*counts.values()))
    buf = io.StringIO()
    buf.write(HEADER)
    for w in words:
        buf.write(w + "\t" + "\t".join(str(counts[p].get(w, -1)) for p in POS) + "\n")
    for p in POS:
        for line in (args.wordnet / f"{p}.exc").read_text("latin-1").splitlines():
            f = line.split()
            if len(f) >= 2 and WORD.match(f[0]) and WORD.match(f[1]):
                buf.write(f"={f[0]}\t{p}\t{f[1]}\n")
    # mtime=0: the same input gives the same bytes.
    with open(args.out, "wb") as fh, gzip.GzipFile(fileobj=fh, mode="wb", mtime=0) as gz:
        gz.write(buf.getvalue().encode("utf-8"))
    print(f"{args.out}: {len(words)} words, {args.out.stat().st_size} bytes")


if __name__ == "__main__":
    main()
