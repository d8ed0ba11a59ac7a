"""The report's revision section: the parent (a link to its page), the request in words,
what changed and what was kept, and each checkable part of the request with its verdict."""

from __future__ import annotations

import html
import os
from pathlib import Path
from typing import Any

VERDICT_CLASS = {True: "ok", False: "bad", None: "unk"}
VERDICT_WORDS = {True: "honoured", False: "not honoured", None: "not checkable"}


def _items(label: str, lines: list[str]) -> str:
    if not lines:
        return ""
    rows = "".join(f"<li>{html.escape(line)}</li>" for line in lines)
    return f"<p style='margin:8px 0 2px'><b>{label}</b></p><ul style='margin:0'>{rows}</ul>"


def lineage_section(lineage: dict[str, Any] | None, folder: Path) -> str:
    """The section for a revision's report.html; empty for an original composition."""
    if not lineage:
        return ""
    parent = str(lineage.get("parent") or "")
    title = html.escape(lineage.get("parent_title") or "the previous version")
    if parent:
        link = os.path.relpath(Path(parent) / "report.html", folder)
        source = f"<a id='parent-link' href='{html.escape(link)}'>{title}</a>"
    else:
        source = title
    generation = int(lineage.get("generation") or 1)
    checks = list(lineage.get("checks") or ())
    rows = "".join(
        f"<tr class='{VERDICT_CLASS[c['honoured']]}'><td>{html.escape(c['words'])}</td>"
        f"<td>{html.escape(c['aspect'])}</td><td>{html.escape(c['expected'])}</td>"
        f"<td>{html.escape(c['before'])}</td><td>{html.escape(c['found'])}</td>"
        f"<td>{VERDICT_WORDS[c['honoured']]}</td></tr>"
        for c in checks
    )
    table = (
        "<div class='scroll'><table id='request-checks'><tr><th>asked</th><th>aspect</th>"
        f"<th>wanted</th><th>before</th><th>now</th><th>verdict</th></tr>{rows}</table></div>"
        if checks
        else "<p class='muted'>No part of the request can be checked on the music.</p>"
    )
    return (
        "<h2>Revision</h2><div class='card' id='lineage'>"
        f"<p style='margin-top:0'>Revised from {source} (revision {generation}), as asked: "
        f"<q id='request'>{html.escape(lineage.get('request') or '')}</q></p>"
        + _items("Changed", list(lineage.get("changes") or ()) or ["nothing in the music"])
        + _items("Kept", list(lineage.get("kept") or ()))
        + _items("No effect", list(lineage.get("unused") or ()))
        + table
        + "</div>"
    )
