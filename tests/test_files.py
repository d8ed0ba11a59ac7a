"""Files are read to a limit whatever they are: devices, FIFOs and /proc report no size."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from pictune.errors import InputError
from pictune.files import read_limited
from pictune.images import load_image


def test_regular_file_within_the_limit(tmp_path):
    path = tmp_path / "a.abc"
    path.write_bytes(b"X:1\n")
    assert read_limited(path, 4) == b"X:1\n"


def test_regular_file_over_the_limit(tmp_path):
    path = tmp_path / "a.abc"
    path.write_bytes(b"12345")
    with pytest.raises(InputError, match="larger than 4 bytes"):
        read_limited(path, 4)


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero here")
def test_symlink_to_an_endless_device_stops_at_the_limit(tmp_path):
    link = tmp_path / "tune.abc"
    link.symlink_to("/dev/zero")
    with pytest.raises(InputError, match="larger than 1 MB"):
        read_limited(link, 1 << 20)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="no /proc here")
def test_proc_file_reports_size_zero_yet_is_read():
    assert b"Name:" in read_limited("/proc/self/status", 1 << 20)


def test_fifo_is_read_to_its_end(tmp_path):
    fifo = tmp_path / "pipe.abc"
    os.mkfifo(fifo)

    def write() -> None:
        with fifo.open("wb") as sink:
            sink.write(b"X:1\nK:C\nC\n")

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    try:
        assert read_limited(fifo, 100) == b"X:1\nK:C\nC\n"
    finally:
        writer.join(timeout=10)


def test_folder_is_refused(tmp_path):
    with pytest.raises(InputError, match="is a folder"):
        read_limited(tmp_path, 10)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(InputError, match="no such image"):
        read_limited(tmp_path / "nope.png", 10, "image")


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero here")
def test_image_loader_refuses_an_endless_device(tmp_path):
    link = tmp_path / "picture.png"
    link.symlink_to("/dev/zero")
    with pytest.raises(InputError, match="larger than"):
        load_image(link)
