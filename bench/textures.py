"""Texture engines' speed on this machine: images per second per engine and size.

    python bench/textures.py                       # procedural 256/512/768 + tiny diffusers (CPU)
    python bench/textures.py --model PATH --device cuda --tiny-vae TAESD_PATH --sizes 512
                                                   # a real model (e.g. SD-Turbo) on a GPU

Procedural: distinct prompts and colours, rendered and PNG-encoded separately (the stage does
both). Diffusers: the tiny random pipeline gives a smoke figure for the calling code only; a
real figure needs --model (a local diffusers folder or, online, a hub id). Prints one line per
engine and size plus the peak RSS of the process.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aimv_backend.imagine.procedural import Style, render_image  # noqa: E402

PROMPTS = [
    "Kick hits and Bass plays in the background. In the foreground a bouncey tom deep canon",
    "Cello plays and Vocal sings in the background. In the foreground a pedaly guitar vibrate",
    "Person loudly sings, holding a heart, alongside a Crash and Splash hit with techy synth",
    "a soft, floating abstract texture, the scene has a teal color palette",
    "tech synth grid laser",
    "sparkle glitter hihat shimmer",
    "piano bell ripple echo",
    "crash impact burst",
]


def bench_procedural(size: int, count: int) -> tuple[float, float]:
    """(images per second incl. PNG encoding, ms per image render only)."""
    render_image("warm-up", seed=0, size=(size, size), style=Style(0.0, 0.5, 0.5, 0.5))
    render_s = 0.0
    start = time.perf_counter()
    for i in range(count):
        style = Style(hue=(i * 47.0) % 360, saturation=0.75, value=0.8, energy=(i % 10) / 10)
        t = time.perf_counter()
        image = render_image(
            PROMPTS[i % len(PROMPTS)] + f" {i}", seed=i, size=(size, size), style=style
        )
        render_s += time.perf_counter() - t
        image.save(io.BytesIO(), format="PNG", compress_level=1)
    total = time.perf_counter() - start
    return count / total, 1000.0 * render_s / count


def bench_diffusers(
    model: str,
    *,
    size: int,
    count: int,
    steps: int,
    device: str | None,
    tiny_vae: str | None,
    batch: int,
) -> tuple[float, str]:
    from aimv_backend.imagine.diffusion import DiffusionEngine
    from aimv_backend.imagine.options import ImagineOptions

    engine = DiffusionEngine(
        ImagineOptions(
            engine="diffusers",
            model=model,
            device=device,
            tiny_vae=tiny_vae,
            size=(size, size),
            steps=steps,
            guidance=0.0,
        )
    )
    engine.text_to_image(PROMPTS[:batch], list(range(batch)))  # warm-up (kernels, caches)
    if engine.device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()
    start = time.perf_counter()
    done = 0
    while done < count:
        n = min(batch, count - done)
        engine.text_to_image(
            [PROMPTS[(done + i) % len(PROMPTS)] for i in range(n)], list(range(done, done + n))
        )
        done += n
    return count / (time.perf_counter() - start), engine.device


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512, 768])
    parser.add_argument("--count", type=int, default=24, help="procedural images per size")
    parser.add_argument("--model", default=None, help="diffusers model folder or hub id")
    parser.add_argument("--device", default=None)
    parser.add_argument("--steps", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--tiny-vae", default=None)
    parser.add_argument("--diffusers-count", type=int, default=8)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (CPU runs)")
    parser.add_argument("--no-diffusers", action="store_true")
    args = parser.parse_args()

    print(
        f"machine: {platform.machine()} {platform.processor() or ''} "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    for size in args.sizes:
        ips, ms = bench_procedural(size, args.count)
        print(
            f"procedural {size}x{size}: {ips:6.1f} images/s with PNG, "
            f"{ms:6.1f} ms/image render only"
        )
    if not args.no_diffusers:
        import torch

        if args.threads:
            torch.set_num_threads(args.threads)
        if args.model is None:
            from aimv_testkit.tiny_models import build_tiny_sd

            folder = Path(tempfile.mkdtemp(prefix="aimv-tiny-sd-")) / "model"
            build_tiny_sd(folder)
            model, sizes, label = str(folder), [64], "diffusers tiny random SD (smoke figure)"
        else:
            model, sizes, label = args.model, args.sizes, f"diffusers {args.model}"
        for size in sizes:
            ips, device = bench_diffusers(
                model,
                size=size,
                count=args.diffusers_count,
                steps=args.steps,
                device=args.device,
                tiny_vae=args.tiny_vae,
                batch=args.batch_size,
            )
            print(
                f"{label} {size}x{size} on {device}, {args.steps} step(s), batch "
                f"{args.batch_size}: {ips:6.2f} images/s ({1000 / ips:7.1f} ms/image)"
            )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {peak:.0f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
