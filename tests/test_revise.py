"""Revising a piece in words with the offline composer: what the request does not mention is
kept (measured on the music itself), the lineage is recorded and reloads, the request is
checked part by part, and the command line revises, undoes, lists the chain and revises a
whole batch output."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from pictune.cli.app import app
from pictune.corpus import CorpusIndex
from pictune.errors import InputError
from pictune.explain.request import Ask, check_request
from pictune.music.score import Score
from pictune.pipeline.record import Composition
from pictune.pipeline.revision import chain, next_folder
from tests.conftest import SIMPLE_TUNE, offline

EXAMPLE = Path(__file__).parents[1] / "src" / "pictune" / "data" / "example.jpg"


@pytest.fixture(scope="module")
def index(small_index_folder):
    return CorpusIndex(small_index_folder)


@pytest.fixture(scope="module")
def composer(index):
    return offline(index)


@pytest.fixture(scope="module")
def parent(composer, tmp_path_factory):
    """The example picture composed and saved: (folder, record)."""
    folder = tmp_path_factory.mktemp("revise") / "example"
    record = composer.compose(EXAMPLE, seed=3)
    record.save(folder)
    return folder, Composition.load(folder)


def melody(record: Composition) -> list[tuple[int, int, int]]:
    """The first voice as played: (onset, duration, pitch) in MIDI ticks, from the MIDI."""
    assert record.midi is not None
    score = Score.from_midi(record.midi)
    first = int(score.track[~score.is_drum_note].min())
    mask = score.track == first
    order = np.lexsort((score.pitch[mask], score.time[mask]))
    rows = zip(
        score.time[mask][order].tolist(),
        score.duration[mask][order].tolist(),
        score.pitch[mask][order].tolist(),
        strict=True,
    )
    return list(rows)


def voice(abc: str, name: str) -> str:
    """The body of one voice of the ABC."""
    return abc.split(f"\nV:{name}\n", 1)[1].split("\nV:", 1)[0]


def test_a_tempo_only_revision_keeps_every_pitch_and_rhythm(composer, parent):
    folder, record = parent
    revised = composer.revise(folder, "slower")
    assert revised.ok and revised.seed == record.seed
    assert melody(revised) == melody(record)  # 100% of pitches and rhythms
    assert Score.from_midi(revised.midi).tempo_qpm < Score.from_midi(record.midi).tempo_qpm
    assert voice(revised.abc, "2") == voice(record.abc, "2")  # the chords too
    lineage = revised.lineage
    assert lineage is not None and lineage.request == "slower"
    assert lineage.parent == str(folder.resolve()) and lineage.generation == 1
    assert [c.aspect for c in lineage.checks] == ["tempo"]
    assert lineage.checks[0].honoured is True
    assert any(line.startswith("tempo:") for line in lineage.changes)
    assert "every note and rhythm of the melody" in revised.motivation


def test_an_instrument_only_revision_keeps_every_pitch_and_rhythm(composer, parent):
    folder, record = parent
    revised = composer.revise(folder, "give the tune to the cello")
    assert melody(revised) == melody(record)
    assert "%%MIDI program 42" in revised.abc.split("\nV:2", 1)[0]  # the melody's voice
    assert revised.lineage.changes == ("melody: violin → cello",)  # the tune only
    check = revised.lineage.checks[0]
    assert (check.aspect, check.honoured) == ("instruments", True)


def test_a_key_change_keeps_the_melodys_intervals_and_rhythms(composer, parent):
    folder, record = parent
    revised = composer.revise(folder, "in D major")
    before, after = melody(record), melody(revised)
    assert [(t, d) for t, d, _ in after] == [(t, d) for t, d, _ in before]
    shifts = {b[2] - a[2] for a, b in zip(before, after, strict=True)}
    assert len(shifts) == 1 and shifts != {0}  # one transposition for every note
    assert "K:D\n" in revised.abc
    assert [(c.aspect, c.honoured) for c in revised.lineage.checks] == [("key", True)]


def test_a_busier_accompaniment_changes_only_the_accompaniment(composer, tmp_path):
    calm = composer.compose(EXAMPLE, "calm", seed=1)  # sustained chords: room to get busier
    calm.save(tmp_path / "calm")
    revised = composer.revise(tmp_path / "calm", "a busier accompaniment")
    assert revised.lineage.changes == ("accompaniment: sustained chords → block chords",)
    assert voice(revised.abc, "1") == voice(calm.abc, "1")
    assert voice(revised.abc, "2") != voice(calm.abc, "2")
    header = lambda abc: abc.split("\nV:1\n", 1)[0]  # noqa: E731
    assert header(revised.abc) == header(calm.abc)
    assert revised.lineage.checks[0].verdict == "not checkable"


def test_a_request_with_no_effect_says_so(composer, parent):
    folder, record = parent
    revised = composer.revise(folder, "with purple elephants")
    assert revised.lineage.changes == () and revised.lineage.checks == ()
    assert revised.lineage.unused == ("purple", "elephants")
    assert "no effect on: purple, elephants" in revised.motivation
    assert "Nothing in the music changed" in revised.motivation
    assert melody(revised) == melody(record)


def test_a_new_mode_rewrites_the_melody_and_says_so(composer, parent):
    folder, _ = parent
    revised = composer.revise(folder, "in a minor key")
    assert "K:Cm" in revised.abc and revised.lineage.checks[0].honoured is True
    assert "re-writes its notes" in revised.motivation
    assert revised.chosen.penalty is not None


def test_the_lineage_reloads_and_the_chain_is_followed(composer, parent, tmp_path):
    folder, _ = parent
    first = composer.revise(folder, "slower")
    first.save(tmp_path / "r1")
    second = composer.revise(tmp_path / "r1", "louder")
    second.save(tmp_path / "r2")
    loaded = Composition.load(tmp_path / "r2")
    assert loaded.lineage == second.lineage and loaded.lineage.generation == 2
    assert [p for p, _ in chain(tmp_path / "r2")] == [
        (tmp_path / "r2").resolve(),
        (tmp_path / "r1").resolve(),
        folder.resolve(),
    ]
    assert "Revised from" in (tmp_path / "r2" / "report.html").read_text("utf-8")


def test_a_schema_2_report_still_loads(parent, tmp_path):
    folder, record = parent
    data = json.loads((folder / "report.json").read_text("utf-8"))
    data["schema"] = 2
    del data["lineage"]
    del data["offline"]["melody"], data["offline"]["draft_seed"]
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "report.json").write_text(json.dumps(data), "utf-8")
    old = Composition.load(tmp_path / "old")
    assert old.lineage is None and old.offline.melody == () and old.abc == record.abc


def test_an_old_offline_record_is_refused_in_one_line(composer, parent, tmp_path):
    folder, _ = parent
    data = json.loads((folder / "report.json").read_text("utf-8"))
    data["offline"]["melody"] = []
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "report.json").write_text(json.dumps(data), "utf-8")
    with pytest.raises(InputError, match="compose the picture again"):
        composer.revise(tmp_path / "old", "slower")


@pytest.mark.parametrize(
    ("request_text", "message"), [("", "empty"), ("   ", "empty"), ("x" * 3000, "at most")]
)
def test_an_unusable_request_is_refused(composer, parent, request_text, message):
    with pytest.raises(InputError, match=message):
        composer.revise(parent[0], request_text)


def test_a_folder_without_a_report_is_refused(composer, tmp_path):
    with pytest.raises(InputError, match=r"holds no report\.json"):
        composer.revise(tmp_path, "slower")


def test_request_checks_say_not_honoured_when_the_music_disagrees():
    faster = SIMPLE_TUNE.replace("Q:1/4=120", "Q:1/4=140")
    checks = check_request(
        [
            Ask("tempo", "slower", "96"),
            Ask("key", "in A minor", "A minor"),
            Ask("meter", "waltz", "3/4"),
        ],
        SIMPLE_TUNE,
        faster,
    )
    assert [(c.aspect, c.honoured) for c in checks] == [
        ("tempo", False),
        ("key", False),
        ("meter", False),
    ]
    assert checks[0].before == "120" and checks[0].found == "140"


def test_next_folder_numbers_revisions(tmp_path):
    assert next_folder(tmp_path / "photo").name == "photo.r1"
    (tmp_path / "photo.r2").mkdir()
    assert next_folder(tmp_path / "photo.r1").name == "photo.r3"


# --- the command line ----------------------------------------------------------------------


@pytest.fixture
def cli_env(small_index_folder, monkeypatch):
    monkeypatch.setenv("PICTUNE_INDEX_DIR", str(small_index_folder.parent))
    monkeypatch.chdir(small_index_folder.parent.parent)
    return CliRunner()


def test_cli_revise_undo_and_history(cli_env, parent, tmp_path):
    folder, _ = parent
    out = tmp_path / "slow"
    result = cli_env.invoke(app, ["revise", str(folder), "slower, and end more quietly",
                                  "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "changed: tempo" in result.output and "honoured" in result.output
    assert "no effect: end" in result.output
    assert Composition.load(out).lineage.parent == str(folder.resolve())
    undo = cli_env.invoke(app, ["revise", str(out), "--undo"])
    assert undo.exit_code == 0 and undo.stdout.strip() == str(folder.resolve())
    assert (out / "report.json").is_file()  # undo deletes nothing
    history = cli_env.invoke(app, ["history", str(out)])
    assert history.exit_code == 0
    assert "revision 1" in history.output and "original" in history.output
    assert "asked: slower, and end more quietly" in history.output
    assert "honoured: 2 of 2 checked parts" in history.output


def test_cli_revise_goes_beside_the_folder_by_default(cli_env, parent, tmp_path):
    folder, _ = parent
    copy = tmp_path / "piece"
    copy.mkdir()
    for file in folder.iterdir():
        (copy / file.name).write_bytes(file.read_bytes())
    assert cli_env.invoke(app, ["revise", str(copy), "faster"]).exit_code == 0
    assert (tmp_path / "piece.r1" / "report.json").is_file()


def test_cli_undo_of_an_original_is_one_clear_error(cli_env, parent):
    result = cli_env.invoke(app, ["revise", str(parent[0]), "--undo"])
    assert result.exit_code == 2 and "an original, not a revision" in result.output


def test_cli_revise_without_words_is_one_clear_error(cli_env, parent):
    result = cli_env.invoke(app, ["revise", str(parent[0])])
    assert result.exit_code == 2 and "say what to change" in result.output


def test_cli_revise_all_over_a_batch_output(cli_env, composer, tmp_path):
    out = tmp_path / "batch"
    for name, colour in (("red", (220, 30, 30)), ("blue", (20, 40, 200))):
        picture = tmp_path / f"{name}.png"
        Image.new("RGB", (80, 60), colour).save(picture)
        composer.compose(picture).save(out / name)
    result = cli_env.invoke(app, ["revise", str(out), "slower", "--all"])
    assert result.exit_code == 0, result.output
    for name in ("red", "blue"):
        revised = Composition.load(tmp_path / "batch.r1" / name)
        assert revised.lineage.request == "slower"
        assert revised.lineage.parent == str((out / name).resolve())


def test_cli_eval_measures_how_often_requests_are_honoured(cli_env, tmp_path):
    pictures = tmp_path / "pictures"
    pictures.mkdir()
    for name, colour in (("red", (220, 30, 30)), ("blue", (20, 40, 200))):
        Image.new("RGB", (80, 60), colour).save(pictures / f"{name}.png")
    asked = tmp_path / "requests.txt"
    asked.write_text("# one a line\nslower\n\nin D major\nwith purple elephants\n", "utf-8")
    result = cli_env.invoke(
        app, ["eval", str(pictures), "--out", str(tmp_path / "eval"), "--requests", str(asked)]
    )
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "eval" / "requests.json").read_text("utf-8"))
    assert data["by_kind"]["tempo"]["checked"] == 2 and data["by_kind"]["tempo"]["share"] == 1.0
    assert data["by_request"]["with purple elephants"]["checked"] == 0
    assert data["no_effect"]["with purple elephants"] == 2
    assert "| tempo | 100% (2/2) |" in (tmp_path / "eval" / "requests.md").read_text("utf-8")
    assert "| tempo | 100% (2/2) |" in result.output


def test_cli_eval_requests_file_must_exist(cli_env, tmp_path):
    result = cli_env.invoke(
        app, ["eval", str(tmp_path), "--out", str(tmp_path / "o"), "--requests", "nope.txt"]
    )
    assert result.exit_code == 2 and "no such requests file" in result.output


def test_a_new_meter_refits_the_tune_and_keeps_its_register(composer, parent):
    folder, record = parent
    revised = composer.revise(folder, "a waltz")
    assert "M:3/4" in revised.abc
    assert [(c.aspect, c.honoured) for c in revised.lineage.checks] == [("meter", True)]
    before = [p for _, _, p in melody(record)]
    after = [p for _, _, p in melody(revised)]
    assert abs(np.median(after) - np.median(before)) <= 7  # the same register


def test_a_new_seed_draws_a_new_melody_and_keeps_the_rest(composer, parent):
    folder, record = parent
    revised = composer.revise(folder, "slower", seed=7)
    assert revised.seed == 7 and melody(revised) != melody(record)
    assert "new melody drawn from seed 7" in revised.motivation
    header = lambda abc: [ln for ln in abc.splitlines() if ln[:2] in ("K:", "M:", "V:")]  # noqa: E731
    assert header(revised.abc) == header(record.abc)


def test_a_piece_composed_from_a_relative_path_revises_from_anywhere(
    composer, tmp_path, monkeypatch, caplog
):
    """The record keeps the picture's absolute path, so a revision run from another working
    directory still finds it (and draws its heat-map)."""
    (tmp_path / "pics").mkdir()
    Image.open(EXAMPLE).save(tmp_path / "pics" / "p.png")
    monkeypatch.chdir(tmp_path)
    record = composer.compose(Path("pics/p.png"), seed=3)
    assert Path(record.image).is_absolute()
    record.save(tmp_path / "piece")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    with caplog.at_level("WARNING"):
        revised = composer.revise(tmp_path / "piece", "slower")
        revised.save(tmp_path / "piece.r1")
    assert "no heat-map drawn" not in caplog.text
    assert (tmp_path / "piece.r1" / "heatmap.png").is_file()
