"""Property tests: any bytes, any ABC-like text and mutations of real tunes end in a result or
a clear pictune error — never another exception — with no working folder left behind.

CI runs a bounded number of examples (profile "ci"); `make fuzz` runs many more ("fuzz").
Time is bounded by the tools' own limits, not by Hypothesis deadlines (no timed tests).
"""

from __future__ import annotations

import contextlib
import io
import os
from functools import cache

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from typer.testing import CliRunner

from pictune.abc import decode_abc, extract, make_playable, repair, validate
from pictune.abc.convert import abc_to_midi, midi_to_score
from pictune.cli.app import app
from pictune.errors import PictuneError
from pictune.images import load_image
from pictune.music import render_svg, to_musicxml
from pictune.music.metrics import compute_metrics
from pictune.music.score import Score
from tests.conftest import SIMPLE_TUNE, TWO_VOICES

_COMMON = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    "derandomize": False,
}
settings.register_profile("ci", max_examples=20, **_COMMON)
settings.register_profile("fuzz", max_examples=2000, **_COMMON)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
settings.load_profile(PROFILE)
# The child-process renderers cost about a second an example: fewer of them in CI.
RENDER_EXAMPLES = 4 if PROFILE == "ci" else 200

HEADER_LINES = ["X:1", "T:t", "M:4/4", "M:6/8", "M:C|", "L:1/8", "L:1/16", "Q:1/4=120",
                "K:C", "K:Gm", "K:D dor", "V:1", "V:2 clef=bass", "%%MIDI program 40",
                "[I:staff +1]", "W:words", "P:A"]  # fmt: skip
BODY_TOKENS = ["C", "D", "e", "f'", "G,", "^c", "_B", "=F", "z", "x", "2", "/2", "3", "|",
               "||", "|]", "|:", ":|", "[1", "[2", "(", ")", "-", "[CEG]", "{g}", "(3",
               ">", "<", "~", '"Am"', "!f!", " ", "\n", "&", "[V:1]", "y", "%", "\\"]  # fmt: skip


@cache
def real_tunes() -> tuple[str, ...]:
    """A few tunes of music21's bundled ABC corpus (real music), plus the test fixtures."""
    from pictune.corpus.music21_tunes import iter_music21_tunes

    tunes = [SIMPLE_TUNE, TWO_VOICES]
    for number, tune in enumerate(iter_music21_tunes()):
        if number >= 40:
            break
        if number % 4 == 0 and len(tune.abc) < 4000:
            tunes.append(tune.abc)
    return tuple(tunes)


abc_like = st.builds(
    lambda header, body: "\n".join(header) + "\n" + "".join(body),
    st.lists(st.sampled_from(HEADER_LINES), max_size=8),
    st.lists(st.sampled_from(BODY_TOKENS), max_size=200),
)


@st.composite
def mutated_tune(draw: st.DrawFn) -> str:
    """A real tune with characters deleted, inserted, duplicated or swapped."""
    tunes = real_tunes()
    text = tunes[draw(st.integers(0, len(tunes) - 1))]
    for _ in range(draw(st.integers(1, 8))):
        at = draw(st.integers(0, max(0, len(text) - 1)))
        action = draw(st.sampled_from(["delete", "insert", "repeat", "token"]))
        if action == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 20)) :]
        elif action == "insert":
            text = text[:at] + draw(st.text(max_size=5)) + text[at:]
        elif action == "repeat":
            text = text[:at] + text[at : at + 30] * draw(st.integers(2, 50)) + text[at:]
        else:
            text = text[:at] + draw(st.sampled_from(BODY_TOKENS + HEADER_LINES)) + text[at:]
    return text


def through_the_abc_layer(text: str) -> None:
    """Check, repair, convert and measure one text; only PictuneError may escape."""
    try:
        result = validate(text)
        repaired = repair(text, result.diagnostics)
        assert isinstance(repaired.abc, str)
        if result.midi is not None:
            midi_to_score(result.midi)
        conversion = abc_to_midi(text)
        if conversion.midi is not None and not conversion.lost_notes:
            compute_metrics(Score.from_midi(conversion.midi))
        extract(text)
        make_playable(text, passes=1)
    except PictuneError:
        pass


@given(st.binary(max_size=4000))
def test_arbitrary_bytes_through_the_abc_layer(no_leftovers, data):
    try:
        text = decode_abc(data)
    except PictuneError:
        return
    through_the_abc_layer(text)


@given(abc_like)
def test_abc_like_text_through_the_abc_layer(no_leftovers, text):
    through_the_abc_layer(text)


@given(mutated_tune())
def test_mutated_real_tunes_through_the_abc_layer(no_leftovers, text):
    through_the_abc_layer(text)


@settings(max_examples=RENDER_EXAMPLES)
@given(st.one_of(mutated_tune(), abc_like))
def test_mutated_tunes_render_or_fail_clearly(no_leftovers, text):
    for render in (lambda: render_svg(text), lambda: to_musicxml(text)):
        with contextlib.suppress(PictuneError):
            assert render()


_runner = CliRunner()


@settings(max_examples=10 if PROFILE == "ci" else 1000)
@given(st.one_of(mutated_tune(), abc_like, st.binary(max_size=2000)))
def test_the_command_line_answers_in_one_line_or_a_result(no_leftovers, tmp_path, content):
    path = tmp_path / "input.abc"
    if isinstance(content, str):
        path.write_text(content, "utf-8")
    else:
        path.write_bytes(content)
    for command in (["abc", "check"], ["abc", "repair", "-o", str(tmp_path / "out.abc")],
                    ["metrics"]):  # fmt: skip
        result = _runner.invoke(app, [*command, str(path)])
        assert result.exit_code in (0, 1, 2), (command, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit), command
        assert "Traceback" not in result.output


def _encoded(kind: str) -> bytes:
    picture = io.BytesIO()
    Image.new("RGB", (24, 16), (200, 120, 30)).save(picture, kind)
    return picture.getvalue()


@st.composite
def mutated_image(draw: st.DrawFn) -> bytes:
    data = bytearray(_encoded(draw(st.sampled_from(["PNG", "JPEG", "GIF", "BMP", "TIFF"]))))
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["flip", "cut", "insert"]))
        if action == "flip":
            data[at] = draw(st.integers(0, 255))
        elif action == "cut":
            del data[at:]
            if not data:
                break
        else:
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
    return bytes(data)


@given(st.one_of(st.binary(max_size=2000), mutated_image()))
def test_image_loading_returns_an_rgb_image_or_a_clear_error(data):
    try:
        image = load_image(data)
    except PictuneError:
        return
    assert image.mode == "RGB" and image.width * image.height > 0
