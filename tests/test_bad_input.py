"""Bad input gets diagnostics or a clear error within 2 s, bounded memory, no files left."""

from __future__ import annotations

import time
import tracemalloc

import pytest

from pictune.abc import decode_abc, extract, make_playable, repair, validate
from pictune.abc.tools import run_tool
from pictune.errors import InputError, ToolError

HEADER = "X:1\nT:t\nM:4/4\nL:1/8\nK:C\n"


def bounded(action):
    """Run `action`; assert it took < 20 s (a hang guard: about ten times the expected figure
    on a loaded machine) and < 200 MB of Python memory; return its result.

    Time and memory are measured in two runs: tracing allocations slows Python down."""
    start = time.perf_counter()
    try:
        result = action()
    finally:
        elapsed = time.perf_counter() - start
    assert elapsed < 20.0, f"took {elapsed:.2f} s"
    tracemalloc.start()
    try:
        action()
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert peak < 200 << 20, f"peak {peak >> 20} MB"
    return result


def test_empty_text(no_leftovers):
    result = bounded(lambda: validate(""))
    assert [d.message for d in result.errors] == ["no ABC text"]
    assert repair("").abc == ""
    assert extract("").abc is None


def test_binary_garbage_bytes_are_refused(no_leftovers):
    garbage = bytes(range(256)) * 64
    with pytest.raises(InputError, match="binary"):
        decode_abc(garbage)


def test_garbage_text_gets_diagnostics(no_leftovers):
    text = "".join(chr(c) for c in range(1, 256) if chr(c) not in "\n") * 4
    result = bounded(lambda: validate(text))
    assert not result.ok


def test_ten_megabyte_reply_is_refused_quickly(no_leftovers):
    huge = HEADER + "CDEF GABc|" * 1_000_000
    for action in (validate, extract, repair, make_playable):
        with pytest.raises(InputError, match="characters"):
            bounded(lambda action=action: action(huge))


def test_a_thousand_voices(no_leftovers):
    voices = "".join(f"V:{i}\nC8|\n" for i in range(1000))
    result = bounded(lambda: validate(HEADER + voices))
    assert any("1000 voices" in d.message for d in result.errors)


def test_tiny_unit_length(no_leftovers):
    result = bounded(lambda: validate("X:1\nT:t\nM:4/4\nL:1/1024\nK:C\nCDEF|]\n"))
    assert any("L:1/1024" in d.message for d in result.errors)
    fixed = bounded(lambda: make_playable("X:1\nT:t\nM:4/4\nL:1/1024\nK:C\nCDEF|]\n"))
    assert fixed.ok


def test_absurd_tempo(no_leftovers):
    result = bounded(lambda: validate("X:1\nT:t\nM:4/4\nL:1/8\nQ:1/4=100000\nK:C\nCDEF|]\n"))
    assert any("tempo 100000" in d.message for d in result.errors)
    assert bounded(lambda: make_playable("X:1\nT:t\nM:4/4\nL:1/8\nQ:1/4=100000\nK:C\nCDEF|]\n")).ok


def test_note_of_length_100000(no_leftovers):
    result = bounded(lambda: validate(HEADER + "C100000|]\n"))
    assert any("too long" in d.message for d in result.errors)
    assert result.midi is None  # abc2midi is not asked to write hours of one note
    assert bounded(lambda: make_playable(HEADER + "C100000|]\n")).ok


def test_brackets_nested_ten_thousand_deep(no_leftovers):
    text = HEADER + "[" * 10_000 + "C" + "]" * 10_000 + "|]\n"
    result = bounded(lambda: validate(text))
    assert not result.ok
    fixed = bounded(lambda: make_playable(text))
    assert fixed.ok


def test_non_utf8_bytes_decode_as_latin1(no_leftovers):
    data = (HEADER.replace("T:t", "T:Caf\xe9") + "CDEF|]\n").encode("latin-1")
    text = decode_abc(data)
    assert "Café" in text
    assert bounded(lambda: validate(text)).ok


def test_a_hanging_tool_is_stopped(no_leftovers):
    with pytest.raises(ToolError, match="longer than"):
        run_tool("sleep", ["5"], {}, [], timeout=0.3)


def test_a_missing_tool_is_a_clear_error():
    with pytest.raises(ToolError, match="not found"):
        run_tool("no-such-abc-tool", [], {}, [])
