#!/usr/bin/env bash
# Set up AIMV in ./.venv on a fresh Debian machine with Python 3.11.
#   scripts/setup.sh          the backend with every offline engine and Blender (bpy) for rendering
#   scripts/setup.sh --dev    plus the test tools and the Debian programs the tests use to make
#                             audio (fluidsynth + General MIDI soundfont, espeak-ng, sox, ffmpeg)
#                             and strace (the offline test watches every connect() of a render)
#                             and tesseract-ocr (reads rendered lyrics)
# Re-running is cheap: a stamp records what was installed.
set -euo pipefail
cd "$(dirname "$0")/.."

dev=0
[ "${1:-}" = "--dev" ] && dev=1
python=${PYTHON:-python3.11}
command -v "$python" >/dev/null 2>&1 || python=python3

if [ "$dev" = 1 ]; then
  missing=()
  for tool in fluidsynth espeak-ng sox ffmpeg ffprobe strace tesseract; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
  done
  [ -f /usr/share/sounds/sf2/FluidR3_GM.sf2 ] || missing+=("soundfont")
  # Training and validating the drum-piece and family classifiers (tools/, bench/kit_accuracy.py)
  [ -f /usr/share/sounds/sf2/TimGM6mb.sf2 ] || missing+=("timgm6mb")
  [ -f /usr/share/sounds/sf3/MuseScore_General_Full.sf3 ] || missing+=("musescore-general")
  # Real recordings for the rhythm and drum figures: Sonic Pi's CC0 loops and recorded kit
  [ -d /usr/share/sonic-pi/samples ] || missing+=("sonic-pi-samples")
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "setup: installing Debian packages for the tests (missing: ${missing[*]})"
    sudo_cmd=()
    [ "$(id -u)" = 0 ] || sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq \
      fluidsynth fluid-soundfont-gm timgm6mb-soundfont musescore-general-soundfont \
      espeak-ng sox ffmpeg strace tesseract-ocr sonic-pi-samples >/dev/null
  fi
fi

if [ "$dev" = 1 ]; then
  # Blender 4.2 LTS beside 5.0, so the tests run the add-on's 4.2 API fallbacks too
  # (tests/blender/test_versions.py). Only bpy and numpy: the add-on needs nothing else.
  bpy42="4.2.23"
  if [ ! -f ".venv-bpy42/.aimv-bpy-$bpy42" ]; then
    echo "setup: Blender $bpy42 (bpy) for the tests in .venv-bpy42"
    [ -x .venv-bpy42/bin/python ] || "$python" -m venv .venv-bpy42
    .venv-bpy42/bin/python -m pip --disable-pip-version-check -q install "bpy==$bpy42" "numpy<2"
    touch ".venv-bpy42/.aimv-bpy-$bpy42"
  fi
fi

stamp=".venv/.aimv-setup-$dev"
want=$(cat pyproject.toml constraints.txt scripts/setup.sh | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x .venv/bin/aimv ]; then
  exit 0
fi

[ -x .venv/bin/python ] || "$python" -m venv .venv
pip=(.venv/bin/python -m pip --disable-pip-version-check -q)
"${pip[@]}" install -U pip
extras="all"
[ "$dev" = 1 ] && extras="all,dev,ray"  # the tests run a local Ray cluster
# torch is pinned in constraints.txt to the CPU build; an unpinned torch pulls a multi-GB CUDA build.
"${pip[@]}" install -c constraints.txt -e ".[${extras}]"
# musicnn ships the MTT weights we read without TensorFlow; its metadata pins numpy<1.17 and
# tensorflow (basic-pitch likewise pulls TensorFlow: only its nmp.onnx model is used, on onnxruntime);
# tensorflow, so it is installed without dependencies. openai-whisper likewise (it would pull
# triton, ~1 GB, which CPU inference does not need); its real dependencies come from the extras.
"${pip[@]}" install -c constraints.txt --no-deps musicnn openai-whisper basic-pitch==0.4.0
# One process compiles librosa's numba kernels before any parallel run can race to (tools/warm_numba_cache.py).
.venv/bin/python tools/warm_numba_cache.py
echo "$want" > "$stamp"
echo "setup: ready (.venv)"
