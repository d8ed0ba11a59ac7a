"""Every picture of a batch gets its own output folder, the same on every run."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from pictune.batch import run_batch
from pictune.batch.runner import output_folders


def test_pictures_sharing_a_name_get_distinct_folders(tmp_path):
    images = [tmp_path / "in" / n for n in ("x.jpg", "x.png", "y.png", "X.gif", "x.jpg.png")]
    folders = output_folders(images, tmp_path / "in", tmp_path / "out")
    names = [str(folders[i].relative_to(tmp_path / "out")) for i in images]
    assert len({n.casefold() for n in names}) == len(images)
    assert names[2] == "y"  # a picture alone under its name keeps the plain folder name


def test_folder_names_are_the_same_whatever_the_order(tmp_path):
    images = [tmp_path / n for n in ("x.jpg", "x.png", "x.jpg.png", "sub/x.png")]
    assert output_folders(images, tmp_path, tmp_path / "o") == output_folders(
        list(reversed(images)), tmp_path, tmp_path / "o"
    )


def test_same_stem_in_two_folders_is_no_clash(tmp_path):
    images = [tmp_path / "a" / "x.png", tmp_path / "b" / "x.png"]
    folders = output_folders(images, tmp_path, tmp_path / "o")
    assert [folders[i] for i in images] == [tmp_path / "o/a/x", tmp_path / "o/b/x"]


def test_batch_keeps_both_results_and_a_rerun_finds_both(small_index_folder, tmp_path):
    pictures = tmp_path / "pictures"
    pictures.mkdir()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(pictures / "x.jpg")
    Image.new("RGB", (40, 30), (30, 30, 200)).save(pictures / "x.png")
    out = tmp_path / "out"
    summary = run_batch(pictures, out, workers=1, index_folder=small_index_folder)
    assert (summary.total, summary.done) == (2, 2)
    written = sorted(str(p.parent.relative_to(out)) for p in out.rglob("music.abc"))
    assert written == ["x.jpg", "x.png"]
    again = run_batch(pictures, out, workers=1, index_folder=small_index_folder)
    assert (again.done, again.skipped) == (0, 2)
    assert not Path(out, "x").exists()
