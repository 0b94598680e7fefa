"""Free text carries no personal numbers.

Notes, reasons and remarks are stored as typed and outlive a resident's erasure: only the
sealed fields (name, phone, ID number, address, a request's text) are destroyed with the
subject's key. A phone or ID number written into free text would survive the erasure, so
every free-text field that is not sealed is checked by :func:`free_text` and refused when it
carries one; the number belongs in the resident's own (sealed) field.
"""

from __future__ import annotations

import re
import unicodedata

from gridcore.errors import InvalidInput

# A separator people type inside a number: space, hyphen, dot (after NFKC, full-width forms
# are ASCII). At most one between two digit groups, so dates and counts are not joined.
_SEP = r"[ .\-]?"

_MOBILE = re.compile(rf"(?<![\dA-Za-z])(?:\+?86{_SEP})?1[3-9]\d{_SEP}\d{{4}}{_SEP}\d{{4}}(?!\d)")
"""A mainland mobile number: 11 digits starting 13-19, optionally +86 and grouped 3-4-4."""

_LANDLINE = re.compile(r"(?<![\dA-Za-z])(?:\(0\d{2,3}\)\s?|0\d{2,3}[ \-])[2-9]\d{6,7}(?!\d)"
                       r"|(?<![\dA-Za-z\-])0\d{2,3}[2-9]\d{6,7}(?![\d\-])")
"""A landline: area code (0 and 2-3 digits, possibly in brackets) and a 7-8 digit number."""

_ID_NUMBER = re.compile(
    r"(?<![\dA-Za-z])\d{6}(?:1[89]|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx]"
    r"(?![\dA-Za-z])"
    r"|(?<![\dA-Za-z])\d{6}\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}(?![\dA-Za-z])")
"""A resident ID number: 18 characters (region, birth date, sequence, check) or the old
15-digit form (two-digit birth year, no check character)."""

_LONG_DIGITS = re.compile(r"(?<!\d)\d{15,}(?!\d)")
"""Any run of 15 or more digits: an ID number typed with a wrong date is still one."""


def personal_number(text: str) -> str | None:
    """``"phone"`` or ``"ID"`` when ``text`` carries a phone or resident ID number, else None.

    Full-width digits (１３９…) are read as digits."""
    plain = unicodedata.normalize("NFKC", text)
    if _ID_NUMBER.search(plain) or _LONG_DIGITS.search(plain):
        return "ID"
    if _MOBILE.search(plain) or _LANDLINE.search(plain):
        return "phone"
    return None


def refuse_personal_numbers(text: str, field: str) -> None:
    """Raise ``InvalidInput`` when ``text`` carries a phone or ID number (the message never
    repeats the number)."""
    found = personal_number(text)
    if found == "phone":
        raise InvalidInput(f"The {field} contains a phone number.",
                           "Write it in the resident's phone field, not in free text; free "
                           "text is kept after a resident's record is erased.")
    if found == "ID":
        raise InvalidInput(f"The {field} contains an ID number (身份证号).",
                           "Write it in the resident's ID number field, not in free text; free "
                           "text is kept after a resident's record is erased.")


def free_text(value: str | None, field: str, longest: int = 500,
              required: bool = False, example: str = "") -> str:
    """A free-text field as stored: stripped, at most ``longest`` characters, present when
    ``required``, and carrying no phone or ID number (see the module's docstring)."""
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise InvalidInput(f"The {field} is not text.", f"Give the {field} as text.")
    text = value.strip()
    hint = f", e.g. {example!r}" if example else ""
    if required and not text:
        raise InvalidInput(f"The {field} is missing.", f"Give a short {field}{hint}.")
    if len(text) > longest:
        raise InvalidInput(f"The {field} is {len(text)} characters long.",
                           f"Write the {field} in at most {longest} characters{hint}.")
    refuse_personal_numbers(text, field)
    return text


# ---- cells of a spreadsheet -----------------------------------------------------------------

_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
FORMULA_TRIGGERS = _FORMULA_TRIGGERS
"""What a cell may not start with (``safe_cell``)."""
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def safe_cell(value: object) -> object:
    """The value as a spreadsheet should receive it (CSV injection): text a spreadsheet would
    run as a formula (starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return)
    gets a leading ``'``; numbers, and text that is just a number, are unchanged. Every CSV
    and .xlsx gridcore writes takes its cells through this one rule (``adapters.spreadsheet``,
    ``graphql_api.exports``)."""
    if isinstance(value, str) and value.startswith(_FORMULA_TRIGGERS) \
            and not _NUMBER.fullmatch(value):
        return "'" + value
    return value
