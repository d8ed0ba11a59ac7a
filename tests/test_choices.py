"""The listener's choices beside the prompt: checked once, turned into words the prompt
understanding knows, and the length into the bars setting."""

from __future__ import annotations

import pytest

from pictune.errors import InputError
from pictune.models.offline.plan import INSTRUMENTS as PLAN_INSTRUMENTS
from pictune.models.offline.prompt import VOCABULARY
from pictune.pipeline.choices import INSTRUMENTS, MOODS, Choices, with_choices
from pictune.pipeline.config import Settings


def test_choices_become_prompt_words_after_the_prompt():
    choices = Choices(
        bars=8, tempo=90, key="D minor", meter="3/4", instrument="violin", mood="calm"
    )
    assert choices.prompt("a slow tune") == "a slow tune; calm, in D minor, 3/4, 90 bpm, for violin"
    assert Choices().prompt(None) is None
    assert Choices(meter="6/8").prompt("") == "6/8"


def test_every_offered_word_is_one_the_prompt_understands():
    assert set(INSTRUMENTS) <= set(PLAN_INSTRUMENTS)
    assert all(mood in VOCABULARY for mood in MOODS)


def test_the_offline_plan_follows_the_choices():
    from PIL import Image

    from pictune.models.offline.analysis import analyse
    from pictune.models.offline.plan import plan_from_analysis

    choices = Choices(tempo=90, key="D minor", meter="3/4", instrument="flute")
    analysis = analyse(Image.new("RGB", (64, 64), (250, 200, 40)))  # bright: major, lively
    plan = plan_from_analysis(analysis, choices.prompt(None))
    assert (plan.tonic, plan.mode, plan.meter, plan.tempo_qpm) == ("D", "minor", "3/4", 90)
    assert plan.melody_program == PLAN_INSTRUMENTS["flute"]
    assert plan.unused_words == ()
    # The picture's own tune instrument, chosen again, changes nothing and is said so.
    again = plan_from_analysis(analysis, Choices(instrument="violin").prompt(None))
    assert again.melody_program == PLAN_INSTRUMENTS["violin"]
    assert again.unused_words == ("violin (already so)",)


def test_form_values_are_read_and_empty_ones_left_out():
    choices = Choices.from_form({"bars": " 12 ", "tempo": "", "key": "Eb major", "mood": None})
    assert choices == Choices(bars=12, key="Eb major")
    assert choices.to_dict() == {"bars": 12, "key": "Eb major"}


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"bars": "3"}, "bars must be between 4 and 64, not 3"),
        ({"bars": "65"}, "bars must be between 4 and 64, not 65"),
        ({"bars": "eight"}, "bars must be a whole number, not 'eight'"),
        ({"tempo": "20"}, "tempo must be between 30 and 240"),
        ({"tempo": "90.5"}, "tempo must be a whole number"),
        ({"key": "H minor"}, "key 'H minor' is not a key like"),
        ({"key": "D"}, "key 'D' is not a key like"),
        ({"meter": "5/4"}, "unknown meter '5/4'; use one of 2/4, 3/4, 4/4, 6/8"),
        ({"instrument": "kazoo"}, "unknown instrument 'kazoo'"),
        ({"mood": "hungry"}, "unknown mood 'hungry'"),
    ],
)
def test_a_bad_choice_is_one_clear_line(form, message):
    with pytest.raises(InputError) as error:
        Choices.from_form(form)
    assert message in str(error.value) and "\n" not in str(error.value)


class _Composer:
    def __init__(self) -> None:
        self.settings = Settings()


def test_bars_change_a_copy_of_the_composer_only():
    composer = _Composer()
    longer = with_choices(composer, Choices(bars=32))
    assert longer.settings.bars == 32 and composer.settings.bars == 16
    assert with_choices(composer, Choices(tempo=90)) is composer
