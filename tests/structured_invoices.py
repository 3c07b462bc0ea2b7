"""Invoices in the other formats, for tests: structured JSON, CII D16B, Factur-X PDFs (all written here)."""

from __future__ import annotations

import io
from decimal import Decimal
from xml.sax.saxutils import escape

from invoices import MAIRIE_SIRET, SUPPLIER_SIRET, fr_vat


def json_invoice(
    number: str = "J-2026-0001",
    *,
    seller: str = SUPPLIER_SIRET,
    buyer: str = MAIRIE_SIRET,
    service_code: str | None = "SERV-TECH",
    quantity: str = "2",
    unit_price: str = "50.00",
    amount_due: str | None = None,
    type_code: str = "380",
) -> dict:
    """A complete structured invoice (one line, VAT S 20 %) for the demo seed's supplier → recipient."""
    net = (Decimal(quantity) * Decimal(unit_price)).quantize(Decimal("0.01"))
    vat = (net * Decimal("0.20")).quantize(Decimal("0.01"))
    gross = net + vat

    def party(siret: str, name: str, city: str) -> dict:
        return {
            "name": name,
            "identifiers": [{"id": siret, "scheme": "0009"}],
            "legal_registration": {"id": siret, "scheme": "0009"},
            "vat_id": fr_vat(siret),
            "electronic_address": {"id": siret, "scheme": "0009"},
            "address": {"line1": "1 rue de la République", "city": city, "postcode": "69001", "country_code": "FR"},
        }

    document = {
        "number": number,
        "issue_date": "2026-11-20",
        "type_code": type_code,
        "currency": "EUR",
        "due_date": "2026-12-20",
        "notes": [{"subject_code": "AAI", "text": "Maintenance trimestrielle"}],
        "seller": {**party(seller, "Atelier Numérique SARL", "Lyon"), "contact": {"email": "compta@atelier.example"}},
        "buyer": party(buyer, "Mairie de Saint-Étienne-du-Bois", "Saint-Étienne-du-Bois"),
        "payment": {"means_code": "30", "account": "FR7630006000011234567890189"},
        "vat_breakdown": [{"taxable_amount": f"{net}", "tax_amount": f"{vat}", "category": "S", "rate": "20"}],
        "totals": {
            "line_total": f"{net}",
            "without_vat": f"{net}",
            "vat": f"{vat}",
            "with_vat": f"{gross}",
            "amount_due": amount_due or f"{gross}",
        },
        "lines": [
            {
                "id": "1",
                "quantity": quantity,
                "unit_code": "C62",
                "net_amount": f"{net}",
                "price": {"net": unit_price},
                "vat": {"category": "S", "rate": "20"},
                "item": {"name": "Maintenance des équipements", "seller_id": "MAINT-01"},
            }
        ],
    }
    if service_code:
        document["buyer_reference"] = service_code
    return document


GUIDELINES = {
    "minimum": "urn:factur-x.eu:1p0:minimum",
    "basicwl": "urn:factur-x.eu:1p0:basicwl",
    "basic": "urn:cen.eu:en16931:2017#compliant#urn:factur-x.eu:1p0:basic",
    "en16931": "urn:cen.eu:en16931:2017",
    "extended": "urn:cen.eu:en16931:2017#conformant#urn:factur-x.eu:1p0:extended",
}


def _cii_party(siret: str, name: str, city: str) -> str:
    return f"""<ram:ID schemeID="0009">{siret}</ram:ID>
        <ram:Name>{escape(name)}</ram:Name>
        <ram:SpecifiedLegalOrganization><ram:ID schemeID="0009">{siret}</ram:ID></ram:SpecifiedLegalOrganization>
        <ram:PostalTradeAddress>
          <ram:PostcodeCode>69001</ram:PostcodeCode>
          <ram:LineOne>1 rue de la République</ram:LineOne>
          <ram:CityName>{escape(city)}</ram:CityName>
          <ram:CountryID>FR</ram:CountryID>
        </ram:PostalTradeAddress>
        <ram:URIUniversalCommunication><ram:URIID schemeID="0009">{siret}</ram:URIID></ram:URIUniversalCommunication>
        <ram:SpecifiedTaxRegistration><ram:ID schemeID="VA">{fr_vat(siret)}</ram:ID></ram:SpecifiedTaxRegistration>"""


def cii_invoice(
    number: str = "C-2026-0001",
    *,
    profile: str = "en16931",
    seller: str = SUPPLIER_SIRET,
    buyer: str = MAIRIE_SIRET,
    service_code: str | None = "SERV-TECH",
    quantity: str = "2",
    unit_price: str = "50.00",
    payable_override: str | None = None,
) -> bytes:
    """A complete, EN 16931-valid CII D16B invoice (one line, VAT S 20 %); `profile` sets the Factur-X guideline."""
    net = (Decimal(quantity) * Decimal(unit_price)).quantize(Decimal("0.01"))
    vat = (net * Decimal("0.20")).quantize(Decimal("0.01"))
    gross = net + vat
    payable = payable_override or f"{gross}"
    reference = f"<ram:BuyerReference>{escape(service_code)}</ram:BuyerReference>" if service_code else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
    xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
    xmlns:udt="urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
    xmlns:qdt="urn:un:unece:uncefact:data:standard:QualifiedDataType:100">
  <rsm:ExchangedDocumentContext>
    <ram:GuidelineSpecifiedDocumentContextParameter><ram:ID>{GUIDELINES[profile]}</ram:ID></ram:GuidelineSpecifiedDocumentContextParameter>
  </rsm:ExchangedDocumentContext>
  <rsm:ExchangedDocument>
    <ram:ID>{escape(number)}</ram:ID>
    <ram:TypeCode>380</ram:TypeCode>
    <ram:IssueDateTime><udt:DateTimeString format="102">20261120</udt:DateTimeString></ram:IssueDateTime>
  </rsm:ExchangedDocument>
  <rsm:SupplyChainTradeTransaction>
    <ram:IncludedSupplyChainTradeLineItem>
      <ram:AssociatedDocumentLineDocument><ram:LineID>1</ram:LineID></ram:AssociatedDocumentLineDocument>
      <ram:SpecifiedTradeProduct><ram:Name>Maintenance des équipements</ram:Name></ram:SpecifiedTradeProduct>
      <ram:SpecifiedLineTradeAgreement>
        <ram:NetPriceProductTradePrice><ram:ChargeAmount>{unit_price}</ram:ChargeAmount></ram:NetPriceProductTradePrice>
      </ram:SpecifiedLineTradeAgreement>
      <ram:SpecifiedLineTradeDelivery>
        <ram:BilledQuantity unitCode="C62">{quantity}</ram:BilledQuantity>
      </ram:SpecifiedLineTradeDelivery>
      <ram:SpecifiedLineTradeSettlement>
        <ram:ApplicableTradeTax>
          <ram:TypeCode>VAT</ram:TypeCode>
          <ram:CategoryCode>S</ram:CategoryCode>
          <ram:RateApplicablePercent>20</ram:RateApplicablePercent>
        </ram:ApplicableTradeTax>
        <ram:SpecifiedTradeSettlementLineMonetarySummation>
          <ram:LineTotalAmount>{net}</ram:LineTotalAmount>
        </ram:SpecifiedTradeSettlementLineMonetarySummation>
      </ram:SpecifiedLineTradeSettlement>
    </ram:IncludedSupplyChainTradeLineItem>
    <ram:ApplicableHeaderTradeAgreement>
      {reference}
      <ram:SellerTradeParty>
        {_cii_party(seller, "Atelier Numérique SARL", "Lyon")}
      </ram:SellerTradeParty>
      <ram:BuyerTradeParty>
        {_cii_party(buyer, "Mairie de Saint-Étienne-du-Bois", "Saint-Étienne-du-Bois")}
      </ram:BuyerTradeParty>
    </ram:ApplicableHeaderTradeAgreement>
    <ram:ApplicableHeaderTradeDelivery/>
    <ram:ApplicableHeaderTradeSettlement>
      <ram:InvoiceCurrencyCode>EUR</ram:InvoiceCurrencyCode>
      <ram:SpecifiedTradeSettlementPaymentMeans>
        <ram:TypeCode>30</ram:TypeCode>
        <ram:PayeePartyCreditorFinancialAccount><ram:IBANID>FR7630006000011234567890189</ram:IBANID></ram:PayeePartyCreditorFinancialAccount>
      </ram:SpecifiedTradeSettlementPaymentMeans>
      <ram:ApplicableTradeTax>
        <ram:CalculatedAmount>{vat}</ram:CalculatedAmount>
        <ram:TypeCode>VAT</ram:TypeCode>
        <ram:BasisAmount>{net}</ram:BasisAmount>
        <ram:CategoryCode>S</ram:CategoryCode>
        <ram:RateApplicablePercent>20</ram:RateApplicablePercent>
      </ram:ApplicableTradeTax>
      <ram:SpecifiedTradePaymentTerms>
        <ram:DueDateDateTime><udt:DateTimeString format="102">20261220</udt:DateTimeString></ram:DueDateDateTime>
      </ram:SpecifiedTradePaymentTerms>
      <ram:SpecifiedTradeSettlementHeaderMonetarySummation>
        <ram:LineTotalAmount>{net}</ram:LineTotalAmount>
        <ram:TaxBasisTotalAmount>{net}</ram:TaxBasisTotalAmount>
        <ram:TaxTotalAmount currencyID="EUR">{vat}</ram:TaxTotalAmount>
        <ram:GrandTotalAmount>{gross}</ram:GrandTotalAmount>
        <ram:DuePayableAmount>{payable}</ram:DuePayableAmount>
      </ram:SpecifiedTradeSettlementHeaderMonetarySummation>
    </ram:ApplicableHeaderTradeSettlement>
  </rsm:SupplyChainTradeTransaction>
</rsm:CrossIndustryInvoice>
""".encode()


def blank_pdf(text_pages: int = 1) -> bytes:
    """A minimal one-page PDF, made with pypdf (a dependency of factur-x)."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(text_pages):
        writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def facturx_pdf(xml: bytes | None = None, **cii_options) -> bytes:
    """A real Factur-X PDF: the factur-x library embeds the CII invoice in a blank PDF (PDF/A-3 metadata)."""
    from facturx import generate_from_binary

    xml = xml if xml is not None else cii_invoice(**cii_options)
    return generate_from_binary(blank_pdf(), xml, flavor="factur-x", check_xsd=False)


def pdf_with_attachment(name: str, content: bytes, *more: tuple[str, bytes]) -> bytes:
    """A PDF embedding any files under any names (to test what extraction refuses)."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    for file_name, data in ((name, content), *more):
        writer.add_attachment(file_name, data)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


BOMB_CII_ROOT = b'<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100">'


def pdf_bomb(xml_bytes: int, filler: bytes = b"") -> bytes:
    """A small PDF whose factur-x.xml is a deflated stream inflating to `xml_bytes` (built without holding it); its
    body repeats `filler` (1 MiB) or by default a text element of 1 KiB."""
    import zlib

    from pypdf import PdfWriter
    from pypdf.generic import NameObject, NumberObject, StreamObject

    deflate = zlib.compressobj(9)
    filler = filler or (b"<a>" + b"x" * 1017 + b"</a>") * 1024  # few nodes: dense markup hits the node cap first
    parts = [deflate.compress(BOMB_CII_ROOT)]
    for _ in range(xml_bytes // len(filler)):
        parts.append(deflate.compress(filler))
    parts.append(deflate.compress(b"</rsm:CrossIndustryInvoice>") + deflate.flush())
    writer = PdfWriter()
    writer.add_blank_page(100, 100)
    writer.add_attachment("factur-x.xml", b"<x/>")
    for obj in writer._objects:
        if isinstance(obj, StreamObject) and obj.get("/Type") == "/EmbeddedFile":
            obj._data = b"".join(parts)
            obj[NameObject("/Filter")] = NameObject("/FlateDecode")
            obj[NameObject("/Length")] = NumberObject(len(obj._data))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _xref_stream_pdf(out: io.BytesIO, entries: dict[int, tuple[int, int, int]], root: int) -> bytes:
    """Ends `out` (a PDF body whose objects are placed per `entries`: number → (type, field 2, field 3) as in an
    xref stream) with an xref stream and the trailer."""
    number = max(entries) + 1
    entries[number] = (1, out.tell(), 0)
    rows = b"".join(
        bytes([kind]) + a.to_bytes(4, "big") + b.to_bytes(2, "big")
        for kind, a, b in (entries.get(i, (0, 0, 0)) for i in range(number + 1))
    )
    out.write(b"%d 0 obj\n<< /Type /XRef /Size %d /Root %d 0 R /W [1 4 2] /Length %d >>\nstream\n"
              % (number, number + 1, root, len(rows)) + rows + b"\nendstream\nendobj\n")  # fmt: skip
    out.write(b"startxref\n%d\n%%%%EOF\n" % entries[number][1])
    return out.getvalue()


def with_object_streams(pdf: bytes, per_stream: int = 100) -> bytes:
    """The same PDF with every object that is not a stream moved into object streams (as Acrobat, qpdf or iText
    write them) and an xref stream: the catalog, the name tree and the file specifications are read from them."""
    import zlib

    from pypdf import PdfReader
    from pypdf.generic import StreamObject

    reader = PdfReader(io.BytesIO(pdf))
    objects = {n: reader.get_object(n) for n in range(1, int(reader.trailer["/Size"]))}
    objects = {n: o for n, o in objects.items() if o is not None}
    out = io.BytesIO(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    out.seek(0, 2)
    entries: dict[int, tuple[int, int, int]] = {0: (0, 0, 65535)}
    for number, obj in objects.items():
        if isinstance(obj, StreamObject):
            entries[number] = (1, out.tell(), 0)
            out.write(b"%d 0 obj\n" % number)
            obj.write_to_stream(out)
            out.write(b"\nendobj\n")
    plain = [n for n, o in objects.items() if not isinstance(o, StreamObject)]
    stream_number = max(objects) + 1
    for start in range(0, len(plain), per_stream):
        chunk, header, body = plain[start : start + per_stream], [], io.BytesIO()
        for index, number in enumerate(chunk):
            header.append(b"%d %d" % (number, body.tell()))
            objects[number].write_to_stream(body)
            body.write(b"\n")
            entries[number] = (2, stream_number, index)
        head = b" ".join(header) + b"\n"
        data = zlib.compress(head + body.getvalue())
        entries[stream_number] = (1, out.tell(), 0)
        out.write(b"%d 0 obj\n<< /Type /ObjStm /N %d /First %d /Filter /FlateDecode /Length %d >>\nstream\n"
                  % (stream_number, len(chunk), len(head), len(data)) + data + b"\nendstream\nendobj\n")  # fmt: skip
        stream_number += 1
    return _xref_stream_pdf(out, entries, reader.trailer.raw_get("/Root").idnum)


def pdf_objstm_bomb(streams: int, inflated: int) -> bytes:
    """A small PDF whose embedded-files name tree names `streams` file specifications, each alone in its own object
    stream padded with spaces to inflate to `inflated` bytes: pypdf inflates and parses each whole (review r2 #5)."""
    import zlib

    out = io.BytesIO(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    out.seek(0, 2)
    entries: dict[int, tuple[int, int, int]] = {0: (0, 0, 65535)}

    def put(number: int, body: bytes) -> None:
        entries[number] = (1, out.tell(), 0)
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")

    names = b" ".join(b"(f%d.xml) %d 0 R" % (i, 100 + i) for i in range(streams))
    put(1, b"<< /Type /Catalog /Pages 2 0 R /Names << /EmbeddedFiles << /Names [" + names + b"] >> >> >>")
    put(2, b"<< /Type /Pages /Kids [] /Count 0 >>")
    for i in range(streams):
        header, spec = b"%d 0 " % (100 + i), b"<< /Type /Filespec /F (f%d.xml) >>" % i
        data = zlib.compress(header + spec + b" " * max(inflated - len(header) - len(spec), 0), 9)
        put(1000 + i, b"<< /Type /ObjStm /N 1 /First %d /Filter /FlateDecode /Length %d >>\nstream\n"
            % (len(header), len(data)) + data + b"\nendstream")  # fmt: skip
        entries[100 + i] = (2, 1000 + i, 0)
    return _xref_stream_pdf(out, entries, 1)
