"""Model downloads: verified, atomic, never damaging an existing file (local HTTP server)."""

from __future__ import annotations

import hashlib
import http.server
import threading
from pathlib import Path

import pytest

from aimv_backend.errors import ModelUnavailableError
from aimv_backend.listen.instruments import panns_engine as pe
from aimv_backend.listen.instruments.download import download_file
from tests.listen._instrument_clips import RecordingProgress

PAYLOAD = bytes(range(256)) * 9000  # 2.3 MB: three progress steps of 1 MiB


class _Handler(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802 (http.server's naming)
        type(self).hits.append(self.path)
        if self.path == "/missing":
            self.send_error(404)
            return
        body = PAYLOAD[: len(PAYLOAD) // 2] if self.path == "/short" else PAYLOAD
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_download_writes_the_verified_file_with_progress(server, tmp_path):
    dest = tmp_path / "models" / "model.pth"
    progress = RecordingProgress()
    got = download_file(
        url=f"{server}/model",
        destination=dest,
        expected_size=len(PAYLOAD),
        expected_md5=hashlib.md5(PAYLOAD).hexdigest(),
        expected_sha256=hashlib.sha256(PAYLOAD).hexdigest(),
        progress=progress,
    )
    assert got == dest and dest.read_bytes() == PAYLOAD
    assert _leftovers(dest.parent) == ["model.pth"]
    assert progress.tasks == [("downloading model file (MiB)", 3)] and progress.advanced == 3


@pytest.mark.parametrize(
    ("path", "size", "md5", "reason"),
    [
        ("/model", len(PAYLOAD), "0" * 32, "md5 check"),
        ("/short", len(PAYLOAD), None, "wrong size"),
        ("/model", len(PAYLOAD) - 1, None, "wrong size"),
        ("/missing", len(PAYLOAD), None, "could not download"),
    ],
)
def test_failed_download_writes_nothing_and_leaves_no_temp_file(
    server, tmp_path, path, size, md5, reason
):
    folder = tmp_path / "models"
    folder.mkdir()
    (folder / "other.pth").write_bytes(b"keep me")
    dest = folder / "model.pth"
    with pytest.raises(ModelUnavailableError, match=reason) as err:
        download_file(
            url=f"{server}{path}",
            destination=dest,
            expected_size=size,
            expected_md5=md5,
            progress=RecordingProgress(),
        )
    assert "\n" not in str(err.value)
    assert _leftovers(folder) == ["other.pth"]
    assert (folder / "other.pth").read_bytes() == b"keep me"


def test_an_existing_file_is_never_downloaded_over(server, tmp_path):
    dest = tmp_path / "model.pth"
    dest.write_bytes(b"a user's own file")
    _Handler.hits.clear()
    download_file(
        url=f"{server}/model", destination=dest, expected_size=len(PAYLOAD),
        progress=RecordingProgress(),
    )  # fmt: skip
    assert dest.read_bytes() == b"a user's own file" and _Handler.hits == []


def test_unreachable_host_is_a_clear_error(tmp_path):
    with pytest.raises(ModelUnavailableError, match="offline"):
        download_file(
            url="http://127.0.0.1:9/model.pth",  # discard port: connection refused
            destination=tmp_path / "m.pth",
            expected_size=10,
            progress=RecordingProgress(),
            timeout_s=5,
        )
    assert _leftovers(tmp_path) == []


def test_panns_checkpoint_download_checks_the_published_size(server, tmp_path):
    """The PANNs path downloads through the same code and refuses a wrong file."""
    dest = tmp_path / "panns_data" / pe.CHECKPOINT_NAME
    progress = RecordingProgress()
    with pytest.raises(ModelUnavailableError, match="wrong size"):
        pe.ensure_checkpoint(dest, allow_download=True, progress=progress, url=f"{server}/model")
    assert _leftovers(dest.parent) == []
    assert "downloading the PANNs Cnn14 checkpoint" in progress.notices[0]
