"""What counts as a blank reference (BT-1, BT-10, BT-13): no character a reader sees (review r28, finding 3; review
r29, finding 7), and the form two references a reader sees as equal share (review r29, finding 1)."""

from __future__ import annotations

import pytest

from chalicelib.domain.invoice import comparable_reference, has_visible_character


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "   ",
        "\u00a0",  # no-break space (Zs)
        "\u2003\u3000",  # em space, ideographic space (Zs)
        "\u2028\u2029",  # line and paragraph separators (Zl, Zp)
        "\t\n\r",  # controls (Cc)
        "\u200b",  # zero-width space (Cf): str.strip() keeps it
        "\u2060",  # word joiner (Cf)
        "\ufeff",  # byte order mark (Cf)
        "\u200e\u200f\u202a",  # bidi marks (Cf)
        " \u200b\u00a0\ufeff ",
        "\u3164",  # Hangul filler (Lo)
        "\u115f\u1160",  # Hangul choseong and jungseong fillers (Lo)
        "\uffa0",  # halfwidth Hangul filler (Lo)
        "\u2800",  # braille pattern blank (So)
        "\u034f",  # combining grapheme joiner (Mn), alone
        "\u17b4\u17b5",  # Khmer inherent vowels (Mn)
        "\u180e",  # Mongolian vowel separator
        "\u0301",  # a combining acute accent on nothing (Mn)
        "\u200b\u20dd",  # an enclosing circle around a zero-width space (Me)
        " \u3164\u2800\u034f ",
    ],
)
def test_a_text_of_spaces_controls_and_format_characters_only_has_nothing_visible(text):
    assert has_visible_character(text) is False


@pytest.mark.parametrize(
    "text", ["F-1", "0", "\u200bF\u200b", " 1 ", "é", "№", "\u4e00", "-", "\u00a0x", "e\u0301", "\u3164F"]
)
def test_one_visible_character_makes_a_text_visible(text):
    assert has_visible_character(text) is True


@pytest.mark.parametrize(
    "text",
    [
        "F-1\u200b",
        "\u2060F-1",
        "\ufeffF-1",
        "F\u200b-1",
        "F-1\u00a0\u200b",
        " \u200eF-1\u200f ",
        "F-1\u3164",
        "\u2800F-\u034f1",
    ],
)
def test_invisible_characters_anywhere_in_a_reference_do_not_make_it_another(text):
    assert comparable_reference(text) == "F-1"


@pytest.mark.parametrize("text", ["F-1", " F-1 ", "\tF-1\n", "\u00a0F 1\u3000", "é\u0301-№", "F-\u4e00"])
def test_a_reference_without_invisible_characters_compares_as_its_strip(text):
    """What number claims were keyed on before review r29: claims already written must still match."""
    assert comparable_reference(text) == text.strip()


def test_drawn_format_characters_are_visible_and_keep_numbers_apart():
    """Review r31: the Arabic number sign (Cf) is drawn: a number holding it is another number, not a duplicate."""
    from chalicelib.domain.invoice import comparable_reference, has_visible_character

    assert has_visible_character("\u0600")
    assert comparable_reference("\u06001234") != comparable_reference("1234")
    assert comparable_reference("F-1\u200b") == comparable_reference("F-1")  # an invisible one still is stripped
