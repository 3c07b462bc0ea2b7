"""_vat.find_path answers exactly what lxml's find("a/b/…") answers (the first match in document order)."""

from __future__ import annotations

import copy
import random

import pytest
from lxml import etree

from chalicelib.validation.parsing import parse_xml
from chalicelib.validation.rules import _vat, vat_intra_community
from tests.unit.validation.conformance import MISSING, entries, read

_PATHS = [
    vat_intra_community._DELIVERY_DATE,
    vat_intra_community._DELIVER_TO_COUNTRY,
    vat_intra_community._CII_DELIVERY_DATE,
    vat_intra_community._CII_DELIVER_TO_COUNTRY,
]
_SETTLEMENT_PATHS = list(vat_intra_community._CII_PERIOD)


def _check(root) -> int:
    """Compares every path; answers how many found something."""
    found = 0
    for el, tags in [(root, t) for t in _PATHS] + [
        (s, t) for s in root.iter(_vat.RAM + "ApplicableHeaderTradeSettlement") for t in _SETTLEMENT_PATHS
    ]:
        expected = el.find("/".join(tags))
        assert _vat.find_path(el, tags) is expected
        found += expected is not None
    return found


def _shuffled(data: bytes, seed: int) -> bytes:
    """Duplicates and removals along the paths, so that later branches hold the first match."""
    rng = random.Random(seed)
    root = etree.fromstring(data)
    names = {tag for tags in _PATHS + _SETTLEMENT_PATHS for tag in tags}
    for el in [el for el in root.iter() if el.tag in names]:
        parent = el.getparent()
        if parent is None:
            continue
        op = rng.randrange(3)
        if op == 0:  # an earlier twin without its last element: the match stays in the later branch
            twin = copy.deepcopy(el)
            leaf = list(twin.iter())[-1]
            if leaf is not twin:
                leaf.getparent().remove(leaf)
            parent.insert(parent.index(el), twin)
        elif op == 1 and rng.random() < 0.3:
            parent.remove(el)
    return etree.tostring(root)


def _chains(tags: tuple[str, ...], seed: int):
    """A root with several branches along the path, some cut short, some with comments, in random order."""
    rng = random.Random(seed)
    root = etree.Element("root")
    for _ in range(rng.randint(1, 4)):
        el = root
        for tag in tags[: rng.randint(1, len(tags))]:
            if rng.random() < 0.2:
                el.append(etree.Comment("x"))
            el = etree.SubElement(el, tag)
    return root


@pytest.mark.parametrize("tags", _PATHS + _SETTLEMENT_PATHS)
def test_find_path_matches_lxml_find_on_branches(tags):
    found = 0
    for seed in range(200):
        root = _chains(tags, seed)
        expected = root.find("/".join(tags))
        assert _vat.find_path(root, tags) is expected
        found += expected is not None
    assert 20 < found < 200


@pytest.mark.skipif(not entries(), reason=MISSING)
def test_find_path_matches_lxml_find_on_corpus():
    found = 0
    for i, entry in enumerate(entries()):
        data = read(entry)
        found += _check(parse_xml(data))
        if i % 10 == 0:
            found += _check(etree.fromstring(_shuffled(data, i)))
    assert found > 100
