"""pictune batch beyond one machine's pool: on a local Ray instance, with a VLM backend, and
resuming after the process is killed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from PIL import Image
from typer.testing import CliRunner

from pictune.batch import run_batch, run_batch_on_ray
from pictune.batch.ray_runner import connect
from pictune.cli.app import app
from pictune.pipeline.config import Settings


def make_pictures(folder, count):
    folder.mkdir(parents=True, exist_ok=True)
    for number in range(count):
        colour = ((number * 37) % 256, (number * 91) % 256, (number * 53) % 256)
        Image.new("RGB", (64, 48), colour).save(folder / f"{number:03d}.png")
    return folder


@pytest.fixture(scope="module")
def ray_instance():
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield ray
    ray.shutdown()


def test_ray_batch_composes_like_the_local_pool_and_resumes(
    ray_instance, small_index_folder, tmp_path
):
    pictures = make_pictures(tmp_path / "pictures", 5)
    (pictures / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    out = tmp_path / "ray"
    summary = run_batch_on_ray(pictures, out, index_folder=small_index_folder, workers=2)
    assert (summary.total, summary.done, summary.skipped) == (6, 5, 0)
    assert [f["image"] for f in summary.failed] == ["broken.png"]
    local = run_batch(pictures, tmp_path / "local", workers=2, index_folder=small_index_folder)
    assert local.done == 5
    for number in range(5):
        ray_abc = (out / f"{number:03d}" / "music.abc").read_text()
        assert ray_abc == (tmp_path / "local" / f"{number:03d}" / "music.abc").read_text()
    (out / "002" / ".done").unlink()  # as if the cluster had lost this picture
    again = run_batch_on_ray(pictures, out, index_folder=small_index_folder)
    assert (again.done, again.skipped, len(again.failed)) == (1, 4, 1)
    assert json.loads((out / "summary.json").read_text())["skipped"] == 4
    assert ray_instance.is_initialized(), "a Ray instance the caller started stays up"


def test_cli_batch_on_ray_uses_the_running_instance(
    ray_instance, small_index_folder, tmp_path, monkeypatch
):
    monkeypatch.setenv("PICTUNE_INDEX_DIR", str(small_index_folder.parent))
    monkeypatch.chdir(tmp_path)
    make_pictures(tmp_path / "pictures", 3)
    result = CliRunner().invoke(app, ["batch", "pictures", "--out", "o", "--ray", "auto"])
    assert result.exit_code == 0, result.output
    assert "3 composed, 0 already done, 0 failed" in result.output
    # Relative paths mean the caller's folder, not the actors' working folder.
    assert len(list((tmp_path / "o").glob("*/.done"))) == 3


def test_connect_leaves_an_initialised_ray_alone(ray_instance):
    assert connect(ray_instance, "ray://nowhere:10001", 2) is False


@pytest.mark.parametrize(
    "address", ["127.0.0.1:1", "ray://127.0.0.1:1", "ray://no-such-host.invalid"]
)
def test_an_unreachable_cluster_is_a_one_line_error(address):
    from pictune.batch.ray_runner import _probe
    from pictune.errors import InputError

    started = time.monotonic()
    with pytest.raises(InputError, match="cannot reach the Ray cluster"):
        _probe(address)
    assert time.monotonic() - started < 10


def test_batch_with_a_vlm_backend_saves_each_composition(server, small_index_folder, tmp_path):
    from tests.test_vlm_pipeline import TUNE

    pictures = make_pictures(tmp_path / "pictures", 2)
    server.replies = [(200, "a scene", 0), (200, TUNE, 0), (200, TUNE, 0)] * 2
    config = Settings(
        backend="openai", model="fake-vlm", base_url=server.url, corpus=str(small_index_folder)
    )
    summary = run_batch(pictures, tmp_path / "out", config=config)
    assert (summary.done, summary.failed) == (2, [])
    report = json.loads((tmp_path / "out" / "000" / "report.json").read_text())
    assert report["backend"].endswith("fake-vlm") and report["status"] == "ok"
    assert (tmp_path / "out" / "001" / "music.abc").is_file()


def test_a_killed_batch_resumes_where_it_stopped(small_index_folder, tmp_path):
    pictures = make_pictures(tmp_path / "pictures", 40)
    out = tmp_path / "out"
    environment = {**os.environ, "PICTUNE_INDEX_DIR": str(small_index_folder.parent)}
    command = [sys.executable, "-m", "pictune", "batch", str(pictures), "--out", str(out),
               "--workers", "1"]  # fmt: skip
    process = subprocess.Popen(
        command, env=environment, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while len(list(out.glob("*/.done"))) < 3:
        assert process.poll() is None, "the batch ended before it could be killed"
        assert time.monotonic() < deadline, "the batch made no progress"
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    finished = len(list(out.glob("*/.done")))
    assert 3 <= finished < 40
    summary = run_batch(pictures, out, workers=2, index_folder=small_index_folder)
    assert (summary.skipped, summary.done, summary.failed) == (finished, 40 - finished, [])
    assert len(list(out.glob("*/.done"))) == 40
