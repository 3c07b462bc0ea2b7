"""The supplier name in an original's metadata: percent-encoded, cut to a byte budget on a character boundary."""

from __future__ import annotations

import pytest

from chalicelib.services import layout


@pytest.mark.parametrize("name", ["Atelier Numérique SARL", "東京都庁" * 10, "\U0001f3ed" * 40, "a%b*c"])
def test_a_name_that_fits_is_kept_whole(name):
    encoded = layout.encode_name(name)
    assert encoded.isascii() and len(encoded) <= layout.NAME_METADATA_BYTES
    assert layout.decode_name(encoded) == name
    assert not layout.name_was_cut({layout.META_SUPPLIER_NAME: encoded})


@pytest.mark.parametrize("name", ["\U0001f3ed" * 200, "é" * 200, "x" + "東" * 199, "a" * 30 + "\U0001f3ed" * 170])
def test_a_long_name_is_cut_on_a_character_and_marked(name):
    encoded = layout.encode_name(name)
    assert encoded.isascii() and len(encoded) <= layout.NAME_METADATA_BYTES
    decoded = layout.decode_name(encoded)
    assert decoded.endswith("…") and name.startswith(decoded[:-1]) and len(decoded) > 1
    assert "\ufffd" not in decoded  # no %-escape split
    assert layout.name_was_cut({layout.META_SUPPLIER_NAME: encoded})


def test_no_metadata_name_was_not_cut():
    assert not layout.name_was_cut({})
    assert layout.decode_name("") == ""
