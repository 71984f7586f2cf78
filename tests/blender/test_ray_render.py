"""The chunked render on a Ray cluster: a local one on 127.0.0.1 with 2 CPUs.

The cluster is started once for the module (no dashboard, no usage reports, every socket on
the loopback interface). Chunks run as Ray tasks; their videos must equal the one-process
render frame for frame, a chunk whose worker is killed must be retried by Ray, and a run that
failed must resume without rendering the chunk that finished.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import time
from pathlib import Path

import pytest

from aimv_backend.errors import RenderError
from aimv_backend.progress import SilentProgress
from aimv_backend.stage.chunk_worker import render_chunk
from aimv_backend.stage.chunked import render_chunked
from aimv_backend.stage.chunks import decoded_frame_hashes
from tests.blender import fixtures
from tests.blender.conftest import needs_bpy
from tests.blender.test_chunked_render import chunked_request

# Before Ray is imported (it reads these once): no usage report to the internet, and
# ENABLE_RAY_CLUSTER off, which makes a Linux node take the loopback address as its IP, as Ray
# does on laptops, so nothing of the test cluster listens on a public interface.
os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"

ray = pytest.importorskip("ray", reason="pip install 'aimv[ray]' (scripts/setup.sh --dev)")
psutil = pytest.importorskip("psutil")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.blender,
    needs_bpy,
    pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not installed"),
]

LOOPBACK = {"127.0.0.1", "::1", "::ffff:127.0.0.1"}


@pytest.fixture(scope="module")
def cluster():
    """A local Ray cluster bound to 127.0.0.1; yields its start-up time in seconds."""
    if ray.is_initialized():
        ray.shutdown()
    # The test functions travel to the workers by value (the workers need not import tests/).
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    t0 = time.perf_counter()
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        _node_ip_address="127.0.0.1",
        log_to_driver=False,
        configure_logging=False,
    )
    started = time.perf_counter() - t0
    try:
        yield started
    finally:
        ray.shutdown()


@pytest.fixture(scope="module")
def timeline(tmp_path_factory) -> Path:
    return fixtures.make_timeline(tmp_path_factory.mktemp("song") / "work", textures=True)


@pytest.fixture(scope="module")
def one_process(timeline, tmp_path_factory) -> list[str]:
    work = tmp_path_factory.mktemp("one")
    result = render_chunked(chunked_request(timeline, work, workers=1), progress=SilentProgress())
    return decoded_frame_hashes(result.output)


def _killed_once(job, **kwargs):
    """A chunk runner whose worker process dies (SIGKILL) the first time chunk 2 runs."""
    marker = Path(job.cache_dir).parent / f"killed-{job.index}"
    if job.index == 1 and not marker.exists():
        marker.write_text(str(os.getpid()))
        os.kill(os.getpid(), signal.SIGKILL)
    return render_chunk(job, **kwargs)


def _fails_in_chunk_two(job, **kwargs):
    if job.index == 1:
        raise ValueError("chunk 2 stopped on purpose")  # not a retried kind of error
    return render_chunk(job, **kwargs)


def test_the_cluster_starts_quickly_and_only_on_loopback(cluster):
    assert cluster < 60, f"ray.init took {cluster:.1f} s"
    assert ray.cluster_resources().get("CPU") == 2


def test_two_ray_chunks_equal_the_one_process_render(cluster, timeline, one_process, tmp_path):
    for ship in (False, True):
        work = tmp_path / f"ship{int(ship)}"
        request = chunked_request(timeline, work, ray="auto", ship=ship)
        result = render_chunked(request, progress=SilentProgress())
        assert (result.chunks, result.workers, result.rendered) == (2, 2, 2)
        assert decoded_frame_hashes(result.output) == one_process


def test_a_chunk_whose_worker_is_killed_is_retried(cluster, timeline, one_process, tmp_path):
    request = chunked_request(timeline, tmp_path, ray="auto")
    result = render_chunked(request, progress=SilentProgress(), chunk_runner=_killed_once)
    killed = tmp_path / "chunks" / "killed-1"
    assert killed.is_file()  # the first attempt really died
    assert not psutil.pid_exists(int(killed.read_text()))
    assert result.rendered == 2
    assert decoded_frame_hashes(result.output) == one_process


def test_a_resumed_ray_run_skips_the_chunks_that_are_done(cluster, timeline, one_process, tmp_path):
    request = chunked_request(timeline, tmp_path, ray="auto")
    with pytest.raises(RenderError, match="stopped on purpose"):
        render_chunked(request, progress=SilentProgress(), chunk_runner=_fails_in_chunk_two)
    result = render_chunked(request, progress=SilentProgress())
    assert (result.reused, result.rendered) == (1, 1)
    assert decoded_frame_hashes(result.output) == one_process


def test_no_socket_of_the_cluster_leaves_loopback(cluster):
    own = psutil.Process()
    seen = 0
    for proc in [own, *own.children(recursive=True)]:
        try:
            connections = proc.net_connections(kind="inet")
        except psutil.Error:
            continue
        for conn in connections:
            seen += 1
            for addr in (conn.laddr, conn.raddr):
                if addr:
                    assert addr.ip in LOOPBACK, f"{proc.name()}: {conn}"
    assert seen > 0  # the check looked at Ray's sockets


def test_an_album_on_the_cluster_listens_there_and_reports_the_bad_song(
    cluster, run_aimv, write_wav, tmp_path
):
    import numpy as np

    t = np.arange(4 * 22050) / 22050
    songs = [
        write_wav(f"song{i}.wav", (0.3 * np.sin(2 * np.pi * f * t)).astype(np.float32), 22050)
        for i, f in enumerate((220.0, 330.0))
    ]
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF\x04\x00\x00\x00WAVEjunk")
    out = tmp_path / "album"
    result = run_aimv(
        "render",
        songs[0],
        bad,
        songs[1],
        "-o",
        f"{out}/",
        *("--instruments", "none", "--no-voice", "--no-describe", "--textures", "procedural"),
        *("--texture-size", "64", "--resolution", "160x90", "--fps", "12"),
        *("--ray", "auto", "--progress", "none", "--quiet"),
    )
    assert result.code == 2
    assert sorted(p.name for p in out.glob("*.mp4")) == ["song0.mp4", "song1.mp4"]
    errors = [line for line in result.err.splitlines() if line.startswith("aimv: error:")]
    assert len(errors) == 1 and "bad.wav" in errors[0]
