"""Cutting a long tune to a prompt budget: headers kept, the busiest voice, the first N bars."""

from __future__ import annotations

from pictune.abc.text import FIELD_LINE, header_end
from pictune.abc.tokens import tokenize_line


def cut_tune(abc: str, bars: int = 16) -> tuple[str, bool]:
    """(the cut text, whether anything was cut). A Lakh MIDI file turned into ABC can run to
    tens of thousands of characters; the first `bars` bars of its busiest voice carry its
    character at a fraction of the prompt."""
    lines = abc.strip("\n").split("\n")
    end = header_end(lines)
    header, body = lines[:end], lines[end:]
    voices: dict[str, list[str]] = {}
    current = "1"
    for line in body:
        if line.startswith("V:"):
            current = (line[2:].split() or ["1"])[0]
            voices.setdefault(current, [])
            continue
        if line.startswith("[V:"):
            current = (line[3:].split("]")[0].split() or ["1"])[0]
        voices.setdefault(current, []).append(line)
    busiest = max(
        voices,
        key=lambda v: sum(t.kind == "note" for ln in voices[v] for t in tokenize_line(ln, 0)),
        default="1",
    )
    kept: list[str] = []
    count = 0
    cut = len(voices) > 1
    for line in voices.get(busiest, []):
        if FIELD_LINE.match(line) or line.startswith("%"):
            kept.append(line)
            continue
        out = []
        for token in tokenize_line(line, 0):
            out.append(token.text)
            if token.kind == "bar":
                count += 1
                if count >= bars:
                    break
        kept.append("".join(out).rstrip())
        if count >= bars:
            cut = cut or any(
                t.kind in ("note", "rest")
                for ln in voices[busiest][voices[busiest].index(line) + 1 :]
                for t in tokenize_line(ln, 0)
            )
            break
    voice_header = [ln for ln in header if not ln.startswith("V:")]
    return "\n".join([*voice_header, *kept]).strip("\n") + "\n", cut
