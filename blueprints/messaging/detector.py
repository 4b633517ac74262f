"""Off-platform contact detector: does a message try to take the deal outside Bazaar?

Deals closed off-platform lose escrow and buyer protection, and are the usual start of a scam. The
detector only *reports* what it finds (signal kinds and the matched fragments); the message is stored
and delivered exactly as written, and the fraud domain decides what to do with the signal. It is
deliberately simple: a few tested patterns, tuned not to flag prices, dates, years or order numbers.

Signals: ``phone`` (7-15 digits with separators, or a bare run of 10+), ``email`` (also the
"name at mail dot com" disguise), ``payment_handle`` (venmo/cash app/paypal/zelle... mentions,
``$cashtags``), ``payment_link`` (links to payment sites). Ordinary links are not a signal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PHONE = "phone"
EMAIL = "email"
PAYMENT_HANDLE = "payment_handle"
PAYMENT_LINK = "payment_link"

# Digits with optional separators; at least 7 digits and at most 15 (E.164), e.g. "+1 (415) 555-0134".
_PHONE = re.compile(
    r"(?<![\w$€£.,#])\+?\(?\d(?:[\s().\-/]{0,2}\d){6,14}(?![\w%])"
    r"(?!\s*(?:€|\$|£|(?:eur|usd|gbp|dollars?|euros?|pounds?)\b))",
    re.IGNORECASE,
)
# A plain address, or the usual disguise "name at gmail dot com" / "name [at] mail (dot) org".
_EMAIL = re.compile(
    r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
    r"|\b[\w.+-]+\s*(?:\[at\]|\(at\)|\sat\s)\s*[\w-]+\s*(?:\[dot\]|\(dot\)|\sdot\s|\.)\s*[a-z]{2,}\b",
    re.IGNORECASE,
)
_DATE = re.compile(r"\d{1,4}[./-]\d{1,2}[./-]\d{1,4}")
_YEARS = re.compile(r"(19|20)\d\d\s*[-/]\s*(19|20)\d\d")
_PAYMENT_SERVICES = r"venmo|cash\s?app|paypal|zelle|western\s?union|moneygram|revolut|skrill|apple\s?pay"
# "venmo @jane", "my cashapp is $jane", "zelle me", "pay me on venmo", "$jane_doe" cashtags.
_PAYMENT_HANDLE = re.compile(
    rf"\b(?:{_PAYMENT_SERVICES})\b(?:\s*(?:me|is|:|at)?\s*[@$][\w.-]+)?"
    r"|(?<![\w$])\$[a-z][\w]{2,19}\b",
    re.IGNORECASE,
)
_PAYMENT_LINK = re.compile(
    r"\b(?:https?://)?(?:www\.)?"
    r"(?:paypal\.me|paypal\.com/(?:paypalme|send|pay)|venmo\.com|account\.venmo\.com|cash\.app|cash\.me"
    r"|revolut\.me|wise\.com/pay|buy\.stripe\.com|checkout\.stripe\.com|pay\.google\.com|monzo\.me"
    r"|ko-fi\.com|buymeacoffee\.com|skrill\.me)\b[^\s]*",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Finding:
    """One signal in a message: its kind and the text that matched (for the fraud reviewer)."""

    kind: str
    match: str


def _digits(text: str) -> int:
    return sum(ch.isdigit() for ch in text)


def _looks_like_phone(candidate: str) -> bool:
    digits = _digits(candidate)
    if not 7 <= digits <= 15:
        return False
    compact = re.sub(r"\D", "", candidate)
    stripped = candidate.strip()
    # Bare digit runs are often amounts or order numbers: only a full national number counts.
    if compact == stripped and digits < 10:
        return False
    # A run of one repeated digit ("0000000") is filler; dates and year ranges are not numbers to call.
    if len(set(compact)) == 1:
        return False
    return not (_DATE.fullmatch(stripped) or _YEARS.fullmatch(stripped))


def scan(text: str) -> list[Finding]:
    """Every off-platform contact signal in ``text``, in order of appearance, duplicates removed."""
    found: list[tuple[int, Finding]] = []
    # Each pattern runs once; one that needs a character the text lacks does not run (every payment
    # link has a ".", every email an "@" or an "at"): chat sends scan every message.
    link_matches = list(_PAYMENT_LINK.finditer(text)) if "." in text else []
    email_matches = list(_EMAIL.finditer(text)) if "@" in text or "at" in text.lower() else []
    links = [(m.start(), m.end()) for m in link_matches]
    found += [(m.start(), Finding(PAYMENT_LINK, m.group(0))) for m in link_matches]
    emails = [(m.start(), m.end()) for m in email_matches]
    found += [(m.start(), Finding(EMAIL, m.group(0).strip())) for m in email_matches]

    def inside(spans: list[tuple[int, int]], start: int) -> bool:
        return any(a <= start < b for a, b in spans)

    for m in _PAYMENT_HANDLE.finditer(text):
        if not inside(links, m.start()) and not inside(emails, m.start()):
            found.append((m.start(), Finding(PAYMENT_HANDLE, m.group(0).strip())))
    for m in _PHONE.finditer(text):
        if _looks_like_phone(m.group(0)) and not inside(links, m.start()) and not inside(emails, m.start()):
            found.append((m.start(), Finding(PHONE, m.group(0).strip())))
    unique: list[Finding] = []
    for _, finding in sorted(found, key=lambda pair: pair[0]):
        if finding not in unique:
            unique.append(finding)
    return unique


def signals(text: str) -> list[str]:
    """The distinct signal kinds found in ``text`` (sorted), empty when the message is clean."""
    return sorted({finding.kind for finding in scan(text)})
