"""A damaged index is one line naming the file and the command that rebuilds it."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from typer.testing import CliRunner

from pictune.cli.app import app
from pictune.corpus import CorpusError, CorpusIndex, FeatureEmbedder, MusicRecord, build_index

DESCRIPTION = {"kind": "builtin"}


def small_index(tmp_path, approximate=None):
    dest = tmp_path / "idx"
    items = [
        MusicRecord(id=f"r{i}", caption="a waltz", source="test", abc=f"X:1\nK:C\nC{i % 8 + 1}|]\n",
                    tags={"meter": "3/4", "mode": "major", "instruments": []})
        for i in range(60)
    ]  # fmt: skip
    build_index(
        items, FeatureEmbedder(), dest, source_description=DESCRIPTION, approximate=approximate
    )
    return dest


def rewrite_manifest(dest, change):
    path = dest / "manifest.json"
    manifest = json.loads(path.read_text())
    path.write_text(json.dumps(change(manifest)))


def flip_vector_bytes(dest):
    path = dest / "vectors.npy"
    data = bytearray(path.read_bytes())
    data[-8:] = b"\x7f" * 8
    path.write_bytes(bytes(data))


def drop_checksums(manifest):
    del manifest["checksums"]
    return manifest


def test_a_manifest_without_checksums_is_damage(tmp_path):
    dest = small_index(tmp_path)
    rewrite_manifest(dest, drop_checksums)
    flip_vector_bytes(dest)
    with pytest.raises(CorpusError, match="has no checksums; rebuild it: pictune corpus build"):
        CorpusIndex(dest)


def test_info_verify_fails_on_a_manifest_without_checksums(tmp_path):
    dest = small_index(tmp_path)
    rewrite_manifest(dest, drop_checksums)
    result = CliRunner().invoke(app, ["corpus", "info", str(dest), "--verify"])
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "manifest.json has no checksums" in result.stderr


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda m: [m], "is an array"),
        (lambda m: {**m, "checksums": {**m["checksums"], "vectors.npy": None}}, "damaged checksum"),
        (lambda m: {**m, "checksums": {"vectors.npy": m["checksums"]["vectors.npy"]}}, "records"),
        (lambda m: {**m, "embedder": "features"}, "embedder"),
        (lambda m: {**m, "count": "60"}, "record count"),
        (lambda m: None, "is null"),
    ],
)
def test_a_manifest_off_the_schema_is_one_clear_error(tmp_path, change, message):
    dest = small_index(tmp_path)
    rewrite_manifest(dest, change)
    with pytest.raises(CorpusError, match=message) as caught:
        CorpusIndex(dest)
    assert str(dest) in str(caught.value) and "\n" not in str(caught.value)


def test_a_null_checksum_entry_is_damage(tmp_path):
    dest = small_index(tmp_path)
    rewrite_manifest(dest, lambda m: {**m, "checksums": {**m["checksums"], "records.sqlite": None}})
    with pytest.raises(CorpusError, match=r"damaged checksum entry for records\.sqlite"):
        CorpusIndex(dest)


def test_a_damaged_sqlite_header_is_a_clear_error(tmp_path):
    dest = small_index(tmp_path)
    path = dest / "records.sqlite"
    path.write_bytes(b"\0" * 100 + path.read_bytes()[100:])
    with pytest.raises(CorpusError, match=r"records\.sqlite fails its checksum"):
        CorpusIndex(dest)


def test_a_missing_ivf_file_is_a_clear_error(tmp_path, monkeypatch):
    from pictune.corpus import ann

    monkeypatch.setattr(ann, "calibrate", lambda *a, **k: 4, raising=False)
    dest = small_index(tmp_path, approximate=True)
    (dest / "ivf.faiss").unlink()
    with pytest.raises(CorpusError, match=r"ivf\.faiss is missing; rebuild it"):
        CorpusIndex(dest)


def test_damaged_vector_header_is_a_clear_error(tmp_path):
    dest = small_index(tmp_path)
    vectors = dest / "vectors.npy"
    data = b"garbage!" + vectors.read_bytes()[8:]
    vectors.write_bytes(data)
    rewrite_manifest(
        dest,
        lambda m: {
            **m,
            "checksums": {
                **m["checksums"],
                "vectors.npy": {**m["checksums"]["vectors.npy"], **_sums(vectors)},
            },
        },
    )
    with pytest.raises(CorpusError, match="vector file is unreadable"):
        CorpusIndex(dest)


def _sums(path):
    from pictune.corpus import store

    return {"fingerprint": store.fingerprint(path), "sha256": store.full_checksum(path)}


def test_a_good_index_still_opens(tmp_path):
    index = CorpusIndex(small_index(tmp_path))
    assert index.count == 60 and np.isfinite(index.vectors).all()


def test_list_shows_a_damaged_manifest_without_a_traceback(tmp_path, monkeypatch):
    dest = small_index(tmp_path)
    rewrite_manifest(dest, lambda m: [m])
    monkeypatch.setenv("PICTUNE_INDEX_DIR", str(tmp_path))
    result = CliRunner().invoke(app, ["corpus", "list"])
    assert result.exit_code == 0, result.output
    cells = re.sub(r"[\s│┃]+", " ", result.stdout)  # the table wraps to the console's width
    assert "idx" in cells and "damaged: manifest.json is an array" in cells


class _FirstFails:
    """CorpusIndex as the builtin index behaves before and after a rebuild: the first open
    fails as the real folder does, later ones open the small test index."""

    def __init__(self, real, folder):
        self.real, self.folder, self.calls = real, folder, 0

    def __call__(self, folder, *args, **kwargs):
        self.calls += 1
        if self.calls == 1:
            return self.real(folder, *args, **kwargs)
        return self.real(self.folder, *args, **kwargs)


@pytest.mark.parametrize("damaged", [True, False])
def test_compose_says_rebuilding_for_a_damaged_index_and_first_run_only_for_none(
    tmp_path, monkeypatch, small_index_folder, damaged
):
    import pictune.pipeline.indexes as indexes

    home = tmp_path / "indexes"
    home.mkdir()
    if damaged:
        (home / "builtin").mkdir()
        (home / "builtin" / "manifest.json").write_text("[]")
    monkeypatch.setenv("PICTUNE_INDEX_DIR", str(home))
    # the rebuild itself is the corpus layer's; here only what the user is told is checked
    monkeypatch.setattr(indexes, "build_index", lambda *args, **kwargs: None)
    monkeypatch.setattr(
        indexes,
        "CorpusIndex",
        _FirstFails(CorpusIndex, small_index_folder),
    )
    picture = tmp_path / "p.png"
    from PIL import Image

    Image.new("RGB", (40, 30), (200, 40, 40)).save(picture)
    result = CliRunner().invoke(
        app, ["compose", str(picture), "--out", str(tmp_path / "o"), "--bars", "4"]
    )
    assert result.exit_code == 0, result.output
    assert ("first run" in result.stderr) is not damaged
    assert ("rebuilding it now" in result.stderr) is damaged
