"""Does the motivation describe the music it came with? ("semantic drift")

Claims about key and mode, tempo, meter, instruments, dynamics, register and texture are
read from the motivation (with negation: "not in a major key") and compared with what the
tune measures. Each claim comes back with a verdict and its evidence."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from pictune.abc.headers import tempo_qpm
from pictune.abc.text import header_fields
from pictune.music.keys import GM_NAMES, instrument_name
from pictune.music.score import Score

NEGATIONS = re.compile(
    r"\b(not|no|never|rather than|instead of|isn't|aren't|without|avoid\w*)\b[\w\s-]{0,24}$", re.I
)
TEMPO_WORDS = {
    "largo": (None, 66), "adagio": (None, 80), "lento": (None, 72), "slow": (None, 92), "slowly": (None, 92),
    "andante": (66, 116), "moderato": (96, 132), "moderate": (80, 132), "allegro": (112, None),
    "fast": (112, None), "quick": (112, None), "lively": (100, None), "brisk": (108, None),
    "presto": (150, None), "vivace": (130, None), "energetic": (100, None),
}  # fmt: skip
METER_WORDS = {
    "waltz": ("3/4", "3/8", "6/8"),
    "jig": ("6/8", "9/8", "12/8"),
    "march": ("2/4", "4/4", "6/8", "C", "C|", "2/2"),
    "reel": ("4/4", "2/2", "C", "C|"),
}
MUSIC_WORDS = re.compile(
    r"\b(piece|music|tune|melody|song|tempo|rhythm|movement|dance|waltz|march|jig|reel|pulse)\b"
)
SOFT = {"soft", "softly", "quiet", "quietly", "pianissimo", "hushed", "gentle dynamics"}
LOUD = {"loud", "forte", "fortissimo", "powerful", "booming"}
INSTRUMENT_WORDS = sorted(
    {*GM_NAMES.values(), "strings", "horn", "guitar", "bass", "drums"}, key=len, reverse=True
)


@dataclass(frozen=True)
class Claim:
    aspect: str  # key, mode, tempo, meter, instrument, dynamics, register, texture
    text: str  # the words in the motivation
    negated: bool
    verdict: str  # consistent, inconsistent, unverifiable
    evidence: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Facts:
    tonic: str | None
    mode: str | None
    tempo: float | None
    meter: str
    instruments: tuple[str, ...]
    dynamics: tuple[str, ...]
    mean_pitch: float | None
    voices: int

    @classmethod
    def of(cls, abc: str, score: Score | None = None) -> Facts:
        """The facts of a tune; `score` is its notes when the caller has them already."""
        fields = header_fields(abc)
        key = fields.get("K", "").split("%")[0].strip()
        match = re.match(
            r"([A-G][#b]?)\s*(m(?:in(?:or)?)?|maj(?:or)?|dor\w*|mix\w*|phr\w*|lyd\w*|loc\w*|aeo\w*)?\b",
            key,
            re.I,
        )
        tonic = match.group(1) if match else None
        word = (match.group(2) or "").lower() if match else ""
        mode = (
            "minor"
            if word.startswith(("m", "aeo"))
            and not word.startswith("maj")
            and not word.startswith("mix")
            else ("major" if word in ("", "maj", "major") else word[:3])
        )
        score = score if score is not None else Score.from_abc(abc)
        named = [
            instrument_name(t.program, t.is_drum)
            for i, t in enumerate(score.tracks)
            if (score.track == i).any()
        ]
        voice_names = re.findall(r'V:\S+.*?name="([^"]+)"', abc)
        instruments = tuple(
            dict.fromkeys([*(n.lower() for n in named), *(v.lower() for v in voice_names)])
        )
        dynamics = tuple(re.findall(r"!(ppp|pp|p|mp|mf|f|ff|fff)!", abc))
        pitched = score.pitch[~score.is_drum_note]
        return cls(
            tonic=tonic if key else None,
            mode=mode if key else None,
            tempo=tempo_qpm(fields["Q"]) if "Q" in fields else score.tempo_qpm,
            meter=fields.get("M", f"{score.meter[0]}/{score.meter[1]}").strip(),
            instruments=instruments,
            dynamics=dynamics,
            mean_pitch=float(pitched.mean()) if pitched.size else None,
            voices=len({int(t) for t in score.track.tolist()}),
        )


def _negated(sentence: str, start: int) -> bool:
    return bool(NEGATIONS.search(sentence[:start]))


def _verdict(holds: bool, negated: bool) -> str:
    return "consistent" if holds != negated else "inconsistent"


def check_motivation(motivation: str, abc: str, score: Score | None = None) -> list[Claim]:
    """Every checkable claim of the motivation, with its verdict against the tune (`score`:
    the tune's notes when the caller has them, so the tune is not converted again)."""
    facts = Facts.of(abc, score)
    claims: list[Claim] = []
    for sentence in re.split(r"(?<=[.!?;])\s+", motivation):
        lowered = sentence.lower()
        claims += _key_claims(sentence, facts)
        claims += _tempo_claims(lowered, facts)
        claims += _meter_claims(lowered, facts)
        claims += _word_claims(lowered, facts)
    return claims


def _key_claims(sentence: str, facts: Facts) -> list[Claim]:
    found = []
    text = sentence.lower()
    for match in re.finditer(r"\b([a-g])(?:\s*|-)(#|sharp|b|flat)?\s*(major|minor)\b", text):
        if sentence[match.start(1)] == "a" and not match.group(2):
            continue  # the article: "a minor key" speaks of the mode, not of A minor
        tonic = match.group(1).upper() + {"#": "#", "sharp": "#", "b": "b", "flat": "b"}.get(
            match.group(2) or "", ""
        )
        negated = _negated(text, match.start())
        holds = facts.tonic == tonic and facts.mode == match.group(3)
        found.append(
            Claim(
                "key",
                sentence[match.start() : match.end()],
                negated,
                _verdict(holds, negated),
                f"the tune is in {facts.tonic} {facts.mode}",
            )
        )
    if found:
        return found
    for match in re.finditer(
        r"\b(?:(relative|parallel)\s+)?(major|minor)\b(?:\s+(key|mode|tonality|scale|third))?", text
    ):
        if not (match.group(1) or match.group(3)):
            continue
        mode = match.group(2)
        negated = _negated(text, match.start())
        holds = facts.mode == mode
        found.append(
            Claim(
                "mode",
                match.group(0),
                negated,
                _verdict(holds, negated),
                f"the key signature is {facts.tonic} {facts.mode}",
            )
        )
    return found


def _tempo_claims(text: str, facts: Facts) -> list[Claim]:
    if facts.tempo is None:
        return []
    found = []
    bpm = re.search(r"(\d{2,3})\s*(?:bpm|beats per minute|quarter notes a minute)", text)
    if bpm:
        value = float(bpm.group(1))
        holds = abs(value - facts.tempo) <= max(8.0, 0.1 * facts.tempo)
        found.append(
            Claim(
                "tempo",
                bpm.group(0),
                False,
                _verdict(holds, False),
                f"Q gives {facts.tempo:g} quarter notes a minute",
            )
        )
        return found
    for match in re.finditer(
        r"\b(?:(moderately|rather|fairly|quite|very)\s+)?("
        + "|".join(TEMPO_WORDS)
        + r")\b(?:\s+(tempo|pace|pulse|piece|movement|melody|waltz|dance))?",
        text,
    ):
        word, qualifier = match.group(2), match.group(1)
        about_music = match.group(3) or qualifier or MUSIC_WORDS.search(text)
        bare = ("lively", "energetic", "slow", "slowly", "fast", "quick", "moderate")
        if word in bare and not about_music:
            continue  # "the slow river" describes the picture, not the music
        low, high = TEMPO_WORDS[word]
        if qualifier == "moderately" and word in ("fast", "quick", "slow"):
            low, high = (96, 150) if word != "slow" else (60, 100)
        negated = _negated(text, match.start())
        holds = (low is None or facts.tempo >= low) and (high is None or facts.tempo <= high)
        bounds = f"{low or 0}–{high or '∞'}"
        found.append(
            Claim(
                "tempo",
                match.group(0),
                negated,
                _verdict(holds, negated),
                f"Q gives {facts.tempo:g} quarter notes a minute ('{word}' means {bounds})",
            )
        )
    return found


def _meter_claims(text: str, facts: Facts) -> list[Claim]:
    found = []
    for match in re.finditer(
        r"\b(\d{1,2}/\d{1,2})\b(?:\s*(?:time|meter|metre|time signature))?", text
    ):
        negated = _negated(text, match.start())
        holds = (
            match.group(1) == facts.meter
            or (match.group(1) == "4/4" and facts.meter == "C")
            or (match.group(1) == "2/2" and facts.meter == "C|")
        )
        found.append(
            Claim("meter", match.group(0), negated, _verdict(holds, negated), f"M:{facts.meter}")
        )
    for word, meters in METER_WORDS.items():
        for match in re.finditer(rf"\b{word}(?:-like|\s+time|\s+rhythm)?\b", text):
            negated = _negated(text, match.start())
            found.append(
                Claim(
                    "meter",
                    match.group(0),
                    negated,
                    _verdict(facts.meter in meters, negated),
                    f"M:{facts.meter}",
                )
            )
    return found


def _word_claims(text: str, facts: Facts) -> list[Claim]:
    found = []
    for word in INSTRUMENT_WORDS:
        for match in re.finditer(rf"\b{re.escape(word)}s?\b", text):
            if any(word in other and word != other for other in INSTRUMENT_WORDS if other in text):
                continue  # "bass" inside "acoustic bass" is counted once, as the longer name
            negated = _negated(text, match.start())
            holds = any(word in name or name in word for name in facts.instruments)
            found.append(
                Claim(
                    "instrument",
                    match.group(0),
                    negated,
                    _verdict(holds, negated),
                    "instruments: " + (", ".join(facts.instruments) or "none named"),
                )
            )
    soft_words = [w for w in SOFT if re.search(rf"\b{w}\b", text)]
    loud_words = [w for w in LOUD if re.search(rf"\b{w}\b", text)]
    if (soft_words or loud_words) and facts.dynamics:
        levels = {"ppp": 0, "pp": 1, "p": 2, "mp": 3, "mf": 4, "f": 5, "ff": 6, "fff": 7}
        mean = sum(levels[d] for d in facts.dynamics) / len(facts.dynamics)
        word = (soft_words or loud_words)[0]
        negated = _negated(text, text.find(word))
        holds = mean <= 3.5 if soft_words else mean >= 4.5
        found.append(
            Claim(
                "dynamics",
                word,
                negated,
                _verdict(holds, negated),
                "dynamics marked: " + " ".join(facts.dynamics),
            )
        )
    register = re.search(r"\b(high|low|deep)\s+(register|pitch(?:es)?|notes|range)\b", text)
    if register and facts.mean_pitch is not None:
        negated = _negated(text, register.start())
        holds = facts.mean_pitch >= 72 if register.group(1) == "high" else facts.mean_pitch <= 60
        found.append(
            Claim(
                "register",
                register.group(0),
                negated,
                _verdict(holds, negated),
                f"mean pitch {facts.mean_pitch:.1f} (MIDI; 60 is middle C)",
            )
        )
    texture = re.search(r"\b(solo|single melod\w*|unaccompanied|monophon\w*)\b", text)
    if texture:
        negated = _negated(text, texture.start())
        found.append(
            Claim(
                "texture",
                texture.group(0),
                negated,
                _verdict(facts.voices == 1, negated),
                f"{facts.voices} voice(s) play",
            )
        )
    return found


def inconsistencies(claims: list[Claim]) -> list[Claim]:
    return [c for c in claims if c.verdict == "inconsistent"]
