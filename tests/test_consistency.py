"""Motivation ↔ music: claims read from the text, each checked against the tune."""

from __future__ import annotations

import pytest

from pictune.explain.consistency import check_motivation, inconsistencies

FAST_MAJOR = (
    "X:1\nT:t\nM:4/4\nL:1/8\nQ:1/4=150\nK:D\n%%MIDI program 40\n"
    "!f!DFAd fdAF|GBdg bgdB|AceA ceAc|d8|]\n"
)
SLOW_MINOR_WALTZ = (
    "X:1\nT:t\nM:3/4\nL:1/8\nQ:1/4=66\nK:Am\n%%MIDI program 73\n!p!A2 c2 e2|a4 g2|f2 e2 d2|c6|]\n"
)


def verdicts(motivation: str, abc: str) -> dict[str, str]:
    return {c.text: c.verdict for c in check_motivation(motivation, abc)}


def test_semantic_drift_is_caught():
    claims = check_motivation(
        "A calm piece in a minor key, slow and tender, for solo piano.", FAST_MAJOR
    )
    bad = {c.aspect for c in inconsistencies(claims)}
    assert {"mode", "tempo", "instrument"} <= bad


def test_a_faithful_motivation_passes():
    text = "A slow waltz in A minor for flute, soft and sad, in 3/4 at 66 bpm."
    claims = check_motivation(text, SLOW_MINOR_WALTZ)
    assert claims and not inconsistencies(claims)
    assert {c.aspect for c in claims} >= {"key", "meter", "instrument", "tempo", "dynamics"}


@pytest.mark.parametrize(
    ("motivation", "abc", "expected"),
    [
        ("The piece is not in a major key.", SLOW_MINOR_WALTZ, "consistent"),
        ("The piece is not in a major key.", FAST_MAJOR, "inconsistent"),
        ("It moves to the relative minor.", SLOW_MINOR_WALTZ, "consistent"),
        ("A moderately fast tempo drives it.", FAST_MAJOR, "consistent"),
        ("A moderately fast tempo drives it.", SLOW_MINOR_WALTZ, "inconsistent"),
        ("An allegro dance.", SLOW_MINOR_WALTZ, "inconsistent"),
        ("Written in D major.", FAST_MAJOR, "consistent"),
        ("Written in D major.", SLOW_MINOR_WALTZ, "inconsistent"),
        ("A gentle waltz rhythm.", SLOW_MINOR_WALTZ, "consistent"),
        ("Not a waltz at all.", FAST_MAJOR, "consistent"),
    ],
)
def test_tricky_phrasing(motivation, abc, expected):
    claims = check_motivation(motivation, abc)
    assert claims, motivation
    assert claims[0].verdict == expected, (motivation, claims)


def test_words_about_the_picture_are_not_tempo_claims():
    assert not [
        c
        for c in check_motivation("The slow river reflects the sky.", FAST_MAJOR)
        if c.aspect == "tempo"
    ]


def test_evidence_names_the_measurement():
    claim = check_motivation("At 90 bpm.", FAST_MAJOR)[0]
    assert claim.verdict == "inconsistent" and "150" in claim.evidence
