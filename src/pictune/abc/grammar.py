"""The ABC reply grammar for constrained decoding, and salvage of a reply cut off mid-tune.

The grammar is one GBNF file (`reply.gbnf`, next to this module), versioned on its first
line and kept in step with the compose, correct and refine prompts: an optional thinking
block and short preamble, one ```abc fenced tune, then the motivation. llama.cpp's server
reads GBNF as it is; the local backend and vLLM's guidance backend read it through
llguidance.
"""

from __future__ import annotations

import re
from importlib import resources

from pictune.abc.tokens import tokenize_line

GRAMMAR_FILE = "reply.gbnf"
FENCE_OPEN = "```abc\n"
FENCE_CLOSE = "```"
_VERSION = re.compile(r"version (\d+)")


def reply_grammar() -> str:
    """The reply grammar's GBNF text."""
    return resources.files("pictune.abc").joinpath(GRAMMAR_FILE).read_text("utf-8")


def grammar_version(text: str | None = None) -> str:
    """The version stated on the grammar's first line (recorded with every constrained round)."""
    first = (text if text is not None else reply_grammar()).split("\n", 1)[0]
    match = _VERSION.search(first)
    if match is None:
        raise ValueError(f"{GRAMMAR_FILE} does not state its version on its first line")
    return match.group(1)


def complete_bars(reply: str) -> str:
    """A reply whose fenced tune was cut off (the token budget ran out inside it) closed after
    the last complete bar written so far; any other reply is returned unchanged.

    Under the grammar a tune may end after any complete bar, so the result is a reply the
    grammar accepts whenever the tune's body holds a bar line. With no bar line in the body
    the complete lines are kept; with no body at all there is nothing to salvage.
    """
    start = reply.find(FENCE_OPEN)
    if start < 0:
        return reply
    head, tune = reply[: start + len(FENCE_OPEN)], reply[start + len(FENCE_OPEN) :]
    if FENCE_CLOSE in tune:
        return reply
    lines = tune.split("\n")
    key = next((i for i, line in enumerate(lines[:-1]) if line.startswith("K:")), None)
    if key is None:
        return reply  # still in the header: no music to keep
    body = lines[key + 1 :]
    for index in range(len(body) - 1, -1, -1):
        bars = [t for t in tokenize_line(body[index], index + 1) if t.kind == "bar"]
        if bars:
            last = bars[-1]
            end = last.column - 1 + len(last.text.rstrip("0123456789,-["))
            kept = [*lines[: key + 1], *body[:index], body[index][:end]]
            return head + "\n".join(kept) + "\n" + FENCE_CLOSE + "\n"
    complete = lines[:-1]  # no bar line anywhere: keep the lines that were finished
    if len(complete) <= key + 1:
        return reply
    return head + "\n".join(complete) + "\n" + FENCE_CLOSE + "\n"
