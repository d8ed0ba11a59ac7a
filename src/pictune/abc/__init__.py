"""The `abc` layer: from a model's reply to valid ABC, with diagnostics, repairs and MIDI.

It knows nothing of images or models; every other layer builds on it.
"""

from pictune.abc.convert import (
    MidiConversion,
    abc_to_midi,
    abc_to_midi_many,
    abc_to_score,
    midi_to_abc,
    midi_to_score,
    score_to_abc,
    score_to_midi,
)
from pictune.abc.diagnostics import Diagnostic, Fix, Severity
from pictune.abc.extract import Extraction, extract
from pictune.abc.playable import PlayableTune, make_playable
from pictune.abc.repair import RepairResult, repair
from pictune.abc.text import decode_abc, header_fields, split_tunes
from pictune.abc.validate import Validation, validate

__all__ = [
    "Diagnostic",
    "Extraction",
    "Fix",
    "MidiConversion",
    "PlayableTune",
    "RepairResult",
    "Severity",
    "Validation",
    "abc_to_midi",
    "abc_to_midi_many",
    "abc_to_score",
    "decode_abc",
    "extract",
    "header_fields",
    "make_playable",
    "midi_to_abc",
    "midi_to_score",
    "repair",
    "score_to_abc",
    "score_to_midi",
    "split_tunes",
    "validate",
]
