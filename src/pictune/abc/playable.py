"""make_playable(): from a model's reply to a validated tune, in a bounded number of passes."""

from __future__ import annotations

from dataclasses import dataclass

from pictune.abc.diagnostics import Fix
from pictune.abc.extract import Extraction, extract
from pictune.abc.repair import repair
from pictune.abc.validate import Validation, validate
from pictune.errors import AbcError

MAX_REPAIR_PASSES = 2


@dataclass(frozen=True)
class PlayableTune:
    """The tune after extraction and repair, its final validation, and every fix made."""

    abc: str
    extraction: Extraction
    validation: Validation
    fixes: tuple[Fix, ...]

    @property
    def ok(self) -> bool:
        return self.validation.ok

    @property
    def motivation(self) -> str:
        return self.extraction.motivation


def make_playable(
    reply: str, *, fix_bar_lengths: bool = False, passes: int = MAX_REPAIR_PASSES
) -> PlayableTune:
    """Extract the tune from `reply`, validate it, and repair it (at most `passes` times).

    Raises AbcError when the reply holds no tune at all; otherwise returns the best text
    reached, valid or not, so that callers can show or feed back its diagnostics.
    """
    extraction = extract(reply)
    if extraction.abc is None:
        raise AbcError("the reply contains no ABC tune")
    abc = extraction.abc
    validation = validate(abc)
    fixes: list[Fix] = []
    for _ in range(max(0, passes)):
        if validation.ok and not (fix_bar_lengths and validation.warnings):
            break
        result = repair(abc, validation.diagnostics, fix_bar_lengths=fix_bar_lengths)
        if not result.changed or result.abc == abc:
            break
        fixes.extend(result.fixes)
        abc = result.abc
        validation = validate(abc)
    return PlayableTune(abc, extraction, validation, tuple(fixes))
