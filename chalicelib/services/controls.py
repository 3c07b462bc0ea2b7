"""The platform's deposit controls (after EN 16931 passes, before 200): who sends, to whom, with what references."""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from typing import ClassVar

from ..domain.directory import Service, Structure
from ..domain.iban import iban_defect
from ..domain.invoice import (
    SUMMARY_TEXT_LIMITS,
    InvoiceSummary,
    has_visible_character,
    hidden_control,
    number_key,
)
from ..domain.summary import NonDecimalTerm, RepeatedTerm, payment_term_key
from ..validation.parsing import ACCEPTED_ENCODINGS
from .ports import Directory


@dataclass(frozen=True, slots=True)
class ControlFailure:
    reason_code: str  # reform reason for 213 (or kept on 221 after a failed re-route)
    rule: str  # stable id of the control, as findings carry
    message: str  # names the business term
    business_term: str
    # The business_term_locations key of the element at fault, when the term occurs more than once (a payment means')
    where: str | None = None
    location: str | None = None  # the XPath of the element at fault, when the control found it in the document
    severity: ClassVar[str] = "fatal"


@dataclass(frozen=True, slots=True)
class ControlWarning:
    """A platform control's finding that rejects nothing: kept among the invoice's errors, as EN 16931's warnings."""

    rule: str
    message: str
    business_term: str
    where: str | None = None  # as ControlFailure's
    location: str | None = None  # as ControlFailure's
    severity: ClassVar[str] = "warning"


REJECTION_SEMANTIC = "REJ_SEMAN"  # the data of the invoice cannot be taken in as they are


def text_length_failure(summary: InvoiceSummary) -> ControlFailure | None:
    """Each text the platform reads from an invoice (number, names, routing references) has a length limit
    (domain.invoice.SUMMARY_TEXT_LIMITS: 200 characters for BT-1), so that its record, its events and its download
    name stay within AWS's limits. Run first: the other controls' messages quote these texts."""
    for name, term, label, limit in SUMMARY_TEXT_LIMITS:
        value = getattr(summary, name)
        if value is not None and len(value) > limit:
            return ControlFailure(
                REJECTION_SEMANTIC,
                "CHORALE-LENGTH",
                f"{term} {label} is {len(value)} characters long, over the platform's limit of {limit} characters.",
                term,
            )
    return None


def cardinality_failure(repeated: RepeatedTerm | None) -> ControlFailure | None:
    """A term the platform reads, repeated where the syntax's XSD allows it once (domain.summary.repeated_term): the
    record would keep the first, a payer's software may read another (two invoice numbers, due dates, amounts due).
    EN 16931's schematron does not check these cardinalities: the official validators' XSD step does."""
    if repeated is None:
        return None
    return ControlFailure(
        REJECTION_SEMANTIC,
        "CHORALE-CARDINALITY",
        f"{repeated.term} {repeated.label} occurs {repeated.count} times ({repeated.path}); {repeated.standard} "
        "allows it once.",
        repeated.term,
        location=repeated.location,
    )


def credit_note_due_date_failure(location: str | None) -> ControlFailure | None:
    """A UBL CreditNote's `cbc:DueDate` (domain.summary.credit_note_due_date): refused as the syntax's XSD refuses it
    (the record would show a due date the binding does not give, or the wrong one of two)."""
    if location is None:
        return None
    return ControlFailure(
        REJECTION_SEMANTIC,
        "CHORALE-CARDINALITY",
        "cbc:DueDate is not an element of a UBL 2.1 CreditNote; BT-9 goes in cac:PaymentMeans/cbc:PaymentDueDate.",
        "BT-9",
        location=location,
    )


def decimal_failure(found: NonDecimalTerm | None) -> ControlFailure | None:
    """An amount, quantity, price or percentage whose text is no xs:decimal (domain.summary.non_decimal_term): the
    syntax's XSD refuses `NaN`, `1e5`, `INF`, as Chorus Pro's XSD check does, but EN 16931's schematron does not
    type BT-129, BT-146 to BT-149 (an amount it sums fails its BR-CO rule, so an invoice it rejects never gets this
    second finding: the controls run after EN 16931 passes)."""
    if found is None:
        return None
    return ControlFailure(
        REJECTION_SEMANTIC,
        "CHORALE-DECIMAL",
        f"{found.term} {found.label}{found.where} {found.text.strip()[:40]!r} is not a decimal number (xs:decimal: "
        "digits, an optional sign and '.', no exponent, NaN or INF).",
        found.term,
        location=found.location,
    )


def number_failure(summary: InvoiceSummary, encoding: str | None = None) -> ControlFailure | None:
    """BT-1 must have a visible character. EN 16931's BR-02 takes a blank one (in UBL its test is `cbc:ID != ''`),
    but an invoice number is a legal mention, and the duplicate control claims (supplier, year of issue, BT-1): an
    invoice is never accepted without that claim. `encoding`: the document's declared one (windows_1252_hint)."""
    if has_visible_character(summary.number):
        if (hidden := hidden_control(summary.number)) is not None:  # e.g. U+202E: displayed as another number
            return ControlFailure(
                REJECTION_SEMANTIC,
                "CHORALE-NUMBER",
                f"BT-1 Invoice number holds {_code_point(hidden)}, a control or bidirectional override character: "
                f"it would not display as it reads{windows_1252_hint(hidden, encoding)}.",
                "BT-1",
            )
        return None
    held = list(dict.fromkeys(summary.number or ""))[:5]  # what it holds
    shown = ", ".join(_code_point(c) for c in held)
    what = f"has no visible character (only {shown})" if shown else "is blank"
    hint = windows_1252_hint("".join(held), encoding)
    return ControlFailure(REJECTION_SEMANTIC, "CHORALE-NUMBER", f"BT-1 Invoice number {what}{hint}.", "BT-1")


# The declarations parsing.ACCEPTED_ENCODINGS takes (as declared_encoding gives them: lower case) whose 0x80 to 0x9F
# are C1 controls: every ISO 8859 part
_C1_DECLARATIONS = frozenset(e for e in ACCEPTED_ENCODINGS if e.startswith("iso-8859-")) | {"latin1"}
# those whose letters windows-1252 writes with the same bytes: the Western European parts
_WINDOWS_1252_NEIGHBOURS = frozenset({"iso-8859-1", "latin1", "iso-8859-15"})


def windows_1252_hint(characters: str, encoding: str | None) -> str:
    """What to add to a message that quotes a C1 control (U+0080 to U+009F) of a document declared ISO-8859-n: an
    ERP writing a Windows code page under that declaration (windows-1252 for ISO-8859-1 and 15) puts ’, € or œ
    there (bytes 0x80 to 0x9F), which XML reads, as it must, as those controls. Said so that the supplier can fix
    the declaration; the document is read as declared, as any other reader of it would."""
    if encoding not in _C1_DECLARATIONS or not any("\x80" <= c <= "\x9f" for c in characters):
        return ""
    declared = "ISO-8859-1" if encoding == "latin1" else encoding.upper()
    if encoding in _WINDOWS_1252_NEIGHBOURS:
        return (f"; in a document declared {declared}, U+0080 to U+009F usually mean it is written in windows-1252: "
                'declare encoding="windows-1252"')  # fmt: skip
    return (f"; in a document declared {declared}, U+0080 to U+009F usually mean it is written in a Windows code "
            'page: send it in UTF-8, or declare encoding="windows-1252" if it is that one')  # fmt: skip


# How far after its deposit's (UTC) date an invoice may be dated: a supplier east of UTC is already on the next day.
ISSUE_DATE_TOLERANCE = timedelta(days=1)
# How many years before its deposit's date an invoice may be dated: the 10-year legal retention of invoices (French
# Commercial Code L123-22). A constant, not the stage's retention_days (11 years by default, 90 days on dev): a
# verdict does not depend on where it is deployed.
ISSUE_DATE_MAX_AGE_YEARS = 10


def issue_date_failure(summary: InvoiceSummary, written: str | None, deposited_at: str) -> ControlFailure | None:
    """BT-2 must be a real calendar date: the duplicate control claims (supplier, year of issue, BT-1), and an
    invoice is never accepted without that claim. `written` is BT-2 as the document has it (None when absent).

    Nor may it be later than the deposit (`deposited_at`, the time the platform recorded it was received, ISO 8601
    UTC) by more than ISSUE_DATE_TOLERANCE, as Chorus Pro refuses: an invoice issued in a year to come would claim
    its number in that year, and be approved and paid before it exists.

    Nor earlier than ISSUE_DATE_MAX_AGE_YEARS before the deposit's date: 0001-01-01 is an ERP's unset date (.NET's
    DateTime.MinValue), not an invoice's: one issued before the legal retention would not even have to be kept."""
    if summary.issue_date is None:
        what = "is missing" if written is None else f"{written.strip()[:40]!r} is not a valid calendar date"
        return ControlFailure(REJECTION_SEMANTIC, "CHORALE-ISSUE-DATE", f"BT-2 Invoice issue date {what}.", "BT-2")
    deposit_day = date.fromisoformat(deposited_at[:10])
    if summary.issue_date > deposit_day + ISSUE_DATE_TOLERANCE:
        return ControlFailure(
            REJECTION_SEMANTIC,
            "CHORALE-ISSUE-DATE-FUTURE",
            f"BT-2 Invoice issue date {summary.issue_date.isoformat()} is after the deposit date "
            f"({deposit_day.isoformat()}): an invoice cannot be dated after its deposit.",
            "BT-2",
        )
    earliest = _years_before(deposit_day, ISSUE_DATE_MAX_AGE_YEARS)
    if summary.issue_date < earliest:
        return ControlFailure(
            REJECTION_SEMANTIC,
            "CHORALE-ISSUE-DATE-PAST",
            f"BT-2 Invoice issue date {summary.issue_date.isoformat()} is more than {ISSUE_DATE_MAX_AGE_YEARS} years "
            f"before the deposit date ({deposit_day.isoformat()}): an invoice cannot be dated before "
            f"{earliest.isoformat()}.",
            "BT-2",
        )
    return None


def _years_before(day: date, years: int) -> date:
    """The same day `years` years earlier; 28 February for a 29 February the earlier year lacks."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def due_date_failure(
    summary: InvoiceSummary, written: str | None, cii_format: str | None = None
) -> ControlFailure | None:
    """BT-9, when the document gives one, must be a real calendar date, as the JSON format requires: the payer's
    software schedules the payment from it, and an unreadable one would reach it as no due date at all. `written` is
    BT-9 as the document has it, the summary's due_date its date (None when not one); `cii_format` the format of a
    CII date written in another than 102 (domain.summary.cii_date_format), which the message names."""
    if written is None or summary.due_date is not None:
        return None
    why = (
        f"is written in format {cii_format[:10]!r}: a CII date is format 102 (YYYYMMDD)"
        if cii_format is not None
        else "is not a valid calendar date"
    )
    return ControlFailure(
        REJECTION_SEMANTIC, "CHORALE-DUE-DATE", f"BT-9 Payment due date {written.strip()[:40]!r} {why}.", "BT-9"
    )


# UNTDID 4461 credit transfer (30) and SEPA credit transfer (58): their account is an IBAN or a bank's own number
CREDIT_TRANSFER_CODES = frozenset({"30", "58"})


def payment_text_failure(summary: InvoiceSummary, encoding: str | None = None) -> ControlFailure | None:
    """The identifiers the payer copies into a transfer, BT-31 and every payment means' BT-84 and BT-86, hold no
    character a reader does not see as it is: no control (tab and line breaks too), format character (bidi controls,
    zero-width characters) or line separator. FR76\u202e9810\u202c3000… displays as FR7601893000… (review r47 F1).
    A credit transfer's account holds no letter or digit outside ASCII either (full-width, Arabic-Indic digits,
    Cyrillic letters drawn as Latin ones): an IBAN and a bank's account number are ASCII. Spaces, which group an
    IBAN's digits, stay. `encoding`: the document's declared one (windows_1252_hint)."""
    identifiers = [("BT-31", "Seller VAT identifier", summary.seller_vat_id, None)]
    for index, means in enumerate(summary.payment_means or ()):
        identifiers.append(("BT-84", "Payment account identifier", means.account, index))
        identifiers.append(("BT-86", "Payment service provider identifier", means.bic, index))
    for term, label, text, index in identifiers:
        if text is None:
            continue
        what = "a control, format or invisible character"
        refused = hidden_control(text, allowed="", identifier=True)
        if refused is None and term == "BT-84" and summary.payment_means[index].code in CREDIT_TRANSFER_CODES:
            what = "not an ASCII letter or digit, as a credit transfer's account has"
            refused = next((c for c in text if not c.isascii() and unicodedata.category(c) != "Zs"), None)
        if refused is not None:
            where = f" of payment means {index + 1}" if index is not None else ""
            return ControlFailure(
                REJECTION_SEMANTIC,
                "CHORALE-PAYMENT-TEXT",
                f"{term} {label}{where} holds {_code_point(refused)}, {what}: it would not display as it reads"
                f"{windows_1252_hint(refused, encoding)}.",
                term,
                payment_term_key(term, index) if index is not None else None,
            )
    return None


def seller_name_failure(summary: InvoiceSummary, encoding: str | None = None) -> ControlFailure | None:
    """BT-27, which the payer reads beside the directory's name (`supplier.invoiced_name`), displays as it reads: as
    BT-1, no control character but tab and line breaks, and no bidirectional override (an RLO would show 'Atelier
    \u202eLRAS' as another name, review r62). `encoding`: the document's declared one (windows_1252_hint)."""
    if summary.seller_name is None or (hidden := hidden_control(summary.seller_name)) is None:
        return None
    return ControlFailure(
        REJECTION_SEMANTIC,
        "CHORALE-SELLER-NAME",
        f"BT-27 Seller name holds {_code_point(hidden)}, a control or bidirectional override character: it would not "
        f"display as it reads{windows_1252_hint(hidden, encoding)}.",
        "BT-27",
    )


def iban_warnings(summary: InvoiceSummary) -> list[ControlWarning]:
    """A credit transfer's account (BT-84) that looks like an IBAN but is not a valid one (its country's length, the
    mod-97 check): the invoice is taken (the payer may hold the right account, and EN 16931 does not check it), but
    the payer is warned before a transfer its bank would return. Run after payment_text_failure: the account is
    then plain ASCII text."""
    warnings = []
    for index, means in enumerate(summary.payment_means or ()):
        if means.code not in CREDIT_TRANSFER_CODES or (defect := iban_defect(means.account)) is None:
            continue
        reason, why = defect
        warnings.append(
            ControlWarning(
                "CHORALE-IBAN",
                f"BT-84 Payment account identifier of payment means {index + 1} is not a valid IBAN ({reason}): {why}.",
                "BT-84",
                payment_term_key("BT-84", index),
            )
        )
    return warnings


def _code_point(character: str) -> str:
    return f"U+{ord(character):04X}"


def depositor_failure(structure: Structure | None, siret: str) -> ControlFailure | None:
    """The depositing structure must still be an active supplier when the platform takes its invoice in: an
    upload ticket or a posted flow may have been accepted before the structure was deactivated (or lost the
    supplier role). REJ_COH: the deposit is inconsistent with the directory (the invoice itself may be valid;
    REJ_UNI is the seller-is-not-the-depositor control, REJ_ADR the recipient's)."""
    if structure is not None and structure.active and structure.has_role("supplier"):
        return None
    why = (
        "is not in the directory"
        if structure is None
        else "was deactivated"
        if not structure.active
        else "no longer has the supplier role"
    )
    return ControlFailure(
        "REJ_COH",
        "CHORALE-DEPOSITOR",
        f"The depositing structure {siret or '(none)'} {why}: it may not deposit invoices.",
        "BT-30",
    )


def supplier_failure(summary: InvoiceSummary, depositor_siret: str) -> ControlFailure | None:
    """The seller (BT-30 with scheme 0009, or BT-29) must be the depositing structure: REJ_UNI, as the directory
    issue's contract names this control (duplicates are DOUBLON)."""
    if summary.seller_siret != depositor_siret:
        found = summary.seller_siret or "no SIRET (BT-30 scheme 0009 or BT-29)"
        return ControlFailure(
            "REJ_UNI",
            "CHORALE-SELLER",
            f"BT-30 Seller legal registration identifier ({found}) is not the depositing structure "
            f"({depositor_siret}).",
            "BT-30",
        )
    return None


def routing_failure(
    summary: InvoiceSummary, directory: Directory, supplier_siret: str | None = None
) -> tuple[Structure | None, ControlFailure | None]:
    """Recipient, service code (BT-10) and engagement number (BT-13) against the directory. The recipient is never
    the supplier itself: a structure with both roles would approve and pay its own invoice alone."""
    if not summary.buyer_siret:
        return None, ControlFailure(
            "ADR_ERR",
            "CHORALE-BUYER",
            "BT-47 Buyer legal registration identifier (scheme 0009, SIRET) or BT-46 Buyer identifier is missing: "
            "the recipient structure cannot be identified.",
            "BT-47",
        )
    if supplier_siret and summary.buyer_siret == supplier_siret:
        return None, ControlFailure(
            "REJ_ADR",
            "CHORALE-BUYER",
            f"BT-47 Buyer legal registration identifier {summary.buyer_siret} is the supplier itself: an invoice is "
            "addressed to another structure.",
            "BT-47",
        )
    recipient = directory.structure(summary.buyer_siret)
    why = _structure_state(recipient)
    if recipient is not None and not why and not recipient.has_role("recipient"):
        why = "does not receive invoices"
    if why:
        return recipient, ControlFailure(
            "REJ_ADR",
            "CHORALE-BUYER",
            f"BT-47 Buyer legal registration identifier {summary.buyer_siret} {why}.",
            "BT-47",
        )
    # A reference with no visible character is no reference (it is kept as sent).
    service_code = summary.service_code if has_visible_character(summary.service_code) else None
    service = recipient.service(service_code) if service_code else None
    if recipient.requires_service_code:
        if not service_code:
            return recipient, ControlFailure(
                "REJ_ADR",
                "CHORALE-SERVICE",
                f"BT-10 Buyer reference (service code) is required by {recipient.name} ({recipient.siret}).",
                "BT-10",
            )
        if state := _service_state(service):
            return recipient, ControlFailure(
                "REJ_ADR",
                "CHORALE-SERVICE",
                f"BT-10 Buyer reference {summary.service_code!r} is an {state} service of {recipient.name}.",
                "BT-10",
            )
    elif service_code and recipient.services and (state := _service_state(service)):
        # A structure that declares its services routes by them (Chorus Pro: the service code must exist and be
        # active, reference §3 #8). One that declares none takes any BT-10: in B2B it is a free buyer reference.
        return recipient, ControlFailure(
            "REJ_ADR",
            "CHORALE-SERVICE",
            f"BT-10 Buyer reference {summary.service_code!r} is an {state} service of {recipient.name} "
            f"({recipient.siret}), which declares its services: use one of its active service codes, or none.",
            "BT-10",
        )
    needs_engagement = recipient.requires_engagement or bool(service and service.requires_engagement)
    if needs_engagement and not has_visible_character(summary.engagement_number):
        who = (
            f"service {service.code} of {recipient.name}" if service and service.requires_engagement else recipient.name
        )
        return recipient, ControlFailure(
            "REJ_CONT_B2G",
            "CHORALE-ENGAGEMENT",
            f"BT-13 Purchase order reference (engagement number) is required by {who}.",
            "BT-13",
        )
    return recipient, None


def _structure_state(structure: Structure | None) -> str | None:
    """Why the directory no longer lets a structure take part: absent or inactive; None while it is active."""
    if structure is None:
        return "is not in the directory"
    return None if structure.active else "is inactive"


def _service_state(service: Service | None) -> str | None:
    return "unknown" if service is None else None if service.active else "inactive"


def inactive_recipient(recipient_siret: str | None, directory: Directory) -> str | None:
    """Why an invoice's current recipient structure can no longer act on it, or None while it can: deactivated or
    absent from the directory, its keys get 401 and nobody is left there to set 221. An inactive service of an active
    structure is not: the structure still sets 221 if the routing is wrong (review r44 F1)."""
    if not recipient_siret:
        return None
    why = _structure_state(directory.structure(recipient_siret))
    return f"The recipient structure {recipient_siret} {why} in the directory." if why else None


def duplicate_failure(summary: InvoiceSummary, supplier_siret: str) -> ControlFailure:
    year = summary.issue_date.year if summary.issue_date else "?"
    return ControlFailure(
        "DOUBLON",
        "CHORALE-DUPLICATE",
        f"BT-1 Invoice number {summary.number!r} was already deposited by {supplier_siret} for {year}.",
        "BT-1",
    )


# An invoice number longer than this (EN 16931 sets no limit) is claimed by its SHA-256: a DynamoDB key holds 2 KB.
CLAIMED_NUMBER_BYTES = 256


def number_claim_key(summary: InvoiceSummary, supplier_siret: str) -> str | None:
    """The uniqueness key of (supplier, year of issue, BT-1); None when the invoice lacks either (a BT-1 with no
    visible character is none: number_failure refuses it). Numbers share it when their number_key does: 'F-1',
    ' f\u20111\u200b' and 'F\uff0d\uff11' are one number. An upper-case ASCII number whose only inner whitespace is
    single spaces keys as it always has (its strip()): its existing claims still match (docs/operations.md for the
    others)."""
    if not has_visible_character(summary.number) or not summary.issue_date:
        return None
    number = number_key(summary.number)
    if len(number.encode()) > CLAIMED_NUMBER_BYTES:
        number = "sha256:" + hashlib.sha256(number.encode()).hexdigest()
    return f"{supplier_siret}#{summary.issue_date.year}#{number}"
