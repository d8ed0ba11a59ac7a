"""Marking a motivation's checked claims: each claim highlighted once, as clean HTML.

Claims are located on the plain text as character spans (longest claim first, the first
occurrence that overlaps no span already taken), and the text is escaped once, at the end,
so one claim's mark can never land inside another's markup."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

from pictune.explain.consistency import Claim

VERDICT_CLASS = {"consistent": "ok", "inconsistent": "bad"}


@dataclass(frozen=True)
class ClaimSpan:
    """Where one claim sits in the motivation: [start, end) in characters."""

    start: int
    end: int
    claim: Claim


def verdict_class(verdict: str) -> str:
    """The CSS class of a verdict: ok, bad, or unk (unverifiable)."""
    return VERDICT_CLASS.get(verdict, "unk")


def claim_spans(motivation: str, claims: Sequence[Claim]) -> list[ClaimSpan]:
    """Non-overlapping spans of the claims in `motivation`, in text order.

    Matching ignores case (a claim may open a sentence); a claim whose every occurrence
    overlaps a longer claim's span, or that does not occur, is left unmarked."""
    folded = motivation.casefold()
    taken: list[ClaimSpan] = []
    for claim in sorted(claims, key=lambda c: -len(c.text)):
        needle = claim.text.casefold()
        if not needle.strip() or len(needle) != len(claim.text):
            continue  # casefold changed the length ('ß' → 'ss'): offsets would not line up
        start = folded.find(needle)
        while start >= 0:
            end = start + len(needle)
            if all(end <= span.start or start >= span.end for span in taken):
                taken.append(ClaimSpan(start, end, claim))
                break
            start = folded.find(needle, start + 1)
    return sorted(taken, key=lambda span: span.start)


def marked_motivation(motivation: str, claims: Sequence[Claim]) -> str:
    """The motivation as HTML, each located claim in a `<mark>` whose title gives its check."""
    if len(motivation.casefold()) != len(motivation):
        claims = ()  # offsets of the folded text would not match the original
    parts: list[str] = []
    position = 0
    for span in claim_spans(motivation, claims):
        claim = span.claim
        title = f"{claim.aspect}: {claim.verdict} — {claim.evidence}"
        parts.append(html.escape(motivation[position : span.start]))
        parts.append(
            f'<mark class="{verdict_class(claim.verdict)}" title="{html.escape(title)}">'
            f"{html.escape(motivation[span.start : span.end])}</mark>"
        )
        position = span.end
    parts.append(html.escape(motivation[position:]))
    return "".join(parts).replace("\n", "<br>")
