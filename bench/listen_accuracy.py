"""Listening accuracy on labelled synthetic audio: instrument top-3 hit rate and speech WER.

Issue 3 (listening accuracy) asks how often the taggers name what plays and how well words are
recognised over music. The clips are rendered by ``aimv_testkit`` (fluidsynth General MIDI
parts, espeak-ng speech), so the truth is exact:

* instruments: each part alone, and a few band mixes. A label is a *hit* in a window when one
  of the window's first three guesses (the design's "3 most confident") is that instrument's
  word ("strict") or an acceptable broader word, e.g. "drums" for a snare ("lenient").
  Figures are the share of non-silent 1 s windows with a hit, per label and engine.
* voice: English sentences over a band at several speech-to-music ratios (SNR, dB; speech
  active level vs music RMS). Word error rate (jiwer) of the whole clip's words, and the share
  of windows whose voice presence matches the truth. Instrument-only clips give the voice
  detector's false-positive rate.
* songs: examples/demo.wav (or ``--song``, any song with a ``.truth.json`` from
  aimv_testkit, e.g. ``bench/make_song.py``'s) scored window by window: sounding parts
  named in the top 3, voice presence, word recall/precision/timing and WER.

Run on demand (never a timed test):

    .venv/bin/python bench/listen_accuracy.py --quick          # ~1 min on 2 cores
    .venv/bin/python bench/listen_accuracy.py                  # all parts, ~5 min
    .venv/bin/python bench/listen_accuracy.py --engines musicnn --asr-models base,tiny.en
        --snr 10,0,-5 --json out.json

Engines that cannot load (e.g. PANNs without its checkpoint, offline) are reported as
unavailable and skipped.

``--kit`` adds the drum-piece and instrument-family figures on the soundfont left out of
training (bench/kit_accuracy.py: per-piece precision and recall, per-hit accuracy dry and in
mixes, family top-3 rate).

Beats, bars and tempo on rendered grooves at 70-180 bpm: ``bench/beats_accuracy.py``. WER of
speech and of espeak-ng "singing" over a band at +6, 0 and -5 dB, with the language detected or
given, and the sung/spoken mode: ``bench/voice_wer.py``. Figures: docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aimv_backend.errors import AimvError, ModelUnavailableError  # noqa: E402
from aimv_testkit import (  # noqa: E402
    Layer,
    instrument_names,
    mix,
    place_words,
    render_part,
    scale_to_snr,
    write_audio,
)
from aimv_testkit.patterns import make_harmony  # noqa: E402
from aimv_testkit.scoring import (  # noqa: E402
    EXPECTED_WORDS,
    normalise_text,
    part_heard,
    score_words,
)

RATE = 22050
HARMONY_SEED = 11

SOLO_FULL = instrument_names()
SOLO_QUICK = ("piano", "acoustic_guitar", "violin", "flute", "bass", "drum_kit", "crash", "choir")
MIXES_FULL = (
    ("piano", "bass", "drum_kit"),
    ("acoustic_guitar", "violin"),
    ("strings", "flute", "drum_kit"),
    ("synth_pad", "synth_lead", "bass", "drum_kit"),
    ("organ", "choir"),
    ("electric_guitar", "bass", "drum_kit", "piano"),
)
MIXES_QUICK = (("piano", "bass", "drum_kit"),)
BED = ("piano", "bass", "drum_kit", "strings")
SENTENCES = (
    "the ocean is calling me home",
    "a city of light in the dark night",
    "my heart is on fire",
    "she walks along the river at dawn",
    "the stars are falling on the mountain",
    "hold my hand and dance with me",
)


@dataclass
class Clip:
    name: str
    path: Path
    seconds: float
    parts: tuple[str, ...] = ()
    sentences: tuple[tuple[str, float, float], ...] = ()  # text, start, end
    snr_db: float | None = None


@dataclass
class Tally:
    windows: int = 0
    strict: int = 0
    lenient: int = 0
    top1: int = 0

    def add(self, guesses: Sequence[str], part: str) -> None:
        self.windows += 1
        self.strict += part_heard(part, guesses)
        self.lenient += part_heard(part, guesses, lenient=True)
        self.top1 += part_heard(part, guesses, top=1)


@dataclass
class EngineReport:
    engine: str
    solo: dict[str, Tally] = field(default_factory=dict)
    in_mix: dict[str, Tally] = field(default_factory=dict)
    seconds_audio: float = 0.0
    seconds_cpu: float = 0.0
    examples: dict[str, list[str]] = field(default_factory=dict)
    vocabulary: frozenset[str] = frozenset()

    def knows(self, label: str) -> bool:
        """Whether the engine can name ``label`` at all (its table has one of the words)."""
        return not self.vocabulary or bool(EXPECTED_WORDS[label] & self.vocabulary)


def build_clips(folder: Path, *, quick: bool, snrs: Sequence[float], seconds: float) -> dict:
    """Render (cached) and write every clip; returns {"solo": [...], "mix": [...], "speech": [...]}."""
    h = make_harmony(seed=HARMONY_SEED, bpm=100.0, key="G", progression=(0, 4, 5, 3))
    solo_names = SOLO_QUICK if quick else SOLO_FULL
    mixes = MIXES_QUICK if quick else MIXES_FULL
    out: dict[str, list[Clip]] = {"solo": [], "mix": [], "speech": []}

    def part(name: str, secs: float) -> np.ndarray:
        return render_part(instrument=name, seconds=secs, sample_rate=RATE, harmony=h, seed=1)

    for name in solo_names:
        path = write_audio(folder / f"solo-{name}.wav", part(name, seconds), RATE)
        out["solo"].append(Clip(f"solo-{name}", path, seconds, (name,)))
    for parts in mixes:
        layers = [Layer(part(p, seconds), gain_db=-3.0 if p == "drum_kit" else 0.0) for p in parts]
        audio = mix(*layers, seconds=seconds, sample_rate=RATE, stereo=False, peak=0.89)
        path = write_audio(folder / f"mix-{'+'.join(parts)}.wav", audio, RATE)
        out["mix"].append(Clip(f"mix-{'+'.join(parts)}", path, seconds, parts))

    sentences = SENTENCES[:3] if quick else SENTENCES
    speech_seconds = 4.0 + 3.2 * len(sentences)
    placed = [(s, 1.0 + 3.2 * i) for i, s in enumerate(sentences)]
    voice, truth = place_words(
        words=placed, seconds=speech_seconds, sample_rate=RATE, voice="en-us", speed=145, pitch=45
    )
    spans = tuple((t.word, t.start, t.end) for t in truth)
    bed = mix(
        *(Layer(part(p, speech_seconds)) for p in BED),
        seconds=speech_seconds,
        sample_rate=RATE,
        stereo=False,
        peak=None,
    )
    clean = write_audio(folder / "speech-clean.wav", voice, RATE)
    out["speech"].append(Clip("speech-clean", clean, speech_seconds, (), spans, None))
    for snr in snrs:
        music = scale_to_snr(voice, bed, snr_db=snr, rate=RATE)
        audio = voice + music
        audio = audio * np.float32(min(1.0, 0.89 / float(np.max(np.abs(audio)))))
        path = write_audio(folder / f"speech-snr{snr:+g}dB.wav", audio, RATE)
        out["speech"].append(Clip(f"speech-snr{snr:+g}dB", path, speech_seconds, BED, spans, snr))
    return out


def _windows(path: Path):
    from aimv_backend.audio.io import probe_audio
    from aimv_backend.listen.windows import make_windows

    info = probe_audio(path)
    return info, make_windows(frames=info.frames, sample_rate=info.sample_rate, window_seconds=1.0)


def run_instruments(
    engine: str, clips: dict, *, panns_checkpoint: str | None = None
) -> EngineReport | str:
    """Tag every instrument clip with ``engine``; a string says why it could not run."""
    from aimv_backend.listen.instruments import InstrumentOptions, load_engine, tag_instruments
    from aimv_backend.progress import SilentProgress

    options = InstrumentOptions(
        engine=engine, allow_download=False, panns_checkpoint=panns_checkpoint
    )
    report = EngineReport(engine)
    try:
        loaded = load_engine(options, SilentProgress())
    except ModelUnavailableError as exc:
        return f"unavailable: {exc}"
    report.vocabulary = frozenset(i.word.lower() for i in loaded.table.values())
    for clip in clips["solo"] + clips["mix"]:
        info, windows = _windows(clip.path)
        t0 = time.perf_counter()
        try:
            result = tag_instruments(
                audio_info=info, windows=windows, options=options, progress=SilentProgress()
            )
        except ModelUnavailableError as exc:
            return f"unavailable: {exc}"
        report.seconds_cpu += time.perf_counter() - t0
        report.seconds_audio += clip.seconds
        report.engine = result.engine
        table = report.solo if clip.name.startswith("solo") else report.in_mix
        for guesses in result.windows:
            if not guesses:
                continue
            words = [g.word for g in guesses]
            for p in clip.parts:
                table.setdefault(p, Tally()).add(words, p)
        if clip.name.startswith("solo"):
            mid = result.windows[len(result.windows) // 2]
            report.examples[clip.parts[0]] = [f"{g.word} {g.score:.2f}" for g in mid[:3]]
    return report


@dataclass
class VoiceRow:
    clip: str
    snr_db: float | None
    wer: float
    presence_accuracy: float
    hypothesis: str
    seconds_cpu: float
    seconds_audio: float


def run_voice(model: str, clips: dict) -> tuple[str, list[VoiceRow], float | None] | str:
    """WER per speech clip and VAD false positives on instrument clips for one ASR model."""
    import jiwer

    from aimv_backend.listen.voice import VoiceOptions, listen_voice
    from aimv_backend.progress import SilentProgress

    options = VoiceOptions(asr="faster-whisper", model=model, language="en", allow_download=False)
    rows, engine = [], model
    for clip in clips["speech"]:
        info, windows = _windows(clip.path)
        t0 = time.perf_counter()
        try:
            result = listen_voice(
                audio_info=info, windows=windows, options=options, progress=SilentProgress()
            )
        except (ModelUnavailableError, AimvError) as exc:
            return f"unavailable: {exc}"
        cpu = time.perf_counter() - t0
        engine = result.engine
        hyp = normalise_text(" ".join(w.text for v in result.windows for w in v.words))
        ref = normalise_text(" ".join(s for s, _, _ in clip.sentences))
        wer = float(jiwer.wer(ref, hyp)) if hyp else 1.0
        truth = [
            any(min(w.end, e) - max(w.start, s) >= 0.2 for _, s, e in clip.sentences)
            for w in windows
        ]
        agree = np.mean([v.present == t for v, t in zip(result.windows, truth, strict=True)])
        rows.append(VoiceRow(clip.name, clip.snr_db, wer, float(agree), hyp, cpu, clip.seconds))
    # Voice activity false positives on instrument-only clips (no recognition needed).
    vad_options = VoiceOptions(asr="none", language="en")
    flagged = total = 0
    for clip in clips["solo"] + clips["mix"]:
        info, windows = _windows(clip.path)
        result = listen_voice(
            audio_info=info, windows=windows, options=vad_options, progress=SilentProgress()
        )
        flagged += sum(v.present for v in result.windows)
        total += len(result.windows)
    return engine, rows, (flagged / total if total else None)


def run_song(path: Path, *, engine: str, model: str, panns_checkpoint: str | None) -> dict:
    """Both listeners on a rendered song against its ``.truth.json``; prints and returns figures.

    Instruments: share of (window, sounding part) pairs named in the window's top 3 (a voice
    counts as the part "vocal"). Voice:
    presence agreement per window, word recall/precision (same word, middle within 0.5 s of the
    truth), mean start error, WER of the whole text.
    """
    import jiwer

    from aimv_backend.listen.instruments import InstrumentOptions, tag_instruments
    from aimv_backend.listen.voice import VoiceOptions, listen_voice
    from aimv_backend.progress import SilentProgress

    truth = json.loads(path.with_suffix(".truth.json").read_text())
    info, windows = _windows(path)
    if len(windows) != len(truth["windows"]):
        raise SystemExit(f"{path}: {len(windows)} windows but truth has {len(truth['windows'])}")
    out: dict = {"song": str(path), "duration": info.duration}
    print(f"\n## Song: {path.name} ({info.duration:g} s) against {path.stem}.truth.json")
    try:
        t0 = time.perf_counter()
        res = tag_instruments(
            audio_info=info,
            windows=windows,
            options=InstrumentOptions(
                engine=engine, allow_download=False, panns_checkpoint=panns_checkpoint
            ),
            progress=SilentProgress(),
        )
        cpu = time.perf_counter() - t0
        per_part: dict[str, Tally] = {}
        for guesses, tw in zip(res.windows, truth["windows"], strict=True):
            words = [g.word for g in guesses]
            for part in tw["instruments"] + (["vocal"] if tw["voice"] else []):
                per_part.setdefault(part, Tally()).add(words, part)
        total = sum(t.windows for t in per_part.values())
        hits = sum(t.strict for t in per_part.values())
        lenient = sum(t.lenient for t in per_part.values())
        parts = ", ".join(f"{k} {_pct(v.strict, v.windows).strip()}" for k, v in per_part.items())
        print(
            f"instruments {res.engine}: sounding parts named in top 3: {_pct(hits, total)} "
            f"(lenient {_pct(lenient, total).strip()}), RTF {cpu / info.duration:.3f}"
        )
        print(f"  per part: {parts}")
        out["instruments"] = {
            "engine": res.engine,
            "top3": hits / max(1, total),
            "top3_lenient": lenient / max(1, total),
            "per_part": {k: v.strict / v.windows for k, v in per_part.items()},
        }
    except ModelUnavailableError as exc:
        print(f"instruments {engine}: unavailable: {exc}")
    t0 = time.perf_counter()
    voice = listen_voice(
        audio_info=info,
        windows=windows,
        options=VoiceOptions(
            asr="faster-whisper", model=model, language="en", allow_download=False
        ),
        progress=SilentProgress(),
    )
    cpu = time.perf_counter() - t0
    heard = [(w.text, w.start, w.end) for v in voice.windows for w in v.words]
    true_words = [(w["word"], w["start"], w["end"]) for w in truth["words"]]
    score = score_words(true_words, heard)
    agree = np.mean(
        [v.present == tw["voice"] for v, tw in zip(voice.windows, truth["windows"], strict=True)]
    )
    ref = normalise_text(" ".join(w for w, _, _ in true_words))
    hyp = normalise_text(" ".join(w for w, _, _ in heard))
    wer = float(jiwer.wer(ref, hyp)) if hyp else 1.0
    err = "-" if score.start_error is None else f"{score.start_error:.2f} s"
    print(
        f"voice {voice.engine}: presence agrees in {agree:.0%} of windows; words recall "
        f"{score.recall:.0%}, precision {score.precision:.0%}, start error {err}, "
        f"WER {wer:.2f}, RTF {cpu / info.duration:.2f}"
    )
    print(f"  heard: {hyp}")
    out["voice"] = {
        "engine": voice.engine,
        "presence_agreement": float(agree),
        "recall": score.recall,
        "precision": score.precision,
        "start_error": score.start_error,
        "wer": wer,
        "heard": hyp,
    }
    return out


def _pct(n: int, d: int) -> str:
    return f"{100 * n / d:5.1f}%" if d else "   - "


def print_instruments(report: EngineReport) -> dict:
    rtf = report.seconds_cpu / report.seconds_audio if report.seconds_audio else float("nan")
    print(
        f"\n## Instruments: {report.engine}  (RTF {rtf:.3f}, {report.seconds_audio:.0f} s of audio)"
    )
    print(
        f"{'label':18} {'solo top-3':>10} {'lenient':>8} {'top-1':>7} {'in mix top-3':>12}"
        "  middle-window guesses (solo)"
    )
    summary = {"engine": report.engine, "rtf": rtf, "labels": {}}
    for label in EXPECTED_WORDS:
        s, m = report.solo.get(label), report.in_mix.get(label)
        if s is None and m is None:
            continue
        s = s or Tally()
        m = m or Tally()
        ex = ", ".join(report.examples.get(label, []))
        if not report.knows(label):
            ex = f"[not in the engine's vocabulary] {ex}"
        print(
            f"{label:18} {_pct(s.strict, s.windows):>10} {_pct(s.lenient, s.windows):>8} "
            f"{_pct(s.top1, s.windows):>7} {_pct(m.strict, m.windows):>12}  {ex}"
        )
        summary["labels"][label] = {
            "solo_top3": s.strict / s.windows if s.windows else None,
            "solo_top3_lenient": s.lenient / s.windows if s.windows else None,
            "solo_top1": s.top1 / s.windows if s.windows else None,
            "mix_top3": m.strict / m.windows if m.windows else None,
            "solo_windows": s.windows,
            "mix_windows": m.windows,
            "in_vocabulary": report.knows(label),
        }
    _print_total("ALL (windows)", report.solo, report.in_mix, summary, "all")
    known = {k: v for k, v in report.solo.items() if report.knows(k)}
    known_mix = {k: v for k, v in report.in_mix.items() if report.knows(k)}
    _print_total("in vocabulary", known, known_mix, summary, "in_vocabulary")
    return summary


def _print_total(title: str, solo: dict, in_mix: dict, summary: dict, key: str) -> None:
    tot = Tally()
    for t in solo.values():
        tot.windows += t.windows
        tot.strict += t.strict
        tot.lenient += t.lenient
        tot.top1 += t.top1
    mt = sum(t.windows for t in in_mix.values())
    ms = sum(t.strict for t in in_mix.values())
    print(
        f"{title:18} {_pct(tot.strict, tot.windows):>10} "
        f"{_pct(tot.lenient, tot.windows):>8} {_pct(tot.top1, tot.windows):>7} "
        f"{_pct(ms, mt):>12}"
    )
    summary[key] = {
        "solo_top3": tot.strict / max(1, tot.windows),
        "solo_top3_lenient": tot.lenient / max(1, tot.windows),
        "solo_top1": tot.top1 / max(1, tot.windows),
        "mix_top3": ms / max(1, mt),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter clips (~1-2 min)")
    parser.add_argument(
        "--engines",
        default="musicnn,panns",
        help="instrument engines, comma-separated (default musicnn,panns)",
    )
    parser.add_argument(
        "--asr-models",
        default=None,
        help="faster-whisper models (default base; full run: base,tiny.en)",
    )
    parser.add_argument(
        "--panns-checkpoint", help="Cnn14_mAP=0.431.pth (default: where aimv looks for it)"
    )
    parser.add_argument("--snr", default="10,0,-5", help="speech-to-music ratios in dB")
    parser.add_argument("--seconds", type=float, default=None, help="instrument clip length")
    parser.add_argument("--keep", type=Path, help="write the clips to this folder and keep them")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    parser.add_argument(
        "--song",
        type=Path,
        action="append",
        help="also score this rendered song against <song>.truth.json (default: the demo)",
    )
    parser.add_argument("--no-song", action="store_true", help="skip the song evaluation")
    parser.add_argument("--no-voice", action="store_true")
    parser.add_argument("--no-instruments", action="store_true")
    parser.add_argument("--kit", action="store_true", help="also bench/kit_accuracy.py's figures")
    args = parser.parse_args(argv)

    from bench._common import machine_line

    snrs = [float(x) for x in args.snr.split(",") if x.strip()]
    seconds = args.seconds or (6.0 if args.quick else 10.0)
    models = (args.asr_models or ("base" if args.quick else "base,tiny.en")).split(",")
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    print(f"# Listening accuracy on synthetic labelled audio ({'quick' if args.quick else 'full'})")
    print(f"machine: {machine_line()}")
    results: dict = {"machine": machine_line(), "quick": args.quick, "instruments": [], "voice": []}
    with tempfile.TemporaryDirectory(prefix="aimv-accuracy-") as tmp:
        if args.no_instruments and args.no_voice:
            args.keep = None
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        clips = (
            {"solo": [], "mix": [], "speech": []}
            if args.no_instruments and args.no_voice
            else build_clips(folder, quick=args.quick, snrs=snrs, seconds=seconds)
        )
        print(
            f"clips: {sum(len(v) for v in clips.values())} rendered in "
            f"{time.perf_counter() - t0:.1f} s ({folder})"
        )
        if not args.no_instruments:
            for engine in engines:
                rep = run_instruments(engine, clips, panns_checkpoint=args.panns_checkpoint)
                if isinstance(rep, str):
                    print(f"\n## Instruments: {engine}: {rep}")
                    results["instruments"].append({"engine": engine, "error": rep})
                else:
                    results["instruments"].append(print_instruments(rep))
        if not args.no_voice:
            for model in models:
                out = run_voice(model.strip(), clips)
                if isinstance(out, str):
                    print(f"\n## Voice: {model}: {out}")
                    results["voice"].append({"model": model, "error": out})
                    continue
                engine, rows, vad_fp = out
                print(f"\n## Voice: {engine} (language en)")
                print(f"{'clip':22} {'SNR dB':>7} {'WER':>6} {'presence':>9} {'RTF':>6}  heard")
                for r in rows:
                    snr = "clean" if r.snr_db is None else f"{r.snr_db:+g}"
                    print(
                        f"{r.clip:22} {snr:>7} {r.wer:6.2f} {r.presence_accuracy:9.0%} "
                        f"{r.seconds_cpu / r.seconds_audio:6.2f}  {r.hypothesis[:60]}"
                    )
                fp = "-" if vad_fp is None else f"{vad_fp:.1%}"
                print(f"voice detected in instrument-only windows (false positives): {fp}")
                results["voice"].append(
                    {
                        "engine": engine,
                        "vad_false_positive_rate": vad_fp,
                        "rows": [r.__dict__ for r in rows],
                    }
                )
    if not args.no_song:
        results["songs"] = []
        songs = args.song or [Path(__file__).resolve().parent.parent / "examples" / "demo.wav"]
        for song in songs:
            results["songs"].append(
                run_song(
                    song,
                    engine=engines[0] if engines else "musicnn",
                    model=models[0],
                    panns_checkpoint=args.panns_checkpoint,
                )
            )
    if args.kit:
        from bench import kit_accuracy

        results["kit"] = kit_accuracy.run()
    if args.json:
        from aimv_timeline.schema import write_json_atomic

        write_json_atomic(results, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
