"""model.xpath_of counts the same-name siblings by walking them: the paths must be those of the reference (a list of
the parent's children with the same tag), for elements, comments and processing instructions alike."""

from __future__ import annotations

from typing import Any

from lxml import etree

from chalicelib.validation.model import _POSITIONS, LOCATION_NAMESPACES, XPATH_MEMO, _step, _string_literal, xpath_of
from chalicelib.validation.parsing import parse_xml
from tests.unit.validation.conformance import entries, read
from tests.unit.validation.samples import cii, ubl


def _reference(el: Any) -> str:
    parts = []
    while el is not None:
        parent = el.getparent()
        step = _step(el)
        if parent is not None:
            same = [c for c in parent if c.tag == el.tag]
            if len(same) > 1:
                step += f"[{same.index(el) + 1}]"
        parts.append(step)
        el = parent
    return "/" + "/".join(reversed(parts))


def test_mixed_siblings():
    root = etree.fromstring(
        b'<r xmlns:a="urn:a"><?p x?><x/><a:x/><!--c--><x><y/><!--d--><y/><z/></x><?p y?><!--e--><x/><a:w/></r>'
    )
    for el in root.iter():
        assert xpath_of(el) == _reference(el)
    assert xpath_of(root[4][2]) == "/r/x[2]/y[2]"
    assert xpath_of(root[6]) == "/r/node()[2]"  # the second comment
    assert xpath_of(None) == ""


def test_every_node_of_the_samples_and_the_corpus():
    documents = [ubl(), cii(), *(read(e) for e in entries() if e.get("kind") != "unit")]
    for data in documents:
        for el in parse_xml(data).iter():
            assert xpath_of(el) == _reference(el)


def test_the_per_document_memo_answers_the_same_and_ends_with_the_validation():
    from chalicelib.validation import engine

    root = parse_xml(cii())
    token = XPATH_MEMO.set({})
    try:
        for _ in range(2):  # computed, then remembered
            for el in root.iter():
                assert xpath_of(el) == _reference(el)
    finally:
        XPATH_MEMO.reset(token)
    report = engine.validate(ubl().replace(b"<cbc:ID>", b"<cbc:ID/><cbc:ID>", 1))
    assert report.findings
    assert XPATH_MEMO.get() is None  # nothing remembered outside a validation


def _many_siblings() -> Any:
    """Past the walk's reach (_SIBLING_WALK): a unique element far from the start, repeated ones on both sides."""
    body = b"<x/>" * 40 + b"<u/>" + b"<y/>" * 3 + b"<!--c-->" * 50 + b"<x/>" + b"<z/>" * 40 + b"<w><y/><y/></w>"
    return etree.fromstring(b"<r>" + body + b"<v/></r>")


def test_many_siblings_without_memo():
    for el in _many_siblings().iter():
        assert xpath_of(el) == _reference(el)


def test_many_siblings_with_memo_in_any_order():
    root = _many_siblings()
    nodes = list(root.iter())
    for order in (nodes, list(reversed(nodes))):
        token = XPATH_MEMO.set({})
        try:
            assert [xpath_of(el) for el in order] == [_reference(el) for el in order]
        finally:
            XPATH_MEMO.reset(token)


def test_a_parent_of_thousands_is_tabulated_once():
    """The linear path of a document with thousands of lines: their parent's positions are one table per document
    (built once, then looked up), not a walk over the preceding lines for each finding."""
    root = etree.fromstring(b"<r>" + b"<l><i/></l>" * 5000 + b"</r>")
    token = XPATH_MEMO.set({})
    try:
        paths = [xpath_of(line[0]) for line in root]
        tables = XPATH_MEMO.get()[_POSITIONS]
    finally:
        XPATH_MEMO.reset(token)
    assert paths[0] == "/r/l[1]/i" and paths[-1] == "/r/l[5000]/i"
    assert list(tables) == [root] and len(tables[root]) == 5000


def _selects_only(root: Any, el: Any) -> bool:
    return root.getroottree().xpath(xpath_of(el), namespaces=LOCATION_NAMESPACES) == [el]


def test_locations_evaluate_with_the_published_prefixes_whatever_the_namespace():
    ext = LOCATION_NAMESPACES["ext"]
    assert ext == "urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2"
    extensions = (
        f'<UBLExtensions xmlns="{ext}"><UBLExtension><ExtensionContent><x xmlns="urn:x"/><x xmlns="urn:x"/>'
        f'<q:y xmlns:q="urn:it\'s"/><plain xmlns=""/>'
        "</ExtensionContent></UBLExtension></UBLExtensions>"
    )
    root = parse_xml(ubl().replace(b"<cbc:CustomizationID>", extensions.encode() + b"<cbc:CustomizationID>", 1))
    content = root[0][0][0]
    assert xpath_of(root[0]) == "/ubl:Invoice/ext:UBLExtensions"
    assert xpath_of(content[1]) == (
        "/ubl:Invoice/ext:UBLExtensions/ext:UBLExtension/ext:ExtensionContent"
        "/*[local-name()='x' and namespace-uri()='urn:x'][2]"
    )
    for el in root.iter():
        assert _selects_only(root, el), xpath_of(el)


def test_the_engine_locates_an_extension_finding_with_the_published_prefixes():
    from chalicelib.validation import validate

    ext = LOCATION_NAMESPACES["ext"]
    data = ubl().replace(
        b"<cbc:CustomizationID>", f'<e:UBLExtensions xmlns:e="{ext}"/><cbc:CustomizationID>'.encode(), 1
    )
    report = validate(data)
    root = etree.fromstring(data)
    located = [f for f in report.findings if f.location.startswith("/ubl:Invoice/ext:UBLExtensions")]
    assert located
    for finding in report.findings:
        assert len(root.getroottree().xpath(finding.location, namespaces=LOCATION_NAMESPACES)) == 1


def test_string_literals_of_any_namespace():
    assert _string_literal("urn:x") == "'urn:x'" and _string_literal("urn:it's") == '"urn:it\'s"'
    literal = _string_literal("a'b\"c")
    assert etree.XPath(literal)(etree.Element("r")) == "a'b\"c"
