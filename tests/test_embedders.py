"""Neural embedders through the real from_pretrained path (tiny CLIP; the bundled MiniLM)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from pictune.corpus import CorpusIndex, FolderSource, build_index, retrieve
from pictune.models import BackendError, ClipEmbedder, SentenceEmbedder, load_embedder
from tests.test_corpus_sources import WALTZ, midi_of

pytest.importorskip("torch")


def test_clip_embeds_text_and_images_into_one_space(tiny_clip):
    embedder = ClipEmbedder(str(tiny_clip))
    assert embedder.dim == 16 and embedder.max_tokens == 248
    texts = embedder.embed_text(["a reel", "a sad air"])
    images = embedder.embed_image([Image.new("RGB", (90, 60), (200, 40, 40))])
    assert texts.shape == (2, 16) and images.shape == (1, 16)
    assert np.allclose(np.linalg.norm(texts, axis=1), 1, atol=1e-5)
    assert embedder.id == f"clip:{tiny_clip}"


def test_clip_long_captions_truncate_or_chunk_average(tiny_clip, caplog):
    long = "a very long caption about a waltz " * 40
    truncated = ClipEmbedder(str(tiny_clip)).embed_text([long])
    assert "truncated" in caplog.text
    averaged = ClipEmbedder(str(tiny_clip), long_text="chunks").embed_text([long])
    assert truncated.shape == averaged.shape == (1, 16)
    assert not np.allclose(truncated, averaged)


def test_missing_model_names_the_model_and_how_to_get_it():
    with pytest.raises(BackendError, match="no-such-org/no-such-clip"):
        ClipEmbedder("no-such-org/no-such-clip")


def test_unknown_embedder_spec():
    with pytest.raises(BackendError, match="unknown embedder"):
        load_embedder("word2vec")


def test_clip_index_searches_captions_and_corpus_images(tiny_clip, tmp_path):
    folder = tmp_path / "music"
    folder.mkdir()
    for name, colour in (("red", (220, 30, 30)), ("blue", (30, 30, 220)), ("green", (30, 200, 30))):
        (folder / f"{name}.mid").write_bytes(midi_of(WALTZ))
        Image.new("RGB", (64, 64), colour).save(folder / f"{name}.png")
    embedder = ClipEmbedder(str(tiny_clip))

    def load(path):
        return Image.open(path).convert("RGB")

    build_index(
        FolderSource(folder),
        embedder,
        tmp_path / "idx",
        source_description={"kind": "folder"},
        image_loader=load,
    )
    index = CorpusIndex(tmp_path / "idx")
    assert index.manifest["image_count"] == 3
    hits = retrieve(
        index,
        embedder,
        text="a waltz",
        image=Image.new("RGB", (64, 64), (30, 30, 220)),
        per_query=1,
    )
    assert "image→image" in {name for h in hits for name in h.matches}
    image_hit = next(h for h in hits if "image→image" in h.matches)
    assert image_hit.record.id == "blue.mid"  # the identical picture is its own nearest image


def _waltzes_and_reels(count: int = 25) -> list:
    """Records for minor 3/4 tunes and major 4/4 reels of the builtin corpus, captioned."""
    from pictune.abc.text import header_fields
    from pictune.corpus import MusicRecord
    from pictune.corpus.features import caption_from_features, features_from_score
    from pictune.corpus.music21_tunes import iter_music21_tunes
    from pictune.music import Score

    groups: dict[str, list] = {"waltz": [], "reel": []}
    for tune in iter_music21_tunes():
        fields = header_fields(tune.abc)
        key, meter, rhythm = fields.get("K", ""), fields.get("M", ""), fields.get("R", "").lower()
        group = None
        if meter == "3/4" and key.endswith("m"):
            group = "waltz"
        elif (
            meter in ("4/4", "C", "C|", "2/2")
            and "reel" in rhythm
            and key in ("D", "G", "A", "C", "F")
        ):
            group = "reel"
        if group and len(groups[group]) < count:
            features = features_from_score(Score.from_abc(tune.abc), tune.abc)
            tags = {"group": group, "mode": features.mode, "meter": features.meter}
            caption = caption_from_features(features)
            groups[group].append(MusicRecord(tune.id, caption, "builtin", abc=tune.abc, tags=tags))
        if all(len(g) == count for g in groups.values()):
            break
    return groups["waltz"] + groups["reel"]


@pytest.mark.parametrize("kind", ["features", "sentence"])
def test_sad_waltz_query_ranks_minor_waltz_time_above_major_reels(kind, tmp_path):
    if kind == "sentence":
        pytest.importorskip("sentence_transformers")
    embedder = load_embedder(kind)
    records = _waltzes_and_reels()
    assert len(records) == 50
    build_index(records, embedder, tmp_path / "idx", source_description={"kind": "test"})
    index = CorpusIndex(tmp_path / "idx")
    hits = retrieve(index, embedder, text="slow sad waltz in a minor key", per_query=50)
    groups = [h.record.tags["group"] for h in hits]
    # the 25 minor tunes in 3/4 take the first 25 places, every major 4/4 reel comes after
    assert groups == ["waltz"] * 25 + ["reel"] * 25


def test_sentence_embedder_is_text_only():
    pytest.importorskip("sentence_transformers")
    embedder = SentenceEmbedder()
    assert embedder.dim == 384
    with pytest.raises(BackendError, match="text model"):
        embedder.embed_image([Image.new("RGB", (4, 4))])
