"""bench/gpu_check.py's Whisper and Blender parts (see gpu_parts.py for the conventions)."""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gpu_parts import Recorder, _build, _peak_gib, _reset_peak, _time, _torch_setup


def _whisper_config(smoke: bool) -> Any:
    from transformers import WhisperConfig

    if smoke:
        return WhisperConfig(
            vocab_size=51865,
            num_mel_bins=80,
            d_model=32,
            encoder_layers=1,
            decoder_layers=1,
            encoder_attention_heads=2,
            decoder_attention_heads=2,
            encoder_ffn_dim=64,
            decoder_ffn_dim=64,
        )
    return WhisperConfig(  # whisper-base
        vocab_size=51865,
        num_mel_bins=80,
        d_model=512,
        encoder_layers=6,
        decoder_layers=6,
        encoder_attention_heads=8,
        decoder_attention_heads=8,
        encoder_ffn_dim=2048,
        decoder_ffn_dim=2048,
    )


SOT_PREFIX = [
    50258,
    50259,
    50359,
    50363,
]  # <|startoftranscript|><|en|><|transcribe|><|notimestamps|>
EOT = 50257


def part_whisper(rec: Recorder, smoke: bool) -> None:
    """Whisper base over 180 s of audio in 30 s windows, TOKENS tokens decoded per window."""
    import numpy as np

    torch, device = _torch_setup(smoke)
    from transformers import WhisperFeatureExtractor, WhisperForConditionalGeneration

    seconds, tokens = (60.0, 8) if smoke else (180.0, 100)
    rec.set("audio_s", seconds)
    rec.set("tokens_per_30s", tokens)
    audio = (np.random.default_rng(0).standard_normal(int(seconds * 16000)) * 0.1).astype(
        np.float32
    )
    fe = WhisperFeatureExtractor(feature_size=80)
    chunks = [audio[i : i + 480000] for i in range(0, len(audio), 480000)]
    cfg = _whisper_config(smoke)
    model_dir = Path(tempfile.mkdtemp(prefix="gpu_check_whisper_"))
    _ct2(rec, smoke, cfg, fe, chunks, seconds, tokens, model_dir)

    # transformers' Whisper on the device, greedy, fp16: a GPU figure that needs no CTranslate2.
    dtype = torch.float32 if smoke else torch.float16
    model = _build(torch, device, dtype, lambda: WhisperForConditionalGeneration(cfg))

    def transcribe() -> None:
        for chunk in chunks:
            feats = fe(chunk, sampling_rate=16000, return_tensors="pt").input_features
            enc = model.model.encoder(feats.to(device, dtype)).last_hidden_state
            ids = torch.tensor([SOT_PREFIX], device=device)
            out = model(encoder_outputs=(enc,), decoder_input_ids=ids, use_cache=True)
            for _ in range(tokens - 1):
                logits = out.logits[:, -1]
                logits[:, EOT] = -float("inf")
                nxt = logits.argmax(-1, keepdim=True)
                out = model(
                    encoder_outputs=(enc,),
                    decoder_input_ids=nxt,
                    past_key_values=out.past_key_values,
                    use_cache=True,
                )

    _reset_peak(torch, device)
    with torch.inference_mode():
        t = _time(torch, device, transcribe, runs=1, warm=1)
    rec.set("transformers_device", device)
    rec.set("transformers_greedy_rtf", round(t / seconds, 4))
    rec.set("transformers_peak_gib", _peak_gib(torch, device))


def _ct2(rec, smoke, cfg, fe, chunks, seconds, tokens, model_dir) -> None:  # noqa: ANN001
    """faster-whisper's engine (CTranslate2) on a random whisper-base converted from transformers."""
    try:
        import ctranslate2
    except ImportError as exc:
        rec.set("faster_whisper", f"skipped: ctranslate2 not installed ({exc})")
        return
    cuda = ctranslate2.get_cuda_device_count() if not smoke else 0
    if not smoke and cuda == 0:
        rec.set(
            "faster_whisper",
            "skipped: CTranslate2 sees no CUDA device (its wheels link CUDA 12's libcublas.so.12)",
        )
        return
    import numpy as np
    from transformers import WhisperForConditionalGeneration

    WhisperForConditionalGeneration(cfg).save_pretrained(model_dir / "hf")
    out = model_dir / "ct2"
    device, compute = ("cpu", "int8") if smoke else ("cuda", "float16")
    ctranslate2.converters.TransformersConverter(str(model_dir / "hf")).convert(
        str(out), quantization=compute
    )
    _whisper_vocabulary(out, cfg.vocab_size)
    model = ctranslate2.models.Whisper(str(out), device=device, compute_type=compute)

    def transcribe() -> None:
        for chunk in chunks:
            feats = fe(chunk, sampling_rate=16000, return_tensors="np").input_features
            sv = ctranslate2.StorageView.from_array(np.ascontiguousarray(feats, dtype=np.float32))
            model.generate(
                sv,
                [SOT_PREFIX],
                beam_size=5,
                max_length=tokens + len(SOT_PREFIX),
                suppress_tokens=[-1, EOT],
            )

    t0 = time.perf_counter()
    transcribe()
    t = time.perf_counter() - t0
    rec.set("faster_whisper_device", f"{device} {compute}")
    rec.set("faster_whisper_beam5_rtf", round(t / seconds, 4))


def _whisper_vocabulary(folder: Path, size: int) -> None:
    """The multilingual Whisper vocabulary's special tokens at their ids (CTranslate2 finds
    them by name; the converter had no tokenizer to copy them from). Other tokens: placeholders."""
    tokens = [f"t{i}" for i in range(size)]
    tokens[EOT] = "<|endoftext|>"
    tokens[50258] = "<|startoftranscript|>"
    for i in range(50259, 50358):
        tokens[i] = f"<|l{i}|>"
    tokens[50259] = "<|en|>"
    for i, name in enumerate(("translate", "transcribe", "startoflm", "startofprev", "nocaptions")):
        tokens[50358 + i] = f"<|{name}|>"
    tokens[50363] = "<|notimestamps|>"
    for i in range(50364, size):
        tokens[i] = f"<|{(i - 50364) * 0.02:.2f}|>"
    for old in folder.glob("vocabulary.*"):
        old.unlink()
    (folder / "vocabulary.json").write_text(json.dumps(tokens))


def part_blender(rec: Recorder, smoke: bool) -> None:
    """One Cycles and one EEVEE frame at 1920x1080 through bpy, on the GPU where it has one."""
    try:
        import bpy
    except ImportError as exc:
        rec.set("status_detail", f"skipped: bpy unavailable ({exc})")
        rec.data["status"] = "skipped"
        return
    res = (320, 180) if smoke else (1920, 1080)
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    bpy.ops.mesh.primitive_plane_add(size=4.0, location=(0, 0, 0))
    plane = bpy.context.active_object
    img = bpy.data.images.new("bg", width=res[0], height=res[1])
    mat = bpy.data.materials.new("bg")
    mat.use_nodes = True
    tex = mat.node_tree.nodes.new("ShaderNodeTexImage")
    tex.image = img
    bsdf = mat.node_tree.nodes.get("Principled BSDF")
    mat.node_tree.links.new(tex.outputs["Color"], bsdf.inputs["Base Color"])
    plane.data.materials.append(mat)
    for i in range(5):
        bpy.ops.mesh.primitive_uv_sphere_add(radius=0.3, location=(i - 2, 0, 0.5))
    bpy.ops.object.light_add(type="SUN", location=(0, 0, 5))
    bpy.ops.object.camera_add(location=(0, -6, 3), rotation=(1.1, 0, 0))
    scene.camera = bpy.context.active_object
    scene.render.resolution_x, scene.render.resolution_y = res
    scene.render.resolution_percentage = 100
    out = Path(tempfile.mkdtemp(prefix="gpu_check_bpy_")) / "frame.png"
    scene.render.filepath = str(out)

    scene.render.engine = "CYCLES"
    prefs = bpy.context.preferences.addons["cycles"].preferences
    used = "CPU"
    for kind in ("OPTIX", "CUDA"):
        try:
            prefs.compute_device_type = kind
            prefs.get_devices()
        except (TypeError, ValueError):
            continue
        gpus = [d for d in prefs.devices if d.type == kind]
        if gpus:
            for d in prefs.devices:
                d.use = d.type == kind
            scene.cycles.device = "GPU"
            used = f"{kind}: {', '.join(d.name for d in gpus)}"
            break
    rec.set("cycles_device", used)
    scene.cycles.samples = 4 if smoke else 64
    for label in ("cycles_first_frame_s", "cycles_frame_s"):
        t0 = time.perf_counter()
        bpy.ops.render.render(write_still=True)
        rec.set(label, round(time.perf_counter() - t0, 3))
    rec.set("cycles_samples", scene.cycles.samples)
    if rec.left_s() < 10:
        rec.set("eevee", "skipped: part time cap")
        return
    scene.render.engine = "BLENDER_EEVEE"
    # Smoke runs EEVEE on software GL (tens of seconds a frame): one frame there.
    for label in ("eevee_first_frame_s",) if smoke else ("eevee_first_frame_s", "eevee_frame_s"):
        t0 = time.perf_counter()
        bpy.ops.render.render(write_still=True)
        rec.set(label, round(time.perf_counter() - t0, 3))


PARTS: dict[str, Callable[[Recorder, bool], None]] = {
    "whisper": part_whisper,
    "blender": part_blender,
}
