"""WER of speech and of espeak-ng "singing" over a band at +12/+6/0/-5 dB, and words invented
on instrumental audio.

Each clip is one line placed word by word (exact truth) over a fluidsynth band at the given
speech-to-music ratio (active voice level over music RMS), analysed with the default voice
engine (silero-vad + faster-whisper base int8, music pass on; ``--no-music-pass`` for the
voiced-regions pass alone), with the language detected and given. Reported per clip: WER
(jiwer), words heard at the right time (the word is a word of the line, and its time overlaps
where that word sounds, +-0.3 s), the language found, the share of windows with the right
mode. The sung cases say whether the music pass was tuned on them ("tune") or not
("held-out"). Instrumental clips (bands alone, and the windows of the 3-minute benchmark song
that hold no voice) give the words invented per minute.

    .venv/bin/python bench/voice_wer.py [--snr 12,6,0,-5] [--no-music-pass] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import machine_line  # noqa: E402

LINES = (
    "the lantern by the river shines across the water",
    "my heart is a burning city in the night",
)
SPANISH = "mi corazón está en llamas la noche es larga"
SECONDS = 9.0
RATE = 22050
OTHER_BAND = ("drum_kit", "bass", "strings", "acoustic_guitar")
# (name, tuned on?, line, espeak voice, language, band seed, band parts)
# espeak-ng's "singing" in en-us+m3, en-gb and es is not understood by Whisper base even with
# no band (+40 dB: "You can tell I'm not sure...", a loop, "Mirá -la -la"), so the held-out
# singers are en-us+f2 and en-us+f4; the "alone" row gives each line's WER with no band.
SUNG = (
    ("sung line 0, en-us+f3, band 0", "tune", LINES[0], "en-us+f3", "en", 0, None),
    ("sung line 1, en-us+f3, band 1", "held-out", LINES[1], "en-us+f3", "en", 1, None),
    ("sung line 0, en-us+f2, band 2", "held-out", LINES[0], "en-us+f2", "en", 2, None),
    ("sung line 1, en-us+f4, other band", "held-out", LINES[1], "en-us+f4", "en", 3, OTHER_BAND),
)
SPEECH = (
    ("speech line 0, en-us, band 0", "-", LINES[0], "en-us", "en", 0, None),
    ("speech line 1, en-us, band 1", "-", LINES[1], "en-us", "en", 1, None),
    ("speech Spanish, es, band 4", "-", SPANISH, "es", "es", 4, None),
)
# Instrumental beds (30 s each): (name, tuned on?, seed, parts)
BEDS = (
    ("band seeds 0-2", "tune", (0, 1, 2), None),
    ("band seeds 3-5", "held-out", (3, 4, 5), None),
    ("other band seeds 0-1", "held-out", (0, 1), OTHER_BAND),
    ("pads and strings seed 0", "held-out", (0,), ("synth_pad", "strings", "bass", "drum_kit")),
)


def _band(seconds: float, seed: int, parts):
    from aimv_testkit.grooves import render_groove

    kw = {} if parts is None else {"parts": parts}
    return render_groove(bpm=100, seconds=seconds, seed=seed, **kw).audio


def _clip(line: str, *, sing: bool, snr: float, voice: str, seed: int, parts=None):
    from aimv_testkit import VocalWord, scale_to_snr
    from aimv_testkit.voice import place_words

    if sing:
        notes = (62, 64, 66, 67, 69, 67, 66, 64, 62, 64)
        words = [
            VocalWord(w, None if k else 0.8, note=notes[k % len(notes)], hold=0.55)
            for k, w in enumerate(line.split())
        ]
    else:
        words = [VocalWord(w, None if k else 0.8) for k, w in enumerate(line.split())]
    audio, truth = place_words(
        words=words, seconds=SECONDS, sample_rate=RATE, sing=sing, voice=voice, speed=150
    )
    band = scale_to_snr(audio, _band(SECONDS, seed, parts), snr_db=snr, rate=RATE)
    audio = audio + band
    return audio / max(1e-9, float(abs(audio).max())) * 0.9, truth


def _norm(text: str) -> str:
    return "".join(c for c in text.lower() if c.isalnum())


def _analyse(path, *, language, music_pass, window_seconds=1.0):
    from aimv_backend.audio.io import probe_audio
    from aimv_backend.listen.voice import VoiceOptions, listen_voice
    from aimv_backend.listen.windows import make_windows
    from aimv_backend.progress import SilentProgress

    info = probe_audio(path)
    spans = make_windows(
        frames=info.frames, sample_rate=info.sample_rate, window_seconds=window_seconds
    )
    t0 = time.perf_counter()
    result = listen_voice(
        audio_info=info,
        windows=spans,
        options=VoiceOptions(language=language, allow_download=False, music_pass=music_pass),
        progress=SilentProgress(),
    )
    return result, spans, time.perf_counter() - t0


def _line_row(tmp, case, *, sing, snr, language, music_pass) -> dict:
    import jiwer

    from aimv_testkit import write_audio

    name, tuned, line, voice, lang, seed, parts = case
    audio, truth = _clip(line, sing=sing, snr=snr, voice=voice, seed=seed, parts=parts)
    path = write_audio(Path(tmp) / "clip.wav", audio, RATE)
    result, _, seconds = _analyse(path, language=language, music_pass=music_pass)
    words = [w for v in result.windows for w in v.words]
    heard = " ".join(_norm(w.text) for w in words if _norm(w.text))
    wer = jiwer.wer(" ".join(_norm(t) for t in line.split()), heard or "<none>")
    timed = 0
    used = set()
    for w in words:
        for k, t in enumerate(truth):
            if k in used or _norm(t.word) != _norm(w.text):
                continue
            if w.start <= t.end + 0.3 and w.end >= t.start - 0.3:
                used.add(k)
                timed += 1
                break
    voiced = [v for v in result.windows if v.text]
    want = "sung" if sing else "spoken"
    return {
        "case": name,
        "tuned": tuned,
        "kind": "sung" if sing else "speech",
        "snr_db": snr,
        "language_given": language,
        "language": result.language,
        "language_right": result.language == lang,
        "wer": round(min(1.0, wer), 4),
        "timed_right": round(timed / len(truth), 3),
        "mode_right": round(sum(v.mode == want for v in voiced) / len(voiced), 3)
        if voiced
        else None,
        "heard": heard,
        "seconds": round(seconds, 2),
    }


def _bed_rows(tmp, *, music_pass, bench_song: bool) -> list[dict]:
    from aimv_testkit import write_audio

    rows = []
    for name, tuned, seeds, parts in BEDS:
        invented, minutes, texts = 0, 0.0, []
        for seed in seeds:
            band = _band(30.0, seed, parts)
            band = band / max(1e-9, float(abs(band).max())) * 0.9
            path = write_audio(Path(tmp) / "bed.wav", band, RATE)
            result, _, _ = _analyse(path, language=None, music_pass=music_pass)
            words = [w.text for v in result.windows for w in v.words]
            invented += len(words)
            minutes += 0.5
            texts += words
        rows.append(
            {"bed": name, "tuned": tuned, "minutes": minutes, "words": invented,
             "per_minute": round(invented / minutes, 2), "texts": texts}
        )  # fmt: skip
        print(json.dumps(rows[-1]), flush=True)
    if bench_song:
        from aimv_testkit import render_bench_song

        song = render_bench_song(seconds=180.0)
        truth = json.loads(song.with_suffix(".truth.json").read_text())
        result, spans, seconds = _analyse(song, language=None, music_pass=music_pass)
        quiet = {t["index"] for t in truth["windows"] if not t["voice"]}
        # a window next to a voiced one may hold the tail of a word: count clear windows only
        clear = {i for i in quiet if i - 1 in quiet and i + 1 in quiet}
        words = [w.text for i, v in enumerate(result.windows) if i in clear for w in v.words]
        rows.append(
            {"bed": "benchmark song, windows with no voice", "tuned": "held-out",
             "minutes": round(len(clear) / 60, 2), "words": len(words),
             "per_minute": round(len(words) / max(1e-9, len(clear) / 60), 2), "texts": words,
             "song_words": sum(len(v.words) for v in result.windows),
             "voice_seconds": round(seconds, 1)}
        )  # fmt: skip
        print(json.dumps(rows[-1]), flush=True)
    return rows


def run(snrs, *, music_pass: bool, bench_song: bool, beds: bool = True) -> dict:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        beds = _bed_rows(tmp, music_pass=music_pass, bench_song=bench_song) if beds else []
        for sing, cases in ((False, SPEECH), (True, SUNG)):
            for case in cases:  # the line with no band (+60 dB), language given
                row = _line_row(
                    tmp, case, sing=sing, snr=60.0, language=case[4], music_pass=music_pass
                )
                rows.append({**row, "tuned": "alone"})
                print(json.dumps(rows[-1], ensure_ascii=False), flush=True)
            for snr in snrs:
                for case in cases:
                    for language in (None, case[4]):
                        row = _line_row(
                            tmp, case, sing=sing, snr=snr, language=language,
                            music_pass=music_pass,
                        )  # fmt: skip
                        rows.append(row)
                        print(json.dumps(row, ensure_ascii=False), flush=True)
    summary = {}
    for kind, tuned in (("speech", "-"), ("sung", "tune"), ("sung", "held-out")):
        for snr in snrs:
            for given in (False, True):
                sel = [
                    r
                    for r in rows
                    if r["kind"] == kind
                    and r["tuned"] == tuned
                    and r["snr_db"] == snr
                    and (r["language_given"] is not None) == given
                ]
                if not sel:
                    continue
                label = f"{kind} ({tuned}) {snr:+g} dB language {'given' if given else 'detected'}"
                summary[label] = {
                    "wer": round(sum(r["wer"] for r in sel) / len(sel), 3),
                    "timed_right": round(sum(r["timed_right"] for r in sel) / len(sel), 3),
                    "language_right": f"{sum(r['language_right'] for r in sel)}/{len(sel)}",
                }
    for bed in beds:
        summary[f"invented words per minute: {bed['bed']} ({bed['tuned']})"] = bed["per_minute"]
    return {"summary": summary, "rows": rows, "beds": beds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--snr", default="12,6,0,-5")
    parser.add_argument("--no-music-pass", action="store_true")
    parser.add_argument("--no-bench-song", action="store_true")
    parser.add_argument("--no-beds", action="store_true", help="skip the instrumental clips")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    report = run(
        [float(x) for x in args.snr.split(",")],
        music_pass=not args.no_music_pass,
        bench_song=not args.no_bench_song,
        beds=not args.no_beds,
    )
    print(json.dumps(report["summary"], indent=2, ensure_ascii=False))
    print(machine_line())
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
