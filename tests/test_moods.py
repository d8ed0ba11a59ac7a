"""Free prompt text onto the mood axes through a sentence embedder, and the keyword fallback.

The embedder here is a stand-in whose vectors the test sets (a tiny random sentence model
would give meaningless similarities): each anchor phrase is one axis, and a text's vector
says which anchor it means. It speaks the same protocol the product uses (`id`,
`embed_text` returning rows)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import numpy as np
import pytest
from PIL import Image

from pictune.errors import InputError
from pictune.models.errors import BackendError
from pictune.models.offline import moods
from pictune.models.offline.analysis import analyse
from pictune.models.offline.moods import ANCHORS, MoodReader, load_mood_reader, mood_words
from pictune.models.offline.plan import plan_from_analysis
from pictune.pipeline.config import Settings

STORM = "a violent storm, thunder and lightning"
LAKE = "a quiet lake at dawn"
PARTY = "a birthday party with friends dancing"


class SetEmbedder:
    """Anchor i → unit vector i; other texts → the vector of the anchor they are told to
    mean (or a direction orthogonal to every anchor)."""

    def __init__(self, meanings: dict[str, str | None], name: str = "sentence:set") -> None:
        self.meanings, self.name = meanings, name
        self.calls: list[list[str]] = []

    @property
    def id(self) -> str:
        return self.name

    def _vector(self, text: str) -> np.ndarray:
        phrases = [a[0] for a in ANCHORS]
        vector = np.zeros(len(phrases) + 1, np.float32)
        meant = text if text in phrases else self.meanings.get(text)
        vector[phrases.index(meant) if meant else -1] = 1.0
        return vector

    def embed_text(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(list(texts))
        return np.stack([self._vector(t) for t in texts])


def plan(prompt: str | None, meanings: dict[str, str | None] | None = None):
    picture = analyse(Image.new("RGB", (64, 64), (250, 190, 70)))  # warm, bright: major
    reader = MoodReader(SetEmbedder(meanings)) if meanings is not None else None
    return plan_from_analysis(picture, prompt, 16, reader.read if reader else None)


def test_text_near_an_anchor_takes_its_place_on_the_mood_axes():
    reading = MoodReader(SetEmbedder({"thunder at sea": STORM})).read("thunder at sea")
    assert reading is not None and reading.anchor == STORM
    assert reading.valence == pytest.approx(0.2, abs=0.01)
    assert reading.arousal == pytest.approx(0.9, abs=0.01)
    assert mood_words(reading) == ["sad", "energetic"]


def test_text_far_from_every_anchor_is_not_read():
    assert MoodReader(SetEmbedder({"xyzzy": None})).read("xyzzy") is None
    assert MoodReader(SetEmbedder({})).read("   ") is None


def test_anchors_are_embedded_once_per_reader():
    embedder = SetEmbedder({"thunder at sea": STORM, "a still pond": LAKE})
    reader = MoodReader(embedder)
    reader.read("thunder at sea")
    reader.read("a still pond")
    assert sum(len(batch) == len(ANCHORS) for batch in embedder.calls) == 1


def test_free_text_changes_the_plan_like_its_mood_words():
    stormy = plan("thunder at sea", {"thunder sea": STORM})
    assert stormy.mode == "minor" and stormy.percussion and stormy.tempo_qpm >= 138
    assert STORM in stormy.overrides["mood"] and "thunder sea" in stormy.overrides["mood"]
    assert stormy.unused_words == ()
    still = plan("a still pond", {"still pond": LAKE})
    assert still.mode == "major" and still.texture == "pad" and not still.percussion
    assert still.tempo_qpm <= 66


def test_without_an_embedder_the_keyword_table_alone_reads_the_prompt():
    fallback = plan("thunder at sea")
    assert fallback.mode == "major" and "mood" not in fallback.overrides
    assert set(fallback.unused_words) == {"thunder", "sea"}
    unread = plan("thunder at sea", {"thunder sea": None})
    assert unread == fallback


def test_keywords_win_over_the_reading_for_the_aspects_they_name():
    calm_storm = plan("calm thunder at sea", {"thunder sea": STORM})
    assert calm_storm.texture == "pad" and not calm_storm.percussion  # the keyword "calm"
    assert calm_storm.mode == "minor"  # the reading, where no keyword spoke
    keyed = plan("in D major, a party", {"party": PARTY})
    assert (keyed.tonic, keyed.mode) == ("D", "major") and keyed.percussion


def test_only_the_words_outside_the_vocabulary_are_read():
    embedder = SetEmbedder({"thunder sea": STORM})
    reader = MoodReader(embedder)
    picture = analyse(Image.new("RGB", (64, 64), (250, 190, 70)))
    plan_from_analysis(picture, "a slow waltz, thunder at sea", 16, reader.read)
    assert [call for call in embedder.calls if len(call) == 1] == [["thunder sea"]]


def test_the_moods_setting_chooses_the_reader(monkeypatch):
    embedder = SetEmbedder({})
    assert load_mood_reader("keywords", embedder) is None
    reader = load_mood_reader("sentence", embedder)
    assert reader is not None and reader.id == "sentence:set"
    monkeypatch.setattr(moods, "sentence_installed", lambda: False)
    assert load_mood_reader("auto", embedder) is None


def test_asking_for_sentence_moods_without_the_extra_names_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)
    with pytest.raises(BackendError, match=r"pictune\[sentence\]"):
        load_mood_reader("sentence", SetEmbedder({}, name="features"))


def test_an_unknown_moods_setting_is_refused():
    with pytest.raises(InputError, match="moods"):
        Settings(moods="guess")


def test_the_offline_composer_loads_the_reader_only_for_words_outside_the_vocabulary(
    small_index_folder, tmp_path, monkeypatch
):
    from pictune.corpus import CorpusIndex
    from pictune.pipeline import offline

    loaded: list[str] = []

    def fake_loader(choice: str, embedder: object) -> MoodReader:
        loaded.append(choice)
        return MoodReader(SetEmbedder({"thunder sea": STORM}))

    monkeypatch.setattr(offline, "load_mood_reader", fake_loader)
    picture = tmp_path / "warm.png"
    Image.new("RGB", (64, 64), (250, 190, 70)).save(picture)
    composer = offline.OfflineComposer(
        Settings(moods="sentence", rounds=0, k=0), CorpusIndex(small_index_folder)
    )
    composer.compose(picture, "a calm lullaby", seed=1)
    assert loaded == []
    stormy = composer.compose(picture, "thunder at sea", seed=1)
    composer.compose(picture, "thunder at sea", seed=2)
    assert loaded == ["sentence"]
    assert stormy.offline is not None and stormy.offline.plan["mode"] == "minor"
