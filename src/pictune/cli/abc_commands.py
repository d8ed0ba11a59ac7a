"""`pictune abc …`: check, repair, extract and convert ABC files."""

from __future__ import annotations

import re
import sys
from enum import Enum
from pathlib import Path

import typer
from rich.table import Table

from pictune.abc import (
    abc_to_midi,
    decode_abc,
    extract,
    midi_to_abc,
    midi_to_score,
    repair,
    validate,
)
from pictune.abc.diagnostics import Diagnostic, merge_repeated
from pictune.cli.output import (
    capped,
    console,
    err_console,
    fail,
    guarded,
    print_json,
    read_input,
    read_text,
)
from pictune.errors import InputError
from pictune.music.audio import render_wav
from pictune.music.critic import Review, review
from pictune.music.musicxml import to_musicxml
from pictune.music.score import Score
from pictune.music.sheet import render_svg

app = typer.Typer(help="Check, repair, extract and convert ABC notation.", no_args_is_help=True)


class Target(str, Enum):
    mid = "mid"
    wav = "wav"
    svg = "svg"
    musicxml = "musicxml"
    abc = "abc"


def _kind(diagnostic: Diagnostic) -> str:
    """What a finding is about, without its numbers ("Track 0 Bar 200 has 7/2 …" → "Track # …")."""
    return re.sub(r"\d+", "#", diagnostic.message)[:60]


@app.command()
def check(
    file: Path = typer.Argument(..., help="ABC file ('-' for standard input)."),
    as_json: bool = typer.Option(False, "--json", help="Print diagnostics as JSON."),
) -> None:
    """Validate a tune: diagnostics with line and column; exit code 1 when there are errors."""
    result = guarded(lambda: validate(read_text(file)))
    if as_json:
        print_json({"ok": result.ok, "diagnostics": [d.to_dict() for d in result.diagnostics]})
    elif result.diagnostics:
        table = Table("line", "col", "severity", "message", "source")
        # Errors first: a flood of warnings must not push the one error off the screen.
        ordered = sorted(merge_repeated(result.diagnostics), key=lambda d: not d.is_error)
        shown, summary = capped(ordered, _kind)
        for d in shown:
            colour = "red" if d.is_error else "yellow"
            table.add_row(
                str(d.line), str(d.column), f"[{colour}]{d.severity.value}[/]", d.message, d.source
            )
        console.print(table)
        if summary:
            console.print(summary, highlight=False, markup=False)
    if not as_json:
        console.print("[green]valid[/]" if result.ok else f"[red]{len(result.errors)} error(s)[/]")
    if not result.ok:
        raise typer.Exit(1)


@app.command("repair")
def repair_command(
    file: Path = typer.Argument(..., help="ABC file ('-' for standard input)."),
    output: Path | None = typer.Option(
        None, "-o", "--output", help="Write here instead of stdout."
    ),
    fix_bars: bool = typer.Option(
        False, "--fix-bars", help="Also pad under-full / mark over-full bars."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the fixes and result as JSON."),
) -> None:
    """Repair the common faults of model-written ABC; each fix is listed on stderr."""

    def run() -> None:
        text = read_text(file)
        before = validate(text)
        result = repair(text, before, fix_bar_lengths=fix_bars)
        after = validate(result.abc)
        if as_json:
            print_json(
                {
                    "abc": result.abc,
                    "fixes": [f.to_dict() for f in result.fixes],
                    "ok": after.ok,
                    "diagnostics": [d.to_dict() for d in after.diagnostics],
                }
            )
        else:
            if output:
                output.write_text(result.abc, "utf-8")
            else:
                sys.stdout.write(result.abc)
            fixes, fixes_summary = capped(result.fixes, lambda fix: fix.kind)
            for fix in fixes:
                err_console.print(f"fixed {fix}", highlight=False, markup=False)
            if fixes_summary:
                err_console.print(f"fixed {fixes_summary}", highlight=False, markup=False)
            still, still_summary = capped(after.errors, _kind)
            for diag in still:
                err_console.print(f"still {diag}", highlight=False, markup=False)
            if still_summary:
                err_console.print(f"still {still_summary}", highlight=False, markup=False)
        if not after.ok:
            raise typer.Exit(1)

    guarded(run)


@app.command("extract")
def extract_command(
    file: Path = typer.Argument(..., help="A model's reply ('-' for standard input)."),
    as_json: bool = typer.Option(
        False, "--json", help="Print tune, motivation and thinking as JSON."
    ),
) -> None:
    """Find the tune in a model's free-text reply; print it (the motivation goes to stderr)."""
    result = guarded(lambda: extract(read_text(file)))
    if as_json:
        print_json(
            {
                "abc": result.abc,
                "tunes": list(result.tunes),
                "motivation": result.motivation,
                "thinking": result.thinking,
            }
        )
        return
    if result.abc is None:
        fail("the reply contains no ABC tune", 1)
    sys.stdout.write(result.abc + "\n")
    if result.motivation:
        err_console.print(result.motivation, highlight=False, markup=False)


@app.command()
def convert(
    file: Path = typer.Argument(..., help="ABC or MIDI file."),
    to: Target = typer.Option(..., "--to", help="Output format."),
    output: Path | None = typer.Option(
        None, "-o", "--output", help="Output file (default: next to the input)."
    ),
    soundfont: Path | None = typer.Option(
        None, help="SoundFont for WAV (else $PICTUNE_SOUNDFONT or system)."
    ),
    force: bool = typer.Option(
        False, "--force", help="Exit 0 even when abc2midi reported errors (what it could play)."
    ),
) -> None:
    """Convert ABC to MIDI, WAV, SVG or MusicXML (or MIDI to ABC).

    A tune with errors is converted as far as abc2midi can; its errors are printed and the
    exit code is 1 unless --force.
    """
    skipped: list[str] = []  # the errors abc2midi reported, repeated ones merged
    error_count = 0

    def run() -> Path:
        data = read_input(file)
        target = output or file.with_suffix("." + to.value)
        if data.startswith(b"MThd"):
            if to is Target.abc:
                target.write_text(midi_to_abc(data, title=file.stem), "utf-8")
                return target
            abc = midi_to_abc(data, title=file.stem)
        else:
            abc = read_text(file)
        if to is Target.abc:
            target.write_text(abc, "utf-8")
            return target
        if to is Target.svg:
            svg, _ = render_svg(abc)
            target.write_text(svg, "utf-8")
            return target
        conversion = abc_to_midi(abc)
        skipped.extend(str(d) for d in merge_repeated(conversion.errors))
        nonlocal error_count
        error_count = len(conversion.errors)
        if conversion.midi is None or conversion.lost_notes:
            conversion.complete_midi()  # raises, saying why: nothing, or notes dropped
        midi = conversion.complete_midi()
        if to is Target.mid:
            target.write_bytes(midi)
        elif to is Target.wav:
            render_wav(midi_to_score(midi), target, soundfont=soundfont)
        else:
            target.write_text(to_musicxml(abc, midi), "utf-8")
        return target

    written = guarded(run)
    console.print(f"wrote {written}", highlight=False)
    if skipped:
        for line in skipped:
            err_console.print(line, highlight=False, markup=False)
        err_console.print(
            f"{error_count} error(s): the output holds only what abc2midi could play "
            "(`pictune abc repair` fixes most)",
            highlight=False,
            markup=False,
        )
        if not force:
            raise typer.Exit(1)


_SEVERITY_COLOURS = {"error": "red", "warning": "yellow", "note": "cyan"}


@app.command("review")
def review_command(
    file: Path = typer.Argument(..., help="ABC or MIDI file ('-' for standard input)."),
    as_json: bool = typer.Option(False, "--json", help="Print findings and rates as JSON."),
) -> None:
    """A musician's review: findings at a bar and beat, and the rates; advice, so exit 0."""

    def run() -> Review:
        data = read_input(file)  # read once: '-' is standard input
        if data.startswith(b"MThd"):
            return review(Score.from_midi(data))
        if not data.strip():
            raise InputError(f"{file} is empty")
        text = decode_abc(data)
        return review(Score.from_abc(text), text)

    result = guarded(run)
    if as_json:
        print_json(result.to_dict())
        return
    if result.findings:
        table = Table("bar", "beat", "voice", "severity", "rule", "finding")
        for f in result.findings:
            colour = _SEVERITY_COLOURS[f.severity.value]
            table.add_row(
                str(f.bar) if f.bar >= 0 else "-",
                str(f.beat) if f.beat > 0 else "-",
                f.voice or "-",
                f"[{colour}]{f.severity.value}[/]",
                f.rule,
                f"{f.message}; {f.advice}",
            )
        console.print(table)
    rates = Table(
        "rate",
        "value",
        title=f"{result.key}; melody {result.melody or '-'}, "
        f"bass {result.bass or '-'}; harmony {result.harmony}",
    )
    for name, value in result.rates.to_dict().items():
        rates.add_row(name.replace("_", " "), _format_rate(value))
    console.print(rates)
    console.print(f"{len(result.findings)} finding(s), penalty {result.penalty:g}", highlight=False)


def _format_rate(value: float | int | bool | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    return f"{value:.3f}"
