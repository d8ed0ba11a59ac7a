"""Corpus sources: builtin, MidiCaps-format and folder, with bad records skipped and counted."""

from __future__ import annotations

import json

import pytest

from pictune.abc import abc_to_midi
from pictune.corpus import BuiltinSource, FolderSource, MidiCapsSource, MusicRecord, Skipped
from pictune.corpus.features import caption_from_features, features_from_score
from pictune.music import Score
from tests.conftest import SIMPLE_TUNE, TWO_VOICES

WALTZ = "X:1\nT:Sad Waltz\nR:waltz\nM:3/4\nL:1/4\nQ:1/4=66\nK:Am\nA c e|a2 g|f e d|c3|B d f|e3|]\n"


def midi_of(abc: str) -> bytes:
    midi = abc_to_midi(abc).midi
    assert midi is not None
    return midi


def split(items):
    records = [i for i in items if isinstance(i, MusicRecord)]
    skipped = [i for i in items if isinstance(i, Skipped)]
    return records, skipped


def test_caption_names_key_meter_tempo_form_and_range():
    abc = WALTZ
    caption = caption_from_features(features_from_score(Score.from_abc(abc), abc))
    assert caption.startswith(
        "A melancholic waltz in A minor in 3/4 (waltz time) at 66 bpm (Adagio)"
    )
    assert "octave" in caption


def test_caption_infers_tempo_from_rhythm_type():
    abc = SIMPLE_TUNE.replace("Q:1/4=120\n", "R:reel\n")
    features = features_from_score(Score.from_abc(abc), abc)
    assert features.tempo_qpm == 112 and features.tempo_known
    assert "reel" in caption_from_features(features)


def test_caption_names_instruments_only_when_given():
    with_programs = features_from_score(Score.from_abc(TWO_VOICES), TWO_VOICES)
    assert with_programs.instruments == ("violin", "cello")
    plain = features_from_score(Score.from_abc(WALTZ), WALTZ)
    assert plain.instruments == ()


def test_builtin_source_yields_captioned_tunes():
    records, skipped = split(list(BuiltinSource(limit=60)))
    assert len(records) + len(skipped) == 60
    assert len(records) >= 55
    first = records[0]
    assert first.abc and "K:" in first.abc
    assert first.caption.startswith(("A ", "An "))
    assert {"title", "key", "meter", "mode", "collection"} <= set(first.tags)


@pytest.fixture
def midicaps(tmp_path):
    """A MidiCaps-format folder: train.json in its schema plus MIDI files, with bad lines."""
    root = tmp_path / "lmd"
    (root / "a").mkdir(parents=True)
    (root / "a" / "waltz.mid").write_bytes(midi_of(WALTZ))
    (root / "a" / "reel.mid").write_bytes(midi_of(SIMPLE_TUNE))
    (root / "a" / "empty.mid").write_bytes(b"")
    (root / "a" / "corrupt.mid").write_bytes(midi_of(SIMPLE_TUNE)[:30])
    (root / "a" / "text.mid").write_text("not midi at all")
    good = {
        "location": "a/waltz.mid", "caption": "A sad slow waltz in A minor.", "genre": ["folk"],
        "mood": ["sad"], "key": "A minor", "time_signature": "3/4", "tempo": 66,
        "tempo_word": "Adagio", "duration": 12, "chord_summary": ["Am", "E"],
        "instrument_summary": ["Piano"], "test_set": False,
    }  # fmt: skip
    lines = [
        json.dumps(good),
        json.dumps(
            {
                **good,
                "location": "a/reel.mid",
                "caption": "A lively reel in D major.",
                "key": "D major",
                "time_signature": "4/4",
            }
        ),
        "{not json",
        json.dumps(good),  # duplicate id
        json.dumps({**good, "location": "a/missing.mid"}),
        json.dumps({**good, "location": "a/empty.mid"}),
        json.dumps({**good, "location": "a/corrupt.mid"}),
        json.dumps({**good, "location": "a/text.mid"}),
        json.dumps({**good, "location": "a/reel.mid", "caption": ""}),
        json.dumps(["a list"]),
        "",
    ]
    captions = root / "train.json"
    captions.write_text("\n".join(lines))
    return captions


def test_midicaps_source_reads_its_schema_and_skips_bad_records(midicaps):
    records, skipped = split(list(MidiCapsSource(midicaps)))
    assert MidiCapsSource(midicaps).expected_items() == len(records) + len(skipped)
    assert MidiCapsSource(midicaps, limit=1).expected_items() is None  # a limit counts records
    assert [r.id for r in records] == ["a/waltz.mid", "a/reel.mid"]
    waltz = records[0]
    assert waltz.caption == "A sad slow waltz in A minor."
    assert waltz.tags["mode"] == "minor" and waltz.tags["meter"] == "3/4"
    assert waltz.tags["instruments"] == ["piano"]
    assert waltz.midi_path and waltz.abc is None
    reasons = {s.reason for s in skipped}
    assert "not a JSON object" in reasons
    assert "duplicate id" in reasons
    assert "MIDI file missing" in reasons
    assert "empty MIDI file" in reasons
    assert "not a MIDI file" in reasons
    assert "no caption" in reasons
    assert any("truncated" in r for r in reasons)
    assert len(skipped) == 8


def test_folder_source_captions_images_and_bad_files(tmp_path):
    folder = tmp_path / "music"
    folder.mkdir()
    (folder / "waltz.mid").write_bytes(midi_of(WALTZ))
    (folder / "waltz.png").write_bytes(b"\x89PNG fake but non-empty")
    (folder / "tunes.abc").write_text(SIMPLE_TUNE + "\n" + TWO_VOICES)
    (folder / "fixable.abc").write_text("X:1\nT:x\nK:C\n[[CEG]2 c2|\n")
    (folder / "broken.abc").write_bytes(b"\x00\x01\x02 binary")
    (folder / "silent.abc").write_text("X:1\nT:nothing\nK:C\n")
    (folder / "empty.mid").write_bytes(b"")
    (folder / "captions.jsonl").write_text(
        json.dumps({"file": "waltz.mid", "caption": "my own caption"}) + "\nnot json\n"
    )
    records, skipped = split(list(FolderSource(folder)))
    by_id = {r.id: r for r in records}
    assert set(by_id) == {"waltz.mid", "tunes.abc#0", "tunes.abc#1", "fixable.abc"}
    assert by_id["fixable.abc"].abc == "X:1\nT:x\nM:4/4\nL:1/8\nK:C\n[CEG]2 c2|\n"
    assert by_id["waltz.mid"].caption == "my own caption"
    assert by_id["waltz.mid"].image_path and by_id["waltz.mid"].image_path.endswith("waltz.png")
    assert by_id["tunes.abc#1"].caption.endswith("for violin and cello.")
    assert {s.id for s in skipped} == {"broken.abc", "empty.mid", "silent.abc"}


def test_folder_source_reads_musicxml(tmp_path):
    from pictune.music import to_musicxml

    folder = tmp_path / "xml"
    folder.mkdir()
    (folder / "piece.musicxml").write_text(to_musicxml(WALTZ))
    records, skipped = split(list(FolderSource(folder)))
    assert len(records) == 1 and not skipped
    assert records[0].abc and "K:" in records[0].abc


def test_folder_source_skips_fifos_and_devices_without_waiting(tmp_path):
    import os

    folder = tmp_path / "odd"
    folder.mkdir()
    os.mkfifo(folder / "pipe.abc")
    (folder / "zero.mid").symlink_to("/dev/zero")
    records, skipped = split(list(FolderSource(folder)))
    assert not records
    assert sorted(s.id for s in skipped) == ["pipe.abc", "zero.mid"]
    assert all("not a regular file" in s.reason for s in skipped)


def test_folder_source_skips_broken_musicxml_with_its_reason(tmp_path, no_leftovers):
    folder = tmp_path / "xml"
    folder.mkdir()
    (folder / "broken.musicxml").write_text("<score-partwise><part id='P1'><measure>")
    records, skipped = split(list(FolderSource(folder)))
    assert not records and [s.id for s in skipped] == ["broken.musicxml"]
    assert "music21 cannot read it" in skipped[0].reason


def test_midicaps_abc_at_build_converts_every_record(midicaps):
    records, skipped = split(list(MidiCapsSource(midicaps, abc_at_build=True)))
    assert [r.id for r in records] == ["a/waltz.mid", "a/reel.mid"]
    assert all(r.abc and "K:" in r.abc for r in records)
    assert len(skipped) == 8


def test_midicaps_lazy_abc_is_converted_on_retrieval_and_cached(midicaps, tmp_path):
    from pictune.corpus import CorpusIndex, FeatureEmbedder, build_index

    build_index(
        MidiCapsSource(midicaps),
        FeatureEmbedder(),
        tmp_path / "idx",
        source_description={"kind": "midicaps"},
    )
    index = CorpusIndex(tmp_path / "idx")
    record = index.record_by_id("a/waltz.mid")
    assert record is not None and record.abc is None
    text = index.abc_for(record)
    assert "K:" in text and (tmp_path / "idx" / "abc_cache.sqlite").is_file()
    assert index.abc_for(record) == text
    CorpusIndex(tmp_path / "idx")  # the cache file beside the index does not break its checksums


def test_folder_source_keeps_tunes_whose_only_faults_are_engraving_directives(tmp_path):
    folder = tmp_path / "scores"
    folder.mkdir()
    piano = (
        "X:1\nT:Cross-staff\n%%score { 1 | 2 }\nM:4/4\nL:1/8\nK:C\nV:1 treble\nV:2 bass\n"
        "[V:1] c2 e2 [I:staff +1] G,2 [I:staff -1] c2 | e8 |]\n"
        "[V:2] C,4 G,,4 | C,8 |]\n"
    )
    (folder / "piano.abc").write_text(piano)
    records, skipped = split(list(FolderSource(folder)))
    assert [r.id for r in records] == ["piano.abc"] and not skipped
    assert "[I:staff" not in (records[0].abc or "")
    assert "G,2" in (records[0].abc or "")
