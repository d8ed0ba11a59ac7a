"""report.html: one self-contained page (no external requests) explaining a composition.

It shows the picture with its heat-map, the score, an audio player, the motivation with
each checked claim marked, the retrieved examples, and the rounds with their metrics as a
table and a plot. It is built from a run's folder (report.json and the files beside it),
for every backend alike (one report.json schema)."""

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
from pictune.music.metrics import REFINEMENT_METRICS

REPORT_HTML = "report.html"
STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;background:#f6f5f2;color:#222}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:1.6em;margin:0 0 4px} h2{font-size:1.15em;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
.row{display:flex;gap:20px;flex-wrap:wrap} .card{background:#fff;border-radius:8px;padding:14px;box-shadow:0 1px 3px #0002}
.pics img{max-width:520px;width:100%;border-radius:6px} .score svg{max-width:100%;height:auto;background:#fff}
table{border-collapse:collapse;font-size:.9em} td,th{padding:4px 8px;border-bottom:1px solid #eee;text-align:left}
.ok{background:#dff3e0} .bad{background:#fbe0df} .unk{background:#eee} mark{padding:0 2px;border-radius:3px}
pre{white-space:pre-wrap;font-size:.85em;background:#fafafa;padding:8px;border-radius:6px;max-height:320px;overflow:auto}
.muted{color:#666;font-size:.9em}
"""


def _data_url(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def _png(path: Path, max_side: int = 900) -> str | None:
    from PIL import Image

    if not path.is_file():
        return None
    with Image.open(path) as image:
        picture = image.convert("RGB")
    picture.thumbnail((max_side, max_side))
    buffer = io.BytesIO()
    picture.save(buffer, "PNG", optimize=True)
    return _data_url(buffer.getvalue(), "image/png")


def _audio(folder: Path) -> str | None:
    """A compact mono 22 kHz WAV of the piece for the page (the full file stays beside it)."""
    midi = folder / "music.mid"
    if not midi.is_file():
        return None
    from pictune.abc.convert import midi_to_score
    from pictune.music.audio import synthesize

    audio, _ = synthesize(midi_to_score(midi.read_bytes()), 22_050)
    mono = (np.clip(audio.mean(axis=0), -1, 1) * 32767).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(22_050)
        out.writeframes(mono.tobytes())
    return _data_url(buffer.getvalue(), "audio/wav")


def _marked_motivation(motivation: str, claims: list[Claim]) -> str:
    text = html.escape(motivation)
    for claim in sorted(claims, key=lambda c: -len(c.text)):
        css = {"consistent": "ok", "inconsistent": "bad"}.get(claim.verdict, "unk")
        needle = html.escape(claim.text)
        title = html.escape(f"{claim.aspect}: {claim.verdict} — {claim.evidence}")
        for variant in (needle, needle.capitalize()):
            if variant in text:
                text = text.replace(
                    variant, f'<mark class="{css}" title="{title}">{variant}</mark>', 1
                )
                break
    return text.replace("\n", "<br>")


def _rounds(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Every round that wrote a tune (a VLM's compose/correct/refine calls, the offline
    composer's drafts), with its validity, distance and metrics."""
    return [
        {
            "kind": r["kind"] + ("" if r.get("accepted") is not False else " (not kept)"),
            "valid": r["valid"],
            "distance": r.get("distance"),
            "metrics": r.get("metrics") or {},
        }
        for r in report["rounds"]
        if r["kind"] != "describe"
    ]


def _chosen_claims(report: dict[str, Any]) -> list[Claim]:
    """The claims checked when the chosen round was judged (stored; not recomputed)."""
    chosen = report.get("chosen_round")
    if chosen is None:
        return []
    return [Claim(**c) for c in report["rounds"][chosen].get("claims", ())]


def _plot(rounds: list[dict[str, Any]]) -> str:
    """An inline SVG bar chart of each round's distance to the references' metric ranges."""
    values = [r["distance"] for r in rounds]
    if not any(v is not None for v in values):
        return ""
    top = max(v or 0 for v in values) or 1.0
    bars = []
    for i, (entry, value) in enumerate(zip(rounds, values, strict=True)):
        height = 0 if value is None else 120 * value / top
        colour = "#4a8" if entry["valid"] else "#c55"
        bars.append(
            f'<rect x="{20 + i * 70}" y="{140 - height:.1f}" width="40" height="{height:.1f}" fill="{colour}"/>'
            f'<text x="{40 + i * 70}" y="158" font-size="11" text-anchor="middle">{html.escape(entry["kind"])}</text>'
            f'<text x="{40 + i * 70}" y="{134 - height:.1f}" font-size="11" text-anchor="middle">'
            f"{'–' if value is None else f'{value:.2f}'}</text>"
        )
    width = 40 + 70 * len(rounds)
    return f'<svg width="{width}" height="165" role="img" aria-label="distance per round">{"".join(bars)}</svg>'


def build_report(folder: str | Path) -> Path:
    """Write `report.html` into a run's folder from its report.json and files."""
    folder = Path(folder)
    report = json.loads((folder / "report.json").read_text("utf-8"))
    abc = report.get("abc") or ""
    motivation = report.get("motivation") or ""
    claims = _chosen_claims(report)
    image_path = Path(report.get("image") or "")
    picture = _png(image_path) if image_path.name else None
    heat = _png(folder / "heatmap.png")
    phrases = _png(folder / "phrases.png", max_side=1100)
    svg = (folder / "score.svg").read_text("utf-8") if (folder / "score.svg").is_file() else ""
    audio = _audio(folder)
    references = report.get("references") or []
    rounds = _rounds(report)
    title = report.get("title") or "pictune"
    parts = [
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)} — pictune</title>",
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; img-src data:; media-src data:; style-src 'unsafe-inline'\">",
        f"<style>{STYLE}</style></head><body><main>",
        f"<h1>{html.escape(title)}</h1><p class='muted'>{html.escape(str(report.get('backend', '')))} · seed {html.escape(str(report.get('seed', '')))}"
        f"{' · prompt: ' + html.escape(str(report['prompt'])) if report.get('prompt') else ''}</p>",
        "<h2>Picture and heat-map</h2><div class='row pics'>",
    ]
    if picture:
        parts.append(
            f"<div class='card'><img id='picture' alt='the picture' src='{picture}'></div>"
        )
    if heat:
        parts.append(
            f"<div class='card'><img id='heatmap' alt='heat-map over the picture' src='{heat}'></div>"
        )
    parts.append("</div>")
    if phrases:
        parts.append(
            f"<h2>What each phrase and sentence attended to</h2><div class='card'><img id='phrases' alt='per-phrase attention' src='{phrases}'></div>"
        )
    parts.append("<h2>Listen</h2>")
    parts.append(
        f"<div class='card'><audio id='player' controls src='{audio}'></audio></div>"
        if audio
        else "<p class='muted'>no audio</p>"
    )
    parts.append(
        f"<h2>Score</h2><div class='card score' id='score'>{svg or '<p class=muted>no score</p>'}</div>"
    )
    parts.append(
        f"<h2>Motivation</h2><div class='card' id='motivation'>{_marked_motivation(motivation, claims)}</div>"
    )
    if claims:
        parts.append(
            "<table id='claims'><tr><th>claim</th><th>aspect</th><th>verdict</th><th>evidence</th></tr>"
        )
        for claim in claims:
            css = {"consistent": "ok", "inconsistent": "bad"}.get(claim.verdict, "unk")
            parts.append(
                f"<tr class='{css}'><td>{html.escape(claim.text)}{' (negated)' if claim.negated else ''}</td>"
                f"<td>{claim.aspect}</td><td>{claim.verdict}</td><td>{html.escape(claim.evidence)}</td></tr>"
            )
        parts.append("</table>")
    if report.get("description"):
        parts.append(
            f"<h2>The model's description</h2><div class='card'>{html.escape(report['description'])}</div>"
        )
    parts.append(
        "<h2>Retrieved examples</h2><table id='references'><tr><th>id</th><th>caption</th><th>score</th></tr>"
    )
    for ref in references:
        parts.append(
            f"<tr><td>{html.escape(str(ref.get('id')))}</td><td>{html.escape(str(ref.get('caption')))}</td><td>{ref.get('score')}</td></tr>"
        )
    parts.append("</table><h2>Rounds</h2>")
    parts.append(_plot(rounds))
    header = "".join(f"<th>{name}</th>" for name in REFINEMENT_METRICS)
    parts.append(
        f"<table id='rounds'><tr><th>round</th><th>valid</th><th>distance</th>{header}</tr>"
    )
    for entry in rounds:
        cells = "".join(
            f"<td>{_cell(entry['metrics'].get(name))}</td>" for name in REFINEMENT_METRICS
        )
        parts.append(
            f"<tr><td>{entry['kind']}</td><td>{'yes' if entry['valid'] else 'no'}</td><td>{_cell(entry['distance'])}</td>{cells}</tr>"
        )
    parts.append(f"</table><h2>ABC</h2><pre>{html.escape(abc)}</pre></main></body></html>")
    target = folder / REPORT_HTML
    target.write_text("".join(parts), "utf-8")
    return target


def _cell(value: object) -> str:
    if value is None:
        return "–"
    return f"{value:.3f}" if isinstance(value, float) else html.escape(str(value))
