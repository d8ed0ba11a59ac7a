"""The offline composer: end to end, determinism, the mapping, prompts, and bad images."""

from __future__ import annotations

import io
import json
import re
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from pictune.abc import validate
from pictune.cli.app import app
from pictune.corpus import BuiltinSource, CorpusIndex, FeatureEmbedder, build_index
from pictune.errors import InputError
from pictune.images import load_image
from pictune.models.offline.analysis import analyse
from pictune.models.offline.plan import plan_from_analysis
from pictune.music.novelty import longest_shared_run
from tests.conftest import chosen, offline

EXAMPLE = Path(__file__).parents[1] / "src" / "pictune" / "data" / "example.jpg"


@pytest.fixture(scope="module")
def index_home(tmp_path_factory):
    """A PICTUNE_INDEX_DIR holding a 'builtin' index of 2,000 tunes."""
    home = tmp_path_factory.mktemp("indexes")
    build_index(
        BuiltinSource(limit=2000),
        FeatureEmbedder(),
        home / "builtin",
        source_description={"kind": "builtin", "limit": 2000},
    )
    return home


@pytest.fixture(scope="module")
def index(index_home):
    return CorpusIndex(index_home / "builtin")


def picture(tmp_path, colour, size=(160, 120), name="p.png") -> Path:
    path = tmp_path / name
    Image.new("RGB", size, colour).save(path)
    return path


def test_example_composes_every_file(index, tmp_path):
    result = offline(index).compose(EXAMPLE, seed=3)
    result.save(tmp_path / "out")
    for name in (
        "music.abc",
        "music.mid",
        "music.wav",
        "score.svg",
        "heatmap.png",
        "report.json",
        "motivation.txt",
    ):
        assert (tmp_path / "out" / name).stat().st_size > 100, name
    check = validate(result.abc)
    assert check.ok and not [d for d in check.errors if d.source == "abc2midi"]
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["seed"] == 3 and report["backend"] == "offline"
    assert {"brightness", "saturation", "warmth", "palette", "symmetry"} <= set(
        report["offline"]["measurements"]
    )
    assert report["references"] and chosen(report)["metrics"]["n_notes"] > 20
    assert len(report["heatmap"]) == 10 and len(report["heatmap"][0]) == 15
    assert chosen(report)["shared_run"] < 8
    assert "V:3" in result.abc and result.abc.count("%%MIDI program") == 3
    assert "Palmer" in result.motivation


def test_same_seed_same_piece_other_seed_other_piece(index, tmp_path):
    composer = offline(index)
    first = composer.compose(EXAMPLE, seed=11)
    again = offline(index).compose(EXAMPLE, seed=11)
    other = composer.compose(EXAMPLE, seed=12)
    first.save(tmp_path / "a")
    again.save(tmp_path / "b")
    assert (tmp_path / "a" / "music.abc").read_bytes() == (
        tmp_path / "b" / "music.abc"
    ).read_bytes()
    assert first.abc == again.abc != other.abc


def test_dark_cool_is_minor_and_bright_warm_is_major_and_faster():
    dark = plan_from_analysis(analyse(Image.new("RGB", (64, 64), (20, 30, 70))))
    bright = plan_from_analysis(analyse(Image.new("RGB", (64, 64), (250, 190, 70))))
    assert dark.mode == "minor" and bright.mode == "major"
    assert bright.tempo_qpm > dark.tempo_qpm
    assert bright.melody_centre > dark.melody_centre


def test_prompt_overrides_where_it_speaks():
    plan = plan_from_analysis(
        analyse(Image.new("RGB", (64, 64), (250, 190, 70))), "a slow sad waltz for solo piano"
    )
    assert plan.meter == "3/4" and plan.tempo_qpm == 66 and plan.mode == "minor"
    assert plan.melody_program == 0 and plan.accompaniment_program == 0
    keyed = plan_from_analysis(
        analyse(Image.new("RGB", (64, 64), (20, 30, 70))), "something in D major at 150 bpm"
    )
    assert (keyed.tonic, keyed.mode, keyed.tempo_qpm) == ("D", "major", 150)
    assert set(keyed.overrides) == {"key", "tempo"}


def test_prompt_and_bars_reach_the_piece(index, tmp_path):
    result = offline(index, bars=8).compose(picture(tmp_path, (90, 120, 200)), "a jig for flute")
    assert "M:6/8" in result.abc and "%%MIDI program 73" in result.abc
    assert result.offline is not None and result.offline.plan["bars"] == 8


def test_longest_shared_run():
    a = [(60, 2), (62, 2), (64, 2), (65, 2)]
    assert longest_shared_run(a, [(1, 1), *a[1:3], (0, 0)]) == 2
    assert longest_shared_run(a, []) == 0


# -- bad images -------------------------------------------------------------------------------


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims width × height but holds almost no data (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("notes.txt", b"this is not an image", "not an image"),
        ("empty.png", b"", "empty"),
        ("bomb.png", _png_header_only(20_000, 20_000), "50 megapixels"),
    ],
)
def test_unusable_images_fail_with_one_line(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        load_image(path)


def test_truncated_jpeg_fails_clearly(tmp_path):
    buffer = io.BytesIO()
    Image.new("RGB", (200, 200), (10, 200, 30)).save(buffer, "JPEG")
    path = tmp_path / "cut.jpg"
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    with pytest.raises(InputError, match="damaged or truncated"):
        load_image(path)


def test_missing_file():
    with pytest.raises(InputError, match="no such image"):
        load_image("/no/such/picture.png")


def _save(image: Image.Image, path: Path, **options) -> Path:
    image.save(path, **options)
    return path


@pytest.mark.parametrize(
    "make",
    [
        lambda d: _save(Image.new("RGB", (1, 1), (255, 0, 0)), d / "one.png"),
        lambda d: _save(Image.new("RGB", (50, 50), (0, 0, 0)), d / "black.png"),
        lambda d: _save(Image.new("RGB", (50, 50), (255, 255, 255)), d / "white.png"),
        lambda d: _save(Image.new("CMYK", (60, 40), (0, 80, 200, 0)), d / "cmyk.jpg"),
        lambda d: _save(
            Image.fromarray(np.linspace(0, 65535, 64 * 48).reshape(48, 64).astype(np.uint16)),
            d / "deep.png",
        ),
        lambda d: _save(Image.new("RGBA", (40, 40), (0, 0, 255, 120)), d / "alpha.png"),
    ],
    ids=["1x1", "black", "white", "cmyk", "16-bit", "transparent"],
)
def test_odd_images_compose(index, tmp_path, make):
    result = offline(index).compose(make(tmp_path))
    assert validate(result.abc).ok


def test_a_picture_in_memory_composes_saves_and_revises(index, tmp_path):
    """The Python API takes a PIL image or a file's bytes as well as a path: the same piece as
    from the file; the folder keeps the picture (picture.png), so the report shows it, the
    heat-map is drawn and the saved piece can be revised later."""
    composer = offline(index)
    from_file = composer.compose(EXAMPLE, seed=3)
    with Image.open(EXAMPLE) as opened:
        held = opened.copy()
    from_image = composer.compose(held, seed=3)
    from_bytes = composer.compose(EXAMPLE.read_bytes(), seed=3)
    assert from_image.abc == from_bytes.abc == from_file.abc
    assert from_file.image == str(EXAMPLE.resolve()) and from_file.picture is None
    assert from_image.image == "" and from_image.picture.size == held.size
    assert "picture" not in from_file.file_keys() and "picture" in from_image.file_keys()
    assert held.mode == "RGB" and held.size == Image.open(EXAMPLE).size  # the caller's image

    written = from_image.save(tmp_path / "memory")
    assert set(written) == set(from_image.file_keys())
    assert Image.open(written["picture"]).size == held.size
    assert written["heatmap"].stat().st_size > 1000
    report = json.loads(written["json"].read_text())
    assert report["image"] == str(written["picture"].resolve())
    assert "<img id='picture' alt='the picture' src='data:image/jpeg;base64," in (
        written["report"].read_text()
    )
    revised = composer.revise(tmp_path / "memory", "slower")
    assert revised.ok and revised.image == report["image"]
    unsaved = composer.revise(from_image, "slower")  # the record itself, never saved
    assert unsaved.ok and unsaved.picture is from_image.picture
    assert "picture" in unsaved.save(tmp_path / "unsaved")


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (3, "a picture is a file path, its bytes or a PIL image, not int"),
        (Image.new("RGB", (0, 10)), "empty"),
        (b"", "empty"),
        (b"not a picture", "not an image"),
    ],
    ids=["int", "no-pixels", "no-bytes", "not-an-image"],
)
def test_a_bad_picture_in_memory_is_one_line(index, source, message):
    with pytest.raises(InputError, match=message):
        offline(index).compose(source)


def test_animated_gif_uses_its_first_frame(tmp_path):
    frames = [Image.new("RGB", (30, 30), colour) for colour in ((250, 0, 0), (0, 0, 250))]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)
    image = load_image(path)
    assert image.getpixel((5, 5))[0] > 200


def test_exif_rotation_is_applied(tmp_path):
    image = Image.new("RGB", (80, 40), (0, 0, 0))
    image.paste((255, 255, 255), (0, 0, 40, 40))  # left half white
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to view
    path = tmp_path / "rotated.jpg"
    image.save(path, exif=exif)
    upright = load_image(path)
    assert upright.size == (40, 80)
    assert upright.getpixel((20, 10))[0] > 200  # the white half is now on top


def test_cli_compose_prints_a_summary_the_rounds_and_plain_file_names(
    index_home, tmp_path, monkeypatch
):
    monkeypatch.setenv("PICTUNE_INDEX_DIR", str(index_home))
    monkeypatch.setenv("COLUMNS", "120")
    out = tmp_path / "cli"
    result = CliRunner().invoke(app, ["compose", str(EXAMPLE), "--out", str(out), "--bars", "8"])
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    plan = report["offline"]["plan"]
    text = result.stdout
    lines = text.splitlines()
    assert lines[0].startswith(report["title"])  # the title leads, with no empty header row
    for label, value in [
        ("key", f"{plan['tonic']} {plan['mode']}"),
        ("meter", plan["meter"]),
        ("tempo", f"{plan['tempo_qpm']} ♩/min"),
        ("bars", "8"),
    ]:
        assert re.search(rf"^\s+{label}\s+{re.escape(value)}\s*$", text, re.M), label
    assert re.search(r"^\s+instruments\s+\w", text, re.M)
    assert re.search(r"^\s+seconds\s+\d+\.\d\s*$", text, re.M)
    # the offline composer's rounds, the chosen one marked
    rounds = [r["kind"] for r in report["rounds"]]
    assert rounds[0] == "draft" and all(f"│ {kind}" in text for kind in rounds) and "◀" in text
    # every retrieved example, saying how many
    titles = [ref["title"] or ref["id"] for ref in report["references"]]
    assert f"{len(titles)} retrieved examples: " + "; ".join(titles) in text
    # files by their own names, with what they hold; no internal keys
    assert re.search(r"^\s+report\.html\s+everything on one self-contained page", text, re.M)
    assert re.search(r"^\s+music\.mid\s+the tune as MIDI", text, re.M)
    assert not re.search(r"^\s*(report_html|report|json|mid|wav)\s+/", text, re.M)


def test_cli_compose_says_how_many_references_it_names(index_home, tmp_path, monkeypatch):
    monkeypatch.setenv("PICTUNE_INDEX_DIR", str(index_home))
    out = tmp_path / "many"
    args = ["compose", str(EXAMPLE), "--out", str(out), "--bars", "8", "--k", "8"]
    result = CliRunner().invoke(app, args, env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    titles = [
        ref["title"] or ref["id"]
        for ref in json.loads((out / "report.json").read_text())["references"]
    ]
    assert len(titles) > 5
    line = f"5 of {len(titles)} retrieved examples (all in report.html): " + "; ".join(titles[:5])
    assert line in result.stdout
    assert titles[5] not in result.stdout.split("retrieved examples")[1].splitlines()[0]


def test_cli_compose_and_its_errors(index_home, tmp_path, monkeypatch):
    monkeypatch.setenv("PICTUNE_INDEX_DIR", str(index_home))
    runner = CliRunner()
    ok = runner.invoke(
        app, ["compose", str(EXAMPLE), "--out", str(tmp_path / "cli"), "--seed", "2", "--bars", "8"]
    )
    assert ok.exit_code == 0, ok.output
    assert (tmp_path / "cli" / "music.wav").is_file()
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8\xff garbage")
    failed = runner.invoke(app, ["compose", str(bad)])
    assert failed.exit_code == 2
    assert "Traceback" not in failed.output
    assert len([line for line in failed.output.splitlines() if line.startswith("error:")]) == 1


@pytest.mark.parametrize("prompt", [None, "a lively jig", "a slow waltz", "a march with drums"])
def test_the_whole_piece_reaches_the_record(index, tmp_path, prompt):
    """Every voice the header declares has its music, and the piece ends with its final bar
    line: nothing the composer wrote is lost between it and the saved tune (a mid-line
    tempo change of the closing ritardando once cut the coffee photograph's jig short)."""
    import re

    from skimage import data

    path = tmp_path / "coffee.png"
    Image.fromarray(data.coffee()).save(path)
    result = offline(index).compose(path, prompt, seed=1)
    abc = result.abc or ""
    header, _, body = abc.partition("\nV:1\n")
    declared = re.findall(r"^V:(\S+)", header, re.M)
    assert declared and body, abc[:300]
    played = re.findall(r"^V:(\S+)\s*$", "V:1\n" + body, re.M)
    assert played == declared
    assert abc.rstrip().endswith("|]")
