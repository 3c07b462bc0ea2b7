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


@pytest.mark.parametrize(
    "variant",
    [
        "fac-é-5",  # case
        "FAC-E\u0301-5",  # NFD, canonically equal
        "FAC-É-\uff15",  # full-width digit
        "\uff26\uff21\uff23\uff0d\u00c9\uff0d5",  # full-width letters and hyphen-minus
        *[f"FAC{dash}É{dash}5" for dash in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"],
        "F\u0410\u0421-É-5",  # Cyrillic А and С
        "f\u0430\u0441-é-5",  # their small letters
        "F\u0391C-É-5",  # Greek Alpha
        " FAC-\u200bÉ-5\u00a0",  # invisible and surrounding characters, as before
    ],
)
def test_numbers_a_reader_takes_for_the_same_share_their_number_key(variant):
    """Review r42 §1: each of these was accepted as a new invoice beside FAC-É-5."""
    from chalicelib.domain.invoice import number_key

    assert number_key(variant) == number_key("FAC-É-5") == "FAC-É-5"


def test_spaces_fold_to_one_and_leading_zeros_stay():
    from chalicelib.domain.invoice import number_key

    assert number_key("FAC\u00a0É\u2002 11") == number_key("fac \u3000é 11") == "FAC É 11"
    assert number_key("FAC-0010") != number_key("FAC-10")  # read differently: two numbers


@pytest.mark.parametrize(
    "separator", ["\t", "\r", "\n", "\r\n", "\x0b", "\x0c", "\x85", "\u2028", "\u2029", " \t ", "\u00a0\n"]
)
def test_a_tab_or_line_break_inside_a_number_is_a_space(separator):
    """Review r54 F1: 'F\\t2026\\t77' (shown 'F 2026 77' by screens and e-mails) had a key of its own, where a
    no-break space was already folded."""
    from chalicelib.domain.invoice import number_key

    assert number_key(f"F{separator}2026{separator}77") == number_key("F 2026 77") == "F 2026 77"


@pytest.mark.parametrize("number", ["F-1", " F-2026/001\t", "\u00a0FAC 2026_1+A.B\u3000", "F-1\u200b"])
def test_an_upper_case_ascii_number_keeps_the_key_it_had(number):
    """Claims written before review r42 keyed on comparable_reference: those of such numbers still match."""
    from chalicelib.domain.invoice import number_key

    assert number_key(number) == comparable_reference(number)


@pytest.mark.parametrize(
    "number", ["fac-é-5", "FAC-E\u0301-5", "F\u0410\u0421\u2011\uff11", "straße №1", "LOT-5µ", "F-\u043d1", "F-ν1"]
)
def test_number_key_is_its_own_key(number):
    from chalicelib.domain.invoice import number_key

    assert number_key(number_key(number)) == number_key(number)


def test_number_key_is_its_own_key_for_every_character():
    """Review r44 F3 (the reviewer's brute force): each assigned code point, between a letter and a digit. Unassigned
    and private-use ones have no case, no decomposition and no look-alike: their key is themselves."""
    import sys
    import unicodedata

    from chalicelib.domain.invoice import number_key

    numbers = (
        f"A{chr(c)}1" for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) not in ("Cn", "Co", "Cs")
    )
    assert [n for n in numbers if number_key(number_key(n)) != number_key(n)] == []


@pytest.mark.parametrize(
    "small, latin",
    [
        ("LOT-5\u00b5", "LOT-5M"),  # micro sign (NFKC: Greek mu), drawn as no Latin letter: its capital is drawn M
        ("LOT-5\u03bc", "LOT-5M"),  # Greek mu
        ("F-\u03b72", "F-H2"),  # Greek eta looks like n, its capital like H
        ("F-\u03b72", "F-N2"),
        ("F-\u03bd1", "F-N1"),  # Greek nu looks like v, its capital like N
        ("F-\u043d1", "F-H1"),  # Cyrillic en, в, т, м: small capitals, not the Latin letters their capitals are
        ("F-\u04321", "F-B1"),
        ("F-\u04421", "F-T1"),
        ("F-\u043c1", "F-M1"),
    ],
)
def test_a_small_letter_is_not_the_latin_letter_its_capital_looks_like(small, latin):
    """Review r44 F3: upper-cased before the look-alikes were mapped, LOT-5µ was a duplicate of LOT-5M."""
    from chalicelib.domain.invoice import number_key

    assert number_key(small) != number_key(latin)


@pytest.mark.parametrize(
    "lookalike, latin",
    [
        ("F-\u03bd1", "F-v1"),  # Greek nu
        ("\u0430\u0435\u043e\u0440\u0441-1", "aeopc-1"),  # Cyrillic а е о р с
        ("\u0443\u0445\u0456\u0458\u0455-1", "yxijs-1"),  # Cyrillic у х і ј ѕ
        ("\u03bf\u03c1\u03b9-1", "opi-1"),  # Greek omicron, rho, iota
        ("\u0451\u0301-1", "\u00eb\u0301-1"),  # Cyrillic ё with an accent as ë with it
        ("LOT-\u04bb1", "LOT-h1"),  # Cyrillic shha
    ],
)
def test_a_small_look_alike_is_the_latin_small_letter_it_looks_like(lookalike, latin):
    from chalicelib.domain.invoice import number_key

    assert number_key(lookalike) == number_key(latin) == number_key(latin.upper())


def test_a_capital_look_alike_folds_as_its_small_letter_does():
    """Review r46 F3: Cyrillic small shha folded to H while its capital stayed apart."""
    from chalicelib.domain.invoice import number_key

    assert number_key("LOT-\u04ba1") == number_key("LOT-H1") == number_key("LOT-\u04bb1")
