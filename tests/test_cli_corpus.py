"""`pictune corpus build | list | info | search`."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from pictune.cli.app import app
from tests.test_corpus_sources import WALTZ, midi_of

runner = CliRunner()


def test_build_list_info_search_builtin(index_dir):
    built = runner.invoke(app, ["corpus", "build", "builtin", "--limit", "300"])
    assert built.exit_code == 0, built.output
    import re

    counts = re.search(r"(\d+) records, (\d+) skipped", built.output)
    assert counts, built.output
    records, skipped = int(counts.group(1)), int(counts.group(2))
    assert records + skipped == 300 and records >= 280
    listed = runner.invoke(app, ["corpus", "list"])
    assert "builtin" in listed.output and "features-v1" in listed.output
    info = json.loads(
        runner.invoke(app, ["corpus", "info", "builtin", "--json", "--verify"]).stdout
    )
    assert info["count"] == records and info["embedder"]["id"] == "features-v1"
    found = runner.invoke(
        app,
        [
            "corpus",
            "search",
            "builtin",
            "--text",
            "sad slow air in a minor key",
            "-k",
            "3",
            "--json",
        ],
    )
    assert found.exit_code == 0, found.output
    hits = json.loads(found.stdout)
    assert len(hits) == 3
    assert all(h["tags"]["mode"] != "major" for h in hits)
    filtered = json.loads(
        runner.invoke(
            app, ["corpus", "search", "builtin", "--text", "a tune", "--meter", "6/8", "--json"]
        ).stdout
    )
    assert filtered and all(h["tags"]["meter"] == "6/8" for h in filtered)


def test_build_folder_reports_skipped_records(index_dir, tmp_path):
    folder = tmp_path / "music"
    folder.mkdir()
    (folder / "a.mid").write_bytes(midi_of(WALTZ))
    (folder / "bad.mid").write_bytes(b"MThd garbage")
    result = runner.invoke(app, ["corpus", "build", "folder", str(folder), "--name", "mine"])
    assert result.exit_code == 0, result.output
    assert "1 records, 1 skipped" in result.output
    assert "skipped 1: not a MIDI file" in result.output or "skipped 1" in result.output


def test_bad_arguments_give_one_line_errors(index_dir, tmp_path):
    cases = [
        (["corpus", "build", "midicaps", str(tmp_path / "missing.json")], "no captions file"),
        (["corpus", "build", "folder"], "needs a PATH"),
        (["corpus", "search", "nothing-here", "--text", "x"], "not a pictune index"),
        (["corpus", "info", "nothing-here"], "not a pictune index"),
        (["corpus", "build", "builtin", "--embedder", "word2vec"], "unknown embedder"),
    ]
    for args, message in cases:
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output, (args, result.output)
        assert "Traceback" not in result.output


def test_search_needs_a_query(index_dir):
    runner.invoke(app, ["corpus", "build", "builtin", "--limit", "20"])
    result = runner.invoke(app, ["corpus", "search", "builtin"])
    assert result.exit_code == 2
    assert "give --text" in result.output
