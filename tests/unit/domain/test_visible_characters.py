"""What counts as a blank reference (BT-1, BT-10, BT-13): no character a reader sees (review r28, finding 3)."""

from __future__ import annotations

import pytest

from chalicelib.domain.invoice import has_visible_character


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
    ],
)
def test_a_text_of_spaces_controls_and_format_characters_only_has_nothing_visible(text):
    assert has_visible_character(text) is False


@pytest.mark.parametrize("text", ["F-1", "0", "\u200bF\u200b", " 1 ", "é", "№", "\u4e00", "-", "\u00a0x"])
def test_one_visible_character_makes_a_text_visible(text):
    assert has_visible_character(text) is True
