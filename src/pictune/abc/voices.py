"""Voices of a multi-voice tune: who is declared, who plays, on which MIDI channel.

abc2midi gives every voice its own MIDI channel and stops at 16 ("Channel limit exceeded"),
and it holds at most 30 voices (later ones are folded into voice 30). Real orchestral scores
written by music models have 20 to 40 voices. Two answers, both lossless:

- `allocate_channels` (used by repair) writes `%%MIDI channel` lines so that voices with the
  same instrument share a channel and percussion stays on channel 10;
- `split_by_voices` (used by conversion) cuts a score of more than `MAX_VOICES_PER_RUN` voices
  into tunes of fewer voices, each converted on its own and merged back track by track.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from pictune.abc.diagnostics import Fix
from pictune.abc.text import header_end

MAX_VOICES_PER_RUN = 24  # abc2midi holds 30 voices and 40 tracks; overlays take tracks too
MAX_SPLIT_VOICES = 96  # a larger "score" is a runaway generation: converted whole, it fails fast
PERCUSSION_CHANNEL = 10
MELODIC_CHANNELS = tuple(c for c in range(1, 17) if c != PERCUSSION_CHANNEL)
_VOICE_LINE = re.compile(r"^V:\s*([^\s\]]+)")
_INLINE_VOICE = re.compile(r"\[V:\s*([^\s\]]+)[^\]]*\]")
_VOICE_ID = re.compile(r"(^V:\s*|\[V:\s*)([^\s\]]+)")
_SCORE_LINE = re.compile(r"^%%(score|staves)\b(.*)$")
_SCORE_NAME = re.compile(r"[^\s(){}\[\]|*]+")
_PROGRAM = re.compile(r"^(?:%%|I:)MIDI\s+program\s+(?:\d+\s+)?(\d+)")
_CHANNEL = re.compile(r"^(?:%%|I:)MIDI\s+channel\s+(\d+)")


@dataclass(frozen=True)
class VoiceInfo:
    """One voice: its id, the line (0-based) that declares it, its program and channel."""

    voice: str
    declared_at: int | None  # index of its `V:` line, None when only used inline
    first_use: int  # index of the first line that plays in it (or declares it)
    program: int | None
    channel: int | None


def voice_of_line(line: str) -> str | None:
    """The voice a line switches to (`V:x` line or a leading `[V:x]`), else None."""
    match = _VOICE_LINE.match(line) or _INLINE_VOICE.match(line.lstrip())
    return match.group(1) if match else None


def survey_voices(lines: Sequence[str]) -> list[VoiceInfo]:
    """Every voice of one tune in order of appearance, with its program and channel lines."""
    order: list[str] = []
    declared: dict[str, int] = {}
    first_use: dict[str, int] = {}
    programs: dict[str, int] = {}
    channels: dict[str, int] = {}
    current: str | None = None
    for index, line in enumerate(lines):
        if line.startswith("V:"):
            current = voice_of_line(line)
            if current is not None:
                declared.setdefault(current, index)
        elif current is not None and (program := _PROGRAM.match(line)):
            programs.setdefault(current, int(program.group(1)))
            continue
        elif current is not None and (channel := _CHANNEL.match(line)):
            channels.setdefault(current, int(channel.group(1)))
            continue
        elif line.startswith("%") or re.match(r"^[A-Za-z]:", line):
            continue
        for match in _INLINE_VOICE.finditer(line):
            current = match.group(1)
            if current not in first_use:
                first_use[current] = index
                order.append(current) if current not in order else None
        if current is not None and current not in order:
            order.append(current)
            first_use.setdefault(current, index)
    for voice in declared:
        if voice not in order:
            order.append(voice)
    return [
        VoiceInfo(
            voice,
            declared.get(voice),
            first_use.get(voice, declared.get(voice, 0)),
            programs.get(voice),
            channels.get(voice),
        )
        for voice in order
    ]


def needs_channels(voices: Sequence[VoiceInfo]) -> bool:
    """True when abc2midi's automatic one-channel-per-voice would run past 16 channels."""
    automatic = [v for v in voices if v.channel is None]
    taken = {v.channel for v in voices if v.channel is not None}
    return len(automatic) + len(taken) > len(MELODIC_CHANNELS)


def plan_channels(voices: Sequence[VoiceInfo]) -> tuple[dict[str, int], list[str]]:
    """A channel for each voice without one, and a sentence per shared channel.

    Voices with the same program share its channel; percussion keeps channel 10; once the 15
    melodic channels are all taken, further programs share the channel of the least used one.
    """
    by_program: dict[int, int] = {}
    for voice in voices:
        if voice.channel is not None and voice.channel != PERCUSSION_CHANNEL:
            by_program.setdefault(voice.program or 0, voice.channel)
    used = {v.channel for v in voices if v.channel is not None}
    free = [c for c in MELODIC_CHANNELS if c not in used]
    plan: dict[str, int] = {}
    members: dict[int, list[str]] = {}
    for voice in voices:
        if voice.channel is not None:
            members.setdefault(voice.channel, []).append(voice.voice)
            continue
        program = voice.program or 0
        if program not in by_program:
            if free:
                by_program[program] = free.pop(0)
            else:
                load = {c: len(members.get(c, [])) for c in MELODIC_CHANNELS}
                by_program[program] = min(MELODIC_CHANNELS, key=lambda c: (load[c], c))
        plan[voice.voice] = by_program[program]
        members.setdefault(plan[voice.voice], []).append(voice.voice)
    notes = [
        f"voices {', '.join(names)} share MIDI channel {channel}"
        for channel, names in sorted(members.items())
        if len(names) > 1
    ]
    return plan, notes


def allocate_channels(lines: list[str]) -> tuple[list[str], list[Fix]]:
    """`lines` with a `%%MIDI channel` line for each voice that needs one (unchanged if none)."""
    voices = survey_voices(lines)
    if not needs_channels(voices):
        return lines, []
    plan, notes = plan_channels(voices)
    inserts: dict[int, list[str]] = {}
    for voice in voices:
        if voice.voice not in plan:
            continue
        channel_line = f"%%MIDI channel {plan[voice.voice]}"
        if voice.declared_at is not None:
            inserts.setdefault(voice.declared_at + 1, []).append(channel_line)
        else:
            inserts.setdefault(voice.first_use, []).extend([f"V:{voice.voice}", channel_line])
    out: list[str] = []
    for index, line in enumerate(lines):
        out.extend(inserts.get(index, []))
        out.append(line)
    out.extend(inserts.get(len(lines), []))
    fixes = [
        Fix(
            "channels",
            0,
            f"{len(voices)} voices need more than 16 MIDI channels; "
            f"assigned {len(set(plan.values()))} channels by instrument",
        ),
        *(Fix("channels", 0, note) for note in notes),
    ]
    return out, fixes


@dataclass(frozen=True)
class VoiceGroup:
    """A tune holding some of the voices of a score, and where each of its lines came from."""

    abc: str
    source_lines: tuple[int, ...]  # 1-based line in the full score for each line of `abc`


def split_by_voices(abc: str, per_run: int = MAX_VOICES_PER_RUN) -> list[VoiceGroup]:
    """Cut a score into tunes of at most `per_run` voices (one group when it is small enough).

    The header goes into every group; each body line goes to the group of the voice it is in.
    More than `MAX_SPLIT_VOICES` voices stay in one group (abc2midi then reports the fault).
    """
    lines = abc.split("\n")
    voices = [v.voice for v in survey_voices(lines)]
    if len(voices) <= per_run or len(voices) > MAX_SPLIT_VOICES:
        return [VoiceGroup(abc, tuple(range(1, len(lines) + 1)))]
    group_of = {voice: position // per_run for position, voice in enumerate(voices)}
    # abc2midi reads a numeric voice id as a position ("V:25 out of sequence"): number the
    # voices of each group from 1.
    renumber = {voice: str(position % per_run + 1) for position, voice in enumerate(voices)}
    count = max(group_of.values()) + 1
    end = header_end(lines)
    chosen: list[list[int]] = [[] for _ in range(count)]
    current: str | None = None
    for index, line in enumerate(lines):
        if _SCORE_LINE.match(line):
            continue
        switched = voice_of_line(line)
        if switched is not None:
            current = switched
        if index < end and switched is None and not (current and line.startswith("%%MIDI")):
            for group in chosen:
                group.append(index)
            if line.startswith("K:"):
                current = None
            continue
        if current is None:
            chosen[0].append(index)
        else:
            chosen[group_of.get(current, 0)].append(index)

    def renamed(match: re.Match[str]) -> str:
        return match.group(1) + renumber.get(match.group(2), match.group(2))

    return [
        VoiceGroup(
            "\n".join(_VOICE_ID.sub(renamed, lines[i]) for i in picked),
            tuple(i + 1 for i in picked),
        )
        for picked in chosen
    ]


def tidy_score(value: str) -> str:
    """Drop groupings left empty ('()', '{ }', '[]'), a '|' left at a group's edge and runs of
    spaces in a %%score value."""
    for _ in range(4):  # bounded: each round removes one level of empty nesting
        tidied = re.sub(r"\(\s*\)|\{\s*\}|\[\s*\]", "", value)
        tidied = re.sub(r"([{(\[])\s*\|", r"\1", tidied)  # a staff bar left at a group's edge
        tidied = re.sub(r"\|\s*([})\]])", r"\1", tidied)
        if tidied == value:
            break
        value = tidied
    return re.sub(r"\s+", " ", value).strip()


def declare_voices(lines: list[str]) -> tuple[list[str], list[Fix]]:
    """Declare voices used but never declared; keep %%score/%%staves to the voices that exist.

    Only in tunes that declare voices with `V:` lines: a declaration goes into the header,
    before `K:`. A %%score name with no voice is dropped, a voice missing from %%score is added.
    """
    voices = survey_voices(lines)
    if not any(v.declared_at is not None for v in voices):
        return lines, []
    fixes: list[Fix] = []
    out = list(lines)
    end = header_end(out)
    missing = [v.voice for v in voices if v.declared_at is None]
    if missing and 0 < end <= len(out):
        key = end - 1
        out[key:key] = [f"V:{voice}" for voice in missing]
        for voice in missing:
            fixes.append(Fix("voices", key + 1, f"declared voice {voice}, used but never declared"))
    names = {v.voice for v in voices}
    for index, line in enumerate(out):
        match = _SCORE_LINE.match(line)
        if not match:
            continue
        listed = _SCORE_NAME.findall(match.group(2))
        value = _SCORE_NAME.sub(lambda m: m.group(0) if m.group(0) in names else "", match.group(2))
        gone = [name for name in listed if name not in names]
        absent = [v.voice for v in voices if v.voice not in listed]
        if not (gone or absent):
            continue
        out[index] = f"%%{match.group(1)} {tidy_score(' '.join([value, *absent]))}"
        if gone:
            fixes.append(
                Fix("voices", index + 1, f"removed {', '.join(gone)} from %%{match.group(1)}")
            )
        if absent:
            fixes.append(
                Fix("voices", index + 1, f"added {', '.join(absent)} to %%{match.group(1)}")
            )
    return out, fixes
