"""What the page shows of a finished composition, read from its saved folder.

The summary and the claim marks come from the `explain` layer (the same as report.html);
this module only picks, de-duplicates and formats for the page."""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path
from typing import Any

from pictune.explain.consistency import Claim
from pictune.explain.marks import marked_motivation
from pictune.explain.summary import tune_facts


def slug(title: str, fallback: str = "pictune") -> str:
    """A file-name stem from a title: 'Deep Blue Song' → 'deep-blue-song'."""
    ascii_text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    stem = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:60].strip("-")
    return stem or fallback


def plain(value: Any) -> str:
    """A measure as people write it: 110, 0.971, yes; never 110.000."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        if float(value).is_integer():
            return str(int(value))
        return f"{value:.3g}" if abs(value) < 1 else f"{value:.1f}"
    return str(value)


def _gist(text: str) -> str:
    """A caption reduced to its words, so that captions differing only in numbers or
    punctuation count as one."""
    return " ".join(re.findall(r"[a-z]+", text.lower()))


def references(entries: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The retrieved examples with titles, each tune and each caption's gist once."""
    seen_titles: set[str] = set()
    seen_gists: set[str] = set()
    shown = []
    for entry in entries:
        title = str(entry.get("title") or entry.get("id") or "").strip().rstrip(".")
        caption = str(entry.get("caption") or "")
        gist = _gist(caption)
        if title.lower() in seen_titles or gist in seen_gists:
            continue
        seen_titles.add(title.lower())
        seen_gists.add(gist)
        shown.append({"title": title, "caption": caption, "score": plain(entry.get("score"))})
    return shown


def rounds(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Every round that wrote a tune, with its measures in plain numbers."""
    chosen = report.get("chosen_round")
    return [
        {
            "kind": r["kind"],
            "chosen": index == chosen,
            "kept": r.get("accepted") is not False,
            "valid": r.get("valid", False),
            "distance": plain(r.get("distance")),
            "metrics": {
                name.replace("_", " "): plain(value)
                for name, value in (r.get("metrics") or {}).items()
            },
        }
        for index, r in enumerate(report.get("rounds") or ())
        if r["kind"] != "describe"
    ]


def composition_view(folder: Path) -> dict[str, Any]:
    """Title, summary, marked motivation, ABC, examples and rounds of a saved composition."""
    report = json.loads((folder / "report.json").read_text("utf-8"))
    abc = report.get("abc") or ""
    midi_path = folder / "music.mid"
    facts = tune_facts(abc, midi_path.read_bytes() if midi_path.is_file() else None)
    chosen = report.get("chosen_round")
    claims = (
        [Claim(**c) for c in report["rounds"][chosen].get("claims", ())]
        if chosen is not None
        else []
    )
    title = report.get("title") or "Untitled"
    plan = (report.get("offline") or {}).get("plan") or {}
    return {
        "title": title,
        "slug": slug(title),
        "summary": {
            "key": facts.key,
            "meter": facts.meter,
            "tempo": facts.tempo.replace(" ♩/min", " bpm") if facts.tempo else None,
            "instruments": list(facts.instruments),
            "bars": facts.bars,
            "length": facts.length(),
        },
        "motivation_html": marked_motivation(report.get("motivation") or "", claims),
        "abc": abc,
        "references": references(list(report.get("references") or ())),
        "rounds": rounds(report),
        "understood": plan.get("overrides") or {},
        "unused_words": list(plan.get("unused_words") or ()),
    }
