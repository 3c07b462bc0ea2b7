"""The invoice record and the platform's part of its lifecycle (deposit → 200 → 203, or → 213)."""

from __future__ import annotations

import json
import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Literal

from .statuses import DEPOSEE, ERREUR_ROUTAGE, MISE_A_DISPOSITION, REJETEE, Status, status

Actor = Literal["platform", "supplier", "recipient"]
Processing = Literal["pending", "done", "failed"]
InvoiceType = Literal["invoice", "credit_note"]

MAX_STORED_ERRORS = 100  # keeps the record well under DynamoDB's 400 KB item limit
# Whatever an invoice holds, its stored findings take at most this much of the record (as stored: JSON, UTF-8), each
# message and location at most MAX_FINDING_TEXT characters: the rest are counted in errors_truncated.
MAX_STORED_ERRORS_BYTES = 96 * 1024
MAX_FINDING_TEXT = 1000
MAX_PLATFORM_COMMENT = 1000  # a rejection's comment, as the parties' comments (services.lifecycle)
CUT_MARKER = "…"
MAX_REMEMBERED_REQUESTS = 4  # keyed status changes and re-routes an invoice answers a retry of (Invoice.request_keys)

# The summary's free texts the platform takes in: field, business term, its name, and the most characters. EN 16931
# sets no length; these keep each record under DynamoDB's 400 KB, each event under SNS's 256 KiB and the download
# name short (services.controls refuses, with 213, an invoice over them; a record holds them cut to them).
SUMMARY_TEXT_LIMITS: tuple[tuple[str, str, str, int], ...] = (
    ("number", "BT-1", "Invoice number", 200),
    ("currency", "BT-5", "Invoice currency code", 100),
    ("service_code", "BT-10", "Buyer reference (service code)", 200),
    ("engagement_number", "BT-13", "Purchase order reference (engagement number)", 200),
    ("seller_name", "BT-27", "Seller name", 500),
    ("buyer_name", "BT-44", "Buyer name", 500),
)
# The parties' SIRETs as read: a record keeps at most this much of them (the supplier and routing controls refuse any
# that is not the depositor's or a recipient's in the directory, with their own reasons).
STORED_SIRET_LIMIT = 100
# What the platform only shows the payer (BT-31 seller VAT identifier, BT-81/BT-84/BT-86 payment means): their
# length is not controlled (services.controls only refuses hidden characters in them), so a longer one is cut, never
# refused (an IBAN has 34 characters, a BIC 11, a VAT identifier ~15).
STORED_PAYMENT_TEXT_LIMIT = 100
# BT-3 as read: a UNTDID 1001 code of 3 digits once EN 16931 passes (BR-CL-01), any text in a document it rejects
STORED_TYPE_CODE_LIMIT = 100
MAX_STORED_PAYMENT_MEANS = 5  # the document's first ones (EN 16931 sets no number; one or two in practice)
MAX_STORED_PRECEDING_INVOICES = 5  # BG-3: the document's first ones (a credit note names one or a few)


def cut(text: str | None, limit: int) -> str | None:
    """`text` if it has at most `limit` characters, else its first ones and CUT_MARKER (`limit` in all)."""
    if text is None or len(text) <= limit:
        return text
    return text[: limit - len(CUT_MARKER)] + CUT_MARKER


# Characters that show nothing: spaces and separators (Z*), controls (Cc), and format characters (Cf: U+200B zero-width
# space, U+2060 word joiner, U+FEFF byte order mark, the bidi marks), which str.strip() keeps.
_INVISIBLE_CATEGORIES = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf"})
# Blank look-alikes whose category says otherwise: the Hangul fillers (Lo), the braille blank (So), the combining
# grapheme joiner and Khmer inherent vowels (Mn), the Mongolian vowel separator (Cf since Unicode 6.3, Zs before).
_BLANK_LOOKALIKES = frozenset("\u115f\u1160\u3164\uffa0\u2800\u034f\u17b4\u17b5\u180e")
# Format characters that are drawn (the Arabic, Syriac and Kaithi signs spanning the digits that follow them): two
# numbers that differ by one look different, and stay different numbers.
_VISIBLE_FORMAT = frozenset("\u0600\u0601\u0602\u0603\u0604\u0605\u06dd\u070f\u0890\u0891\u08e2\U000110bd\U000110cd")
# Combining marks draw on the character before them: alone, or on invisible ones, they identify nothing.
_COMBINING_CATEGORIES = frozenset({"Mn", "Me"})


def _is_invisible(c: str) -> bool:
    return c in _BLANK_LOOKALIKES or (unicodedata.category(c) in _INVISIBLE_CATEGORIES and c not in _VISIBLE_FORMAT)


def has_visible_character(text: str | None) -> bool:
    """Whether `text` has a character a reader sees. A reference the controls read (BT-1, BT-10, BT-13) without one
    is blank: it identifies nothing, whatever it holds (only invisible characters and combining marks)."""
    return text is not None and any(
        not _is_invisible(c) and unicodedata.category(c) not in _COMBINING_CATEGORIES for c in text
    )


# The embeddings and overrides U+202A-202E and the isolates U+2066-2069 reorder how the text around them displays
# ("Trojan Source": "Mairie\u202eA" shows reversed): refused in names and comments another party reads. The marks
# (U+061C, LRM U+200E, RLM U+200F) only set the direction of neutral characters; Word and Outlook put them in Arabic
# and Hebrew text on their own, so only file names, whose extension they can disguise, refuse them too.
BIDI_OVERRIDES = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
BIDI_CONTROLS = BIDI_OVERRIDES | frozenset("\u061c\u200e\u200f")  # Unicode's Bidi_Control property


# What an identifier a payer copies (an account, a BIC, a VAT identifier) never holds, beyond controls: format
# characters (Cf: every bidi control, zero-width characters, U+FEFF) and line or paragraph separators.
_HIDDEN_IN_IDENTIFIERS = frozenset({"Cf", "Zl", "Zp"})


def hidden_control(text: str, allowed: str = "\n\r\t", *, identifier: bool = False) -> str | None:
    """The first control character (Cc, other than those `allowed`) or bidirectional override in `text`, else None:
    a free text shown to the other party (a comment) stays plain text, its lines (LF, CRLF or CR) and tabs kept.
    With `identifier`, also any format character, line or paragraph separator or blank look-alike: an identifier
    has no part a reader cannot see (spaces, which group an IBAN's digits, stay)."""
    for c in text:
        category = unicodedata.category(c)
        if c in BIDI_OVERRIDES or (category == "Cc" and c not in allowed):
            return c
        if identifier and (category in _HIDDEN_IN_IDENTIFIERS or c in _BLANK_LOOKALIKES):
            return c
    return None


def comparable_reference(text: str) -> str:
    """`text` as two references a reader sees as equal share it: without invisible format characters (Cf) and blank
    look-alikes anywhere, then without surrounding whitespace. A text with neither is `text.strip()`, unchanged."""
    return "".join(
        c for c in text if c not in _BLANK_LOOKALIKES and (unicodedata.category(c) != "Cf" or c in _VISIBLE_FORMAT)
    ).strip()


# Dashes a reader takes for '-' (U+2010-2015 hyphens and dashes, minus, small and full-width hyphen-minus; NFKC
# already turns U+FE63 and U+FF0D into '-').
_DASHES = str.maketrans(dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d", "-"))
# Cyrillic and Greek letters drawn as a Latin letter, each case mapped to the Latin letter of its own look (review
# r44 F3): a small letter is not its capital's look-alike (µ is not M, Cyrillic н not H).
_LATIN_CAPITAL_LOOKALIKES = {
    **dict(zip("АВЕКМНОРСТХУЅІЈԚԜҮӀЁЇҺ", "ABEKMHOPCTXYSIJQWYIËÏH", strict=True)),  # Cyrillic
    **dict(zip("ΑΒΕΖΗΙΚΜΝΟΡΤΥΧ", "ABEZHIKMNOPTYX", strict=True)),  # Greek
}
_LATIN_SMALL_LOOKALIKES = {
    **dict(zip("аеорсухіјѕԛԝүһёї", "aeopcyxijsqwyhëï", strict=True)),  # Cyrillic
    **dict(zip("\u03bf\u03bd\u03c1\u03b9", "ovpi", strict=True)),  # Greek ο ν ρ ι
}
_LATIN_LOOKALIKES = str.maketrans({**_LATIN_CAPITAL_LOOKALIKES, **_LATIN_SMALL_LOOKALIKES})


def _upper_as_drawn(letter: str) -> str:
    """`letter` upper-cased, unless its capital is drawn as a Latin letter it does not look like (µ's capital is
    drawn M, Cyrillic н's H): then `letter` itself, so that its key neither takes nor lends that Latin letter."""
    upper = letter.upper()
    return letter if any(c in _LATIN_CAPITAL_LOOKALIKES for c in upper) else upper


_SPACE_RUNS = re.compile(" {2,}")


def number_key(text: str) -> str:
    """The invoice number (BT-1) as the duplicate control and a search by number compare it: two numbers a reader
    takes for the same share it. comparable_reference (no invisible characters, trimmed), then NFKC (NFD and NFC,
    full-width forms), every dash as '-', every whitespace character (str.isspace: the spaces (Zs), and the tab,
    line and page breaks, U+0085, U+2028 and U+2029, which screens and e-mails draw as a space) as ' ' with runs of
    them as one, Cyrillic and Greek letters drawn as Latin ones as those (case by case: 'а' as 'a', 'А' as 'A'),
    upper case (but for a letter whose capital is drawn as another Latin letter, see _upper_as_drawn), NFC again (an
    accent on a look-alike composes with its Latin letter). An upper-case ASCII number whose only whitespace is
    single spaces is its own key, as before this fold. Leading zeros stay: 'F-010' and 'F-10' read differently, and
    are two numbers."""
    folded = unicodedata.normalize("NFKC", comparable_reference(text)).translate(_DASHES)
    folded = "".join(" " if c.isspace() else c for c in folded)
    folded = _SPACE_RUNS.sub(" ", folded).strip().translate(_LATIN_LOOKALIKES)
    return unicodedata.normalize("NFC", "".join(map(_upper_as_drawn, folded)))


def _stretch_start(position: int, reroutings: list[int]) -> int:
    """Where the stretch of history holding `position` began: 0, or the re-routing entry before it."""
    return reroutings[bisect_right(reroutings, position) - 1] if reroutings and position >= reroutings[0] else 0


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    code: int
    at: str  # ISO 8601 UTC
    actor: Actor
    reason_code: str | None = None
    comment: str | None = None
    amount: Decimal | None = None  # the payment's amount, on 211 (optional) and 212 (required)

    @property
    def status(self) -> Status:
        return status(self.code)


@dataclass(frozen=True, slots=True)
class Totals:
    without_vat: Decimal | None = None
    vat: Decimal | None = None
    with_vat: Decimal | None = None
    amount_due: Decimal | None = None


@dataclass(frozen=True, slots=True)
class PaymentMeans:
    """One way to pay the invoice: a BG-16 payment instruction, with one of its payee accounts (BG-17) if any."""

    code: str | None = None  # BT-81 payment means type code (UNTDID 4461: 30 credit transfer, 58 SEPA transfer …)
    account: str | None = None  # BT-84 payee's account identifier (an IBAN, or a proprietary one)
    bic: str | None = None  # BT-86 payment service provider identifier

    def bounded(self) -> PaymentMeans:
        return PaymentMeans(*(cut(text, STORED_PAYMENT_TEXT_LIMIT) for text in (self.code, self.account, self.bic)))


@dataclass(frozen=True, slots=True)
class PrecedingInvoice:
    """BG-3: an invoice this one (a credit note, a corrected invoice) refers to, BT-25 and BT-26 as read."""

    number: str | None = None  # BT-25 preceding invoice reference
    issue_date: date | None = None  # BT-26 (a CII date in format 102 only, as every date the platform reads)

    def bounded(self) -> PrecedingInvoice:
        return PrecedingInvoice(cut(self.number, SUMMARY_TEXT_LIMITS[0][3]), self.issue_date)  # BT-1's limit


@dataclass(frozen=True, slots=True)
class InvoiceSummary:
    """What the platform reads from a deposited invoice's semantic model (routing, totals, parties)."""

    number: str | None = None
    issue_date: date | None = None
    type: InvoiceType = "invoice"
    type_code: str | None = None  # BT-3 invoice type code (380, 381, 384, 386, 389 …): None in records stored before
    currency: str | None = None
    totals: Totals = field(default_factory=Totals)
    seller_siret: str | None = None
    seller_name: str | None = None
    buyer_siret: str | None = None
    buyer_name: str | None = None
    service_code: str | None = None  # BT-10 buyer reference
    engagement_number: str | None = None  # BT-13 purchase order reference
    due_date: date | None = None  # BT-9 payment due date (a CII's first payment terms' due date)
    seller_vat_id: str | None = None  # BT-31 seller VAT identifier
    # BG-16 in document order, one per payee account: () when the document has none, None when not read (a record
    # written before they were kept, an invoice not processed yet or unreadable)
    payment_means: tuple[PaymentMeans, ...] | None = None
    # The document gave more than MAX_STORED_PAYMENT_MEANS: payment_means holds its first ones only
    payment_means_truncated: bool = False
    # BG-3 in document order, at most MAX_STORED_PRECEDING_INVOICES: () when the document names none, None when not
    # read (as payment_means)
    preceding_invoices: tuple[PrecedingInvoice, ...] | None = None
    preceding_invoices_truncated: bool = False

    def bounded(self) -> InvoiceSummary:
        """This summary with each text cut to its SUMMARY_TEXT_LIMITS (what a record keeps of any invoice)."""
        limits = [(name, limit) for name, _, _, limit in SUMMARY_TEXT_LIMITS]
        limits += [("seller_siret", STORED_SIRET_LIMIT), ("buyer_siret", STORED_SIRET_LIMIT)]
        limits += [("seller_vat_id", STORED_PAYMENT_TEXT_LIMIT), ("type_code", STORED_TYPE_CODE_LIMIT)]
        over = {name: cut(getattr(self, name), limit) for name, limit in limits
                if getattr(self, name) is not None and len(getattr(self, name)) > limit}  # fmt: skip
        if self.payment_means is not None:
            over["payment_means"] = tuple(m.bounded() for m in self.payment_means[:MAX_STORED_PAYMENT_MEANS])
            if len(self.payment_means) > MAX_STORED_PAYMENT_MEANS:
                over["payment_means_truncated"] = True
        if self.preceding_invoices is not None:
            kept = self.preceding_invoices[:MAX_STORED_PRECEDING_INVOICES]
            over["preceding_invoices"] = tuple(p.bounded() for p in kept)
            if len(self.preceding_invoices) > MAX_STORED_PRECEDING_INVOICES:
                over["preceding_invoices_truncated"] = True
        return replace(self, **over) if over else self


@dataclass(frozen=True, slots=True)
class Error:
    rule: str
    severity: str
    message: str
    location: str

    def as_dict(self) -> dict:
        return {"rule": self.rule, "severity": self.severity, "message": self.message, "location": self.location}


@dataclass(frozen=True, slots=True)
class Attachment:
    id: str
    name: str
    content_type: str
    size: int
    key: str
    uploaded_by: Actor
    uploaded_at: str
    uploader_siret: str | None = None  # None: recorded before it was kept (seen by both parties)


@dataclass(slots=True)
class Invoice:
    id: str
    supplier_siret: str
    supplier_name: str
    format: str
    content_type: str
    original_key: str
    original_size: int
    original_sha256: str
    created_at: str
    updated_at: str
    processing: Processing = "pending"
    summary: InvoiceSummary = field(default_factory=InvoiceSummary)
    recipient_siret: str | None = None
    recipient_name: str | None = None
    errors: list[Error] = field(default_factory=list)
    errors_truncated: int = 0
    history: list[HistoryEntry] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    version: int | None = None  # optimistic-locking version held by the repository
    original_offset: int | None = None  # set when the original is a member of a bundle (original_key)
    flow_id: str | None = None  # the bulk flow the invoice came in, and its file there
    flow_file: str | None = None
    # (key, request) digests of the latest parties' changes made with an Idempotency-Key: see remember_request
    request_keys: list[tuple[str, str]] = field(default_factory=list)
    # The structure each re-route sent the invoice to, by the position of its 203 in the history. A re-route
    # recorded before they were kept has none: who had the invoice from there to the next re-route is unknown.
    rerouted_to: dict[int, str] = field(default_factory=dict)
    # The name each re-route replaced (recipient_name), by the position its stretch began at (0, or the 203 of the
    # re-route before): the name that stretch's events were first published with. None kept by code before.
    former_recipient_names: dict[int, str | None] = field(default_factory=dict)
    # The service code (BT-10) each re-route replaced, keyed alike: the one that stretch's events were published with.
    former_service_codes: dict[int, str | None] = field(default_factory=dict)

    @property
    def status(self) -> Status | None:
        return self.history[-1].status if self.history else None

    @property
    def sequence(self) -> int | None:
        """The position of the current status in the history: the n of its status event's id (`<id>-<n>`)."""
        return len(self.history) - 1 if self.history else None

    def is_party(self, siret: str) -> bool:
        return siret in (self.supplier_siret, self.recipient_siret)

    def sees_attachment(self, attachment: Attachment, siret: str) -> bool:
        """The supplier sees every attachment; a recipient sees the supplier's and its own, not those of a recipient
        the invoice was re-routed away from (it is no party to what that structure filed)."""
        if siret == self.supplier_siret or attachment.uploaded_by == "supplier":
            return True
        return attachment.uploader_siret in (None, siret)

    def recipient_at(self, position: int) -> str | None:
        """The structure the invoice was routed to when history entry `position` was written: the buyer the document
        names until the first re-routing, then the one each re-routing sent it to (rerouted_to), the current
        recipient from the last one on; None after a re-routing whose target the record does not keep."""
        return self._recipient_at(position, self._reroutings())

    def recipient_name_at(self, position: int) -> str | None:
        """The name of recipient_at(position), as the events of that stretch were first published with it: the
        current one's from the last re-routing on, else the name kept when a re-routing replaced it. A stretch
        re-routed by code that kept no name reads as before: the current recipient's name if it is the same
        structure, the document's buyer name if it is the buyer, else None."""
        reroutings = self._reroutings()
        if not reroutings or position >= reroutings[-1]:
            return self.recipient_name
        siret = self._recipient_at(position, reroutings)
        if siret is None:
            return None  # a stretch the record cannot attribute: nobody to name
        start = _stretch_start(position, reroutings)
        if start in self.former_recipient_names:
            return self.former_recipient_names[start]
        if siret == self.recipient_siret:
            return self.recipient_name
        return self.summary.buyer_name if siret == self.summary.buyer_siret else None

    def service_code_at(self, position: int) -> str | None:
        """The service (BT-10) the invoice was routed to when history entry `position` was written: the recorded one
        from the last re-routing on, else the one a re-routing replaced (former_service_codes); None for a stretch
        re-routed by code that kept none (never the current service, which that stretch did not go to)."""
        reroutings = self._reroutings()
        if not reroutings or position >= reroutings[-1]:
            return self.summary.service_code
        return self.former_service_codes.get(_stretch_start(position, reroutings))

    def history_for(self, siret: str) -> list[HistoryEntry]:
        """The history as structure `siret` may read it. The supplier reads all of it. The recipient reads it from
        where the invoice was last routed to it from another structure (or one the record cannot name): what a
        former recipient wrote, and what the supplier answered it, are that structure's business."""
        return self.history[self.history_start_for(siret) :]

    def history_start_for(self, siret: str) -> int:
        """The position of the first history entry structure `siret` may read (history_for)."""
        if siret == self.supplier_siret:
            return 0
        reroutings, start = self._reroutings(), len(self.history)
        while start and self._recipient_at(start - 1, reroutings) == siret:
            start -= 1
        return start

    def _recipient_at(self, position: int, reroutings: list[int]) -> str | None:
        if not reroutings or position >= reroutings[-1]:
            return self.recipient_siret  # None for a rejected invoice: routed to no one
        if position < reroutings[0]:
            return self.summary.buyer_siret
        return self.rerouted_to.get(reroutings[bisect_right(reroutings, position) - 1])

    def _reroutings(self) -> list[int]:
        """Positions of the re-routing entries: only a re-routing takes an invoice from 221 back to 203 (records
        written before this rule read the same way)."""
        return [position for position in range(1, len(self.history))
                if self.history[position].code == MISE_A_DISPOSITION.code
                and self.history[position - 1].code == ERREUR_ROUTAGE.code]  # fmt: skip

    def parties_of(self, siret: str) -> tuple[str, ...]:
        """The roles this structure plays on the invoice: ("supplier",), ("recipient",), both, or none."""
        roles = []
        if siret == self.supplier_siret:
            roles.append("supplier")
        if self.recipient_siret and siret == self.recipient_siret:
            roles.append("recipient")
        return tuple(roles)

    @property
    def attachments_bytes(self) -> int:
        return self.original_size + sum(a.size for a in self.attachments)

    def attachment_since_last(self, code: int, by: Actor) -> bool:
        """Whether `by` added an attachment after the invoice last entered status `code`."""
        since = next((h.at for h in reversed(self.history) if h.code == code), None)
        return any(a.uploaded_by == by and (since is None or a.uploaded_at >= since) for a in self.attachments)

    def request_under(self, key: str) -> str | None:
        """The request a party's Idempotency-Key (its digest) was used for on this invoice, if still remembered."""
        return next((request for k, request in reversed(self.request_keys) if k == key), None)

    def remember_request(self, key: str, request: str) -> None:
        """Note that the change just made answers this key: its retry is then answered, not refused as a transition
        from the status it set. Only the latest are kept (a client retries its last change, and each pair adds ~40
        bytes to a record whose write units count per KB)."""
        self.request_keys = [*self.request_keys, (key, request)][-MAX_REMEMBERED_REQUESTS:]

    def _change_time(self, at: str) -> str:
        """The time a change made at `at` is recorded with: at least 1 ms after the invoice's previous change. Two
        Lambdas' clocks differ: updated_at (a listing's order, a poller's newest) and the history never go back."""
        times = [_instant(t) for t in (self.updated_at, self.history[-1].at if self.history else "") if t]
        if not times or _instant(at) > max(times):
            return at
        after = max(times).astimezone(UTC) + timedelta(milliseconds=1)
        return after.isoformat(timespec="milliseconds").replace("+00:00", "Z")

    # --- the parties' transitions (allowed by domain.lifecycle) -----------------------------

    def set_status(
        self,
        code: int,
        actor: Actor,
        reason_code: str | None,
        comment: str | None,
        at: str,
        amount: Decimal | None = None,
    ) -> None:
        at = self._change_time(at)
        self.history.append(HistoryEntry(code, at, actor, reason_code, comment, amount))
        self.updated_at = at

    def reroute(
        self,
        recipient_siret: str,
        recipient_name: str | None,
        service_code: str | None,
        engagement_number: str | None,
        comment: str | None,
        at: str,
    ) -> None:
        """New routing from the supplier after a routing error (221), checked by the caller: made available
        again, to the recipient given (the same one, or another structure). The summary keeps the buyer the
        document names; the recipient is who receives it. The 203 is the supplier's act (Chorus Pro's
        `recycler`); a re-route is told by its place, a 203 right after a 221 (_reroutings), not by its actor:
        records journaled as the platform's before read the same way. Its target is kept (rerouted_to): the
        history tells whose each stretch between two re-routes was; and the name and service code it replaces, for
        their events."""
        reroutings = self._reroutings()
        stretch = reroutings[-1] if reroutings else 0
        self.former_recipient_names[stretch] = self.recipient_name
        self.former_service_codes[stretch] = self.summary.service_code
        self.summary = replace(self.summary, service_code=service_code, engagement_number=engagement_number)
        self.recipient_siret, self.recipient_name = recipient_siret, recipient_name
        self.rerouted_to[len(self.history)] = recipient_siret
        self.set_status(MISE_A_DISPOSITION.code, "supplier", None, comment or "Re-routed by the supplier", at)

    def attach(self, attachment: Attachment) -> None:
        self.attachments.append(attachment)
        self.updated_at = self._change_time(attachment.uploaded_at)

    # --- the platform's transitions -------------------------------------------------------

    def accept(
        self, summary: InvoiceSummary, recipient_name: str | None, warnings: list[Error], at: str, unlisted: int = 0
    ) -> None:
        """Valid and routed: Déposée then Mise à disposition, in one atomic change."""
        at = self._change_time(at)
        self._finish(summary, recipient_name, warnings, at, routed=True, unlisted=unlisted)
        self.history += [
            HistoryEntry(DEPOSEE.code, at, "platform"),
            HistoryEntry(MISE_A_DISPOSITION.code, at, "platform"),
        ]

    def reject(
        self,
        summary: InvoiceSummary,
        recipient_name: str | None,
        errors: list[Error],
        reason_code: str,
        comment: str,
        at: str,
        unlisted: int = 0,
    ) -> None:
        """Refused by the platform's controls: Rejetée (213) with the reason and every finding."""
        at = self._change_time(at)
        self._finish(summary, recipient_name, errors, at, routed=False, unlisted=unlisted)
        self.history.append(HistoryEntry(REJETEE.code, at, "platform", reason_code, cut(comment, MAX_PLATFORM_COMMENT)))

    def fail(self, at: str) -> None:
        """Processing gave up (poison message): the original is kept and the message is in the DLQ."""
        self.processing = "failed"
        self.updated_at = self._change_time(at)

    def _finish(
        self,
        summary: InvoiceSummary,
        recipient_name: str | None,
        errors: list[Error],
        at: str,
        routed: bool,
        unlisted: int = 0,
    ) -> None:
        """`unlisted`: findings the validation counted without listing them (past its quota per rule). `at` is
        the caller's _change_time."""
        if self.processing == "done":
            raise ValueError(f"invoice {self.id} is already processed")
        ordered = sorted(errors, key=lambda e: (e.severity != "fatal", e.rule))
        self.summary = summary.bounded()
        # A rejected invoice was never made available: the buyer it names does not become a party to it.
        self.recipient_siret = summary.buyer_siret if routed else None
        self.recipient_name = recipient_name or self.summary.buyer_name
        self.errors = _stored_errors(ordered)
        self.errors_truncated = len(ordered) - len(self.errors) + unlisted
        self.processing = "done"
        self.updated_at = at


def _instant(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))


def _stored_errors(ordered: list[Error]) -> list[Error]:
    """The first findings, each text cut to MAX_FINDING_TEXT, up to MAX_STORED_ERRORS and MAX_STORED_ERRORS_BYTES."""
    kept, used = [], 0
    for error in ordered[:MAX_STORED_ERRORS]:
        error = Error(cut(error.rule, 100), cut(error.severity, 20), cut(error.message, MAX_FINDING_TEXT),
                      cut(error.location, MAX_FINDING_TEXT))  # fmt: skip
        used += len(json.dumps(error.as_dict(), ensure_ascii=False).encode())
        if used > MAX_STORED_ERRORS_BYTES:
            break
        kept.append(error)
    return kept
