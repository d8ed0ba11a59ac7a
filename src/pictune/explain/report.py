"""report.html: one self-contained page (no external requests) explaining a composition.

The first screen answers what a listener asks first: the title, the tune's key, meter,
tempo, instruments and length, and a player; then the picture beside its heat-map (with a
legend and a CSS-only toggle: the page's Content-Security-Policy allows no scripts). Below
come the score, the motivation with each checked claim marked, the music critic's findings,
the rounds as a plot and a table, and the retrieved examples. It is built from a run's
folder (report.json and the files beside it), for every backend alike (one schema)."""

from __future__ import annotations

import base64
import html
import io
import json
import wave
from pathlib import Path
from typing import Any

import numpy as np

from pictune.explain.consistency import Claim
from pictune.explain.heatmap import colourise
from pictune.explain.marks import marked_motivation, verdict_class
from pictune.explain.report_lineage import lineage_section
from pictune.explain.summary import TuneFacts, tune_facts
from pictune.music.metrics import REFINEMENT_METRICS

REPORT_HTML = "report.html"
STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;background:#f6f5f2;color:#222;overflow-wrap:break-word}
main{max-width:1180px;margin:0 auto;padding:20px 24px}
h1{font-size:1.7em;margin:0 0 2px} h2{font-size:1.15em;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
.card{background:#fff;border-radius:8px;padding:14px;box-shadow:0 1px 3px #0002;min-width:0}
.hero{display:flex;flex-direction:column;gap:10px}
.facts{display:flex;flex-wrap:wrap;gap:8px 28px;margin:0}
.facts div{min-width:0} .facts dt{font-size:.75em;text-transform:uppercase;letter-spacing:.05em;color:#777}
.facts dd{margin:0;font-size:1.05em;font-weight:600}
#player{width:100%}
.pics{display:grid;grid-template-columns:1fr 1fr;gap:16px;margin-top:16px}
@media (max-width:760px){.pics{grid-template-columns:1fr}}
figure{margin:0} figcaption{font-size:.9em;color:#555;margin-bottom:6px;display:flex;justify-content:space-between;gap:8px;align-items:center}
.pics img{width:100%;height:auto;border-radius:6px;display:block}
.stack{position:relative} .stack #heatmap{position:absolute;inset:0}
figure:has(#heat-toggle:not(:checked)) #heatmap{opacity:0}
.toggle{font-size:.9em;cursor:pointer;white-space:nowrap}
.legend{display:flex;align-items:center;gap:8px;font-size:.82em;color:#555;margin-top:8px}
.ramp{flex:0 0 140px;height:10px;border-radius:5px}
.swatch{display:inline-block;width:14px;height:4px;margin:0 3px 2px 6px;border:1px solid #222;vertical-align:middle}
.score svg{max-width:100%;height:auto;background:#fff}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;font-size:.88em} td,th{padding:4px 8px;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
th{font-weight:600;color:#444} #rounds th{max-width:7em} #rounds td{white-space:nowrap}
.ok{background:#dff3e0} .bad{background:#fbe0df} .unk{background:#eee} mark{padding:0 2px;border-radius:3px;color:inherit}
.findings{margin:0;padding-left:0;list-style:none} .findings li{padding:4px 0;border-bottom:1px solid #f0f0f0}
.sev{display:inline-block;min-width:4.6em;font-size:.75em;text-transform:uppercase;border-radius:3px;padding:1px 5px;margin-right:6px;text-align:center}
.sev.error{background:#fbe0df} .sev.warning{background:#fff1cc} .sev.note{background:#eee}
pre{white-space:pre-wrap;font-size:.85em;background:#fafafa;padding:8px;border-radius:6px;max-height:320px;overflow:auto}
.muted{color:#666;font-size:.9em} details summary{cursor:pointer;color:#555;font-size:.9em;margin-top:6px}
"""
HOT_MEANS = (
    "Hot (full colour): the parts of the picture that weighed most in the music, relative "
    "to this picture; cold (faded): little or none. The lines, coloured along the scale, "
    "circle the regions above a quarter, a half and three quarters of the peak."
)
MAX_FINDINGS_SHOWN = 6


def _data_url(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def _image(path: Path, max_side: int = 900, kind: str = "JPEG") -> str | None:
    """A picture file as a data URL, at most `max_side` a side (JPEG for photographs, PNG for
    sheets with text)."""
    from PIL import Image

    if not path.is_file():
        return None
    with Image.open(path) as image:
        picture = image.convert("RGB")
    picture.thumbnail((max_side, max_side))
    buffer = io.BytesIO()
    if kind == "JPEG":
        picture.save(buffer, "JPEG", quality=88)
        return _data_url(buffer.getvalue(), "image/jpeg")
    picture.save(buffer, "PNG", optimize=True)
    return _data_url(buffer.getvalue(), "image/png")


def _audio(midi: bytes) -> str:
    """A compact mono 22 kHz WAV of the piece for the page (the full file stays beside it)."""
    from pictune.abc.convert import midi_to_score
    from pictune.music.audio import synthesize

    audio, _ = synthesize(midi_to_score(midi), 22_050)
    mono = (np.clip(audio.mean(axis=0), -1, 1) * 32767).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(22_050)
        out.writeframes(mono.tobytes())
    return _data_url(buffer.getvalue(), "audio/wav")


def _rounds(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Every round that wrote a tune (a VLM's compose/correct/refine calls, the offline
    composer's drafts), with its validity, distance, critic penalty and metrics."""
    chosen = report.get("chosen_round")
    return [
        {
            "kind": r["kind"] + ("" if r.get("accepted") is not False else " (not kept)"),
            "name": r["kind"],
            "kept": r.get("accepted") is not False,
            "chosen": index == chosen,
            "valid": r["valid"],
            "distance": r.get("distance"),
            "penalty": r.get("penalty"),
            "findings": len(r.get("findings") or ()),
            "metrics": r.get("metrics") or {},
        }
        for index, r in enumerate(report["rounds"])
        if r["kind"] != "describe"
    ]


def _chosen_claims(report: dict[str, Any]) -> list[Claim]:
    """The claims checked when the chosen round was judged (stored; not recomputed)."""
    chosen = report.get("chosen_round")
    if chosen is None:
        return []
    return [Claim(**c) for c in report["rounds"][chosen].get("claims", ())]


def _plot(rounds: list[dict[str, Any]]) -> str:
    """An inline SVG bar chart of each round's distance to the references' metric ranges
    (green: a playable tune; red: none; pale: a round that was not kept)."""
    values = [r["distance"] for r in rounds]
    if not any(v is not None for v in values):
        return ""
    top = max(v or 0 for v in values) or 1.0
    step = 84
    bars = []
    for i, (entry, value) in enumerate(zip(rounds, values, strict=True)):
        height = 0 if value is None else 110 * value / top
        colour = "#4a8" if entry["valid"] else "#c55"
        middle = 42 + i * step
        label = "–" if value is None else f"{value:.2f}"
        note = "" if entry["kept"] else "not kept"
        bars.append(
            f'<rect x="{middle - 20}" y="{140 - height:.1f}" width="40" height="{height:.1f}" '
            f'fill="{colour}" fill-opacity="{1 if entry["kept"] else 0.4}"/>'
            f'<text x="{middle}" y="156" font-size="11" text-anchor="middle">'
            f"{html.escape(entry['name'])}{' ★' if entry['chosen'] else ''}</text>"
            f'<text x="{middle}" y="169" font-size="10" fill="#777" text-anchor="middle">{note}</text>'
            f'<text x="{middle}" y="{134 - height:.1f}" font-size="11" text-anchor="middle">{label}</text>'
        )
    width = 20 + step * len(rounds)
    return (
        f'<svg width="{width}" height="174" role="img" aria-label="distance to the references '
        f'per round">{"".join(bars)}</svg>'
    )


def _hero(report: dict[str, Any], facts: TuneFacts, audio: str | None) -> str:
    """Title, backend and seed, the tune's facts, and the player."""
    title = report.get("title") or "pictune"
    prompt = report.get("prompt")
    byline = f"{report.get('backend', '')} · seed {report.get('seed', '')}"
    if prompt:
        byline += f" · prompt: {prompt}"
    rows = [
        ("Key", facts.key),
        ("Meter", facts.meter),
        ("Tempo", facts.tempo),
        ("Instruments", ", ".join(facts.instruments) or None),
        ("Length", facts.length()),
    ]
    cells = "".join(
        f"<div><dt>{name}</dt><dd>{html.escape(value or '–')}</dd></div>" for name, value in rows
    )
    player = (
        f"<audio id='player' controls preload='auto' src='{audio}'></audio>"
        if audio
        else "<p class='muted' id='player-missing'>no audio: the run wrote no tune</p>"
    )
    status = report.get("status") or "ok"
    failed = f"<p class='bad'>{html.escape(status)}</p>" if status != "ok" else ""
    return (
        f"<header class='card hero' id='summary'><div><h1>{html.escape(title)}</h1>"
        f"<p class='muted' style='margin:0'>{html.escape(byline)}</p></div>{failed}"
        f"<dl class='facts' id='facts'>{cells}</dl>{player}</header>"
    )


def _legend() -> str:
    """A key to the heat-map: faded (cold) to full colour (hot), and the contour colours."""
    lines = "".join(
        "<span class='swatch' style='background:rgb({},{},{})'></span>{:.0%} ".format(
            *colourise(np.array([level]))[0], level
        )
        for level in (0.25, 0.5, 0.75)
    )
    return (
        "<div class='legend' id='heat-legend'><span>cold</span>"
        "<span class='ramp' style='background:linear-gradient(90deg,#ddd,#e9a23b)'></span>"
        f"<span>hot</span><span style='margin-left:12px'>lines: {lines}</span></div>"
        f"<p class='muted' style='margin:4px 0 0'>{html.escape(HOT_MEANS)}</p>"
    )


def _pictures(picture: str | None, heat: str | None) -> str:
    """The picture beside its heat-map; unticking the heat-map's checkbox shows the picture
    beneath (CSS `:has`, no script)."""
    if not picture and not heat:
        return ""
    cards = []
    if picture:
        cards.append(
            "<figure class='card'><figcaption>The picture</figcaption>"
            f"<img id='picture' alt='the picture' src='{picture}'></figure>"
        )
    if heat:
        under = f"<img alt='' src='{picture}'>" if picture else ""
        cards.append(
            "<figure class='card'><figcaption>What the music drew on<label class='toggle'>"
            "<input type='checkbox' id='heat-toggle' checked> show heat-map</label></figcaption>"
            f"<div class='stack'>{under}"
            f"<img id='heatmap' alt='heat-map over the picture' src='{heat}'></div>"
            f"{_legend()}</figure>"
        )
    return f"<section class='pics' id='pictures'>{''.join(cards)}</section>"


def _claims_table(claims: list[Claim]) -> str:
    if not claims:
        return ""
    rows = "".join(
        f"<tr class='{verdict_class(c.verdict)}'><td>{html.escape(c.text)}"
        f"{' (negated)' if c.negated else ''}</td><td>{html.escape(c.aspect)}</td>"
        f"<td>{html.escape(c.verdict)}</td><td>{html.escape(c.evidence)}</td></tr>"
        for c in claims
    )
    return (
        "<div class='scroll'><table id='claims'><tr><th>claim</th><th>aspect</th>"
        f"<th>verdict</th><th>evidence</th></tr>{rows}</table></div>"
    )


def _finding_item(finding: dict[str, Any]) -> str:
    bar, beat, voice = finding.get("bar", -1), finding.get("beat", 0), finding.get("voice", "")
    place = "" if bar < 0 else (f"bar {bar}, beat {beat}" if beat > 0 else f"bar {bar}")
    where = " · ".join(part for part in (place, voice) if part) or "whole piece"
    severity = str(finding.get("severity", "note"))
    advice = finding.get("advice") or ""
    return (
        f"<li><span class='sev {html.escape(severity)}'>{html.escape(severity)}</span>"
        f"<strong>{html.escape(where)}</strong>: {html.escape(str(finding.get('message', '')))}"
        f"{'<br><span class=muted>→ ' + html.escape(advice) + '</span>' if advice else ''}</li>"
    )


def _rate_text(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.0%}" if 0 <= value <= 1 else f"{value:.2f}"
    return html.escape(str(value))


def _findings(report: dict[str, Any]) -> str:
    """The music critic's findings on the chosen round, worst first, and its rates."""
    chosen = report.get("chosen_round")
    if chosen is None:
        return ""
    entry = report["rounds"][chosen]
    findings = list(entry.get("findings") or ())
    rates = entry.get("rates") or {}
    if not findings and not rates:
        return ""
    shown, rest = findings[:MAX_FINDINGS_SHOWN], findings[MAX_FINDINGS_SHOWN:]
    parts = ["<h2>What a musician would say</h2><div class='card' id='findings'>"]
    if findings:
        parts.append(
            f"<p class='muted' style='margin-top:0'>{len(findings)} finding"
            f"{'s' if len(findings) != 1 else ''} on the chosen tune, worst first.</p>"
        )
        parts.append(f"<ul class='findings'>{''.join(map(_finding_item, shown))}</ul>")
        if rest:
            parts.append(
                f"<details><summary>{len(rest)} more</summary><ul class='findings'>"
                f"{''.join(map(_finding_item, rest))}</ul></details>"
            )
    else:
        parts.append("<p>The critic found nothing to object to.</p>")
    if rates:
        cells = "".join(
            f"<tr><td>{html.escape(name.replace('_', ' '))}</td><td>{_rate_text(value)}</td></tr>"
            for name, value in rates.items()
        )
        parts.append(
            f"<details><summary>the critic's rates</summary><table id='rates'>{cells}</table>"
            "</details>"
        )
    parts.append("</div>")
    return "".join(parts)


def _rounds_table(rounds: list[dict[str, Any]]) -> str:
    """The distance plot over a table of every round's measures, scrolling inside its card."""
    header = "".join(f"<th>{name.replace('_', ' ')}</th>" for name in REFINEMENT_METRICS)
    rows = []
    for entry in rounds:
        cells = "".join(
            f"<td>{_cell(entry['metrics'].get(name))}</td>" for name in REFINEMENT_METRICS
        )
        kind = html.escape(entry["kind"]) + (" ★" if entry["chosen"] else "")
        rows.append(
            f"<tr><td>{kind}</td><td>{'yes' if entry['valid'] else 'no'}</td>"
            f"<td>{_cell(entry['distance'])}</td><td>{_penalty(entry['penalty'])}</td>"
            f"<td>{entry['findings']}</td>{cells}</tr>"
        )
    return (
        f"<div class='card scroll'>{_plot(rounds)}<table id='rounds'><tr><th>round</th><th>valid</th>"
        f"<th>distance</th><th>critic penalty</th><th>findings</th>{header}</tr>"
        f"{''.join(rows)}</table><p class='muted'>★ the chosen tune; distance: how far the "
        "metrics lie outside the references' ranges (0 is inside all of them).</p></div>"
    )


def _references(references: list[dict[str, Any]]) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(str(ref.get('title') or ref.get('id')))}</td>"
        f"<td>{html.escape(str(ref.get('caption')))}{' (cut for the prompt)' if ref.get('cut') else ''}"
        f"</td><td>{_cell(ref.get('score'))}</td></tr>"
        for ref in references
    )
    return (
        f"<h2>Retrieved examples ({len(references)})</h2><div class='card scroll'>"
        f"<table id='references'><tr><th>tune</th><th>caption</th><th>retrieval score</th></tr>{rows}"
        "</table></div>"
    )


def build_report(folder: str | Path) -> Path:
    """Write `report.html` into a run's folder from its report.json and files."""
    folder = Path(folder)
    report = json.loads((folder / "report.json").read_text("utf-8"))
    abc = report.get("abc") or ""
    midi_path = folder / "music.mid"
    midi = midi_path.read_bytes() if midi_path.is_file() else None
    claims = _chosen_claims(report)
    image_path = Path(report.get("image") or "")
    picture = _image(image_path) if image_path.name else None
    heat = _image(folder / "heatmap.png")
    phrases = _image(folder / "phrases.png", max_side=1100, kind="PNG")
    svg = (folder / "score.svg").read_text("utf-8") if (folder / "score.svg").is_file() else ""
    title = report.get("title") or "pictune"
    motivation = marked_motivation(report.get("motivation") or "", claims)
    parts = [
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)} — pictune</title>",
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; img-src data:; media-src data:; style-src 'unsafe-inline'\">",
        f"<style>{STYLE}</style></head><body><main>",
        _hero(report, tune_facts(abc, midi), _audio(midi) if midi else None),
        lineage_section(report.get("lineage"), folder.resolve()),
        _pictures(picture, heat),
        f"<h2>Score</h2><div class='card score' id='score'>{svg or '<p class=muted>no score</p>'}</div>",
        f"<h2>Motivation</h2><div class='card'><p id='motivation' style='margin-top:0'>{motivation}</p>"
        f"{_claims_table(claims)}</div>",
        _findings(report),
        "<h2>Rounds</h2>",
        _rounds_table(_rounds(report)),
        _references(list(report.get("references") or ())),
    ]
    if phrases:
        parts.append(
            "<h2>What each phrase and sentence attended to</h2><div class='card'>"
            f"<img id='phrases' style='max-width:100%' alt='per-phrase attention' src='{phrases}'></div>"
        )
    if report.get("description"):
        parts.append(
            f"<h2>The model's description</h2><div class='card'>{html.escape(report['description'])}</div>"
        )
    parts.append(f"<h2>ABC</h2><pre id='abc'>{html.escape(abc)}</pre></main></body></html>")
    target = folder / REPORT_HTML
    target.write_text("".join(parts), "utf-8")
    return target


def _penalty(value: float | None) -> str:
    return "–" if value is None else f"{value:g}"


def _cell(value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}"
    return html.escape(str(value))
