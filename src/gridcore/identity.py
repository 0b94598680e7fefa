"""Personal identifiers that never print unmasked.

``Phone`` and ``IdNumber`` are ``str`` subclasses: stored and compared as the real value, but
``str()``, ``repr()``, ``format()`` and ``%s`` (and so every log line) show the masked form.
Call ``.reveal()`` where a role may see the whole value.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import GetCoreSchemaHandler
from pydantic_core import PydanticCustomError, core_schema

from gridcore.base import Personal

_PHONE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}$")
_ID = re.compile(r"^\d{17}[\dX]$")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def mask_phone(value: str) -> str:
    """``13812341234`` -> ``138****1234``: keep the carrier prefix and the last four digits."""
    if len(value) < 8:
        return "*" * len(value)
    return f"{value[:3]}{'*' * (len(value) - 7)}{value[-4:]}"


def mask_id_number(value: str) -> str:
    """Keep the first six (region) and last four characters of a resident ID number."""
    if len(value) < 11:
        return "*" * len(value)
    return f"{value[:6]}{'*' * (len(value) - 10)}{value[-4:]}"


def mask_name(value: str) -> str:
    """``张三`` -> ``张*``: the surname (first character) only, as every staff role may see a
    resident's name (``graphql_api.privacy``) and a staff message (``gridcore.notification``)
    carries it."""
    return value[:1] + "*" * max(len(value) - 1, 1)


def id_number_checksum_ok(value: str) -> bool:
    """GB 11643-1999: the 18th character is the ISO 7064 MOD 11-2 check of the first 17."""
    total = sum(int(d) * w for d, w in zip(value[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == value[17]


class _Masked(str):
    kind = "value"

    def masked(self) -> str:
        raise NotImplementedError

    def reveal(self) -> str:
        return str.__str__(self)

    def __str__(self) -> str:
        return self.masked()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.masked()!r})"

    def __format__(self, spec: str) -> str:
        return format(self.masked(), spec)

    @classmethod
    def parse(cls, raw: str) -> _Masked:
        raise NotImplementedError

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        def validate(value: str) -> _Masked:
            if isinstance(value, cls):
                return value
            try:
                return cls.parse(value)
            except ValueError as e:
                raise PydanticCustomError("masked_value", str(e)) from None

        return core_schema.no_info_after_validator_function(
            validate,
            core_schema.str_schema(),
            serialization=core_schema.plain_serializer_function_ser_schema(
                lambda v: str.__str__(v), when_used="always"
            ),
        )


class Phone(_Masked):
    """A mobile (11 digits starting 13-19) or landline (area code and number) phone number."""

    def masked(self) -> str:
        return mask_phone(str.__str__(self))

    @classmethod
    def parse(cls, raw: str) -> Phone:
        digits = re.sub(r"[\s()（）]", "", raw).removeprefix("+86")
        if _PHONE.match(digits) or _LANDLINE.match(digits):
            return cls(digits)
        raise ValueError(
            f"phone number {mask_phone(digits)!r} is malformed; expected 11 digits starting "
            "13-19 (e.g. 138xxxxxxxx) or an area code and number (e.g. 0532-8xxxxxxx)"
        )


class IdNumber(_Masked):
    """An 18-character resident identity card number (居民身份证号) with a valid check digit."""

    def masked(self) -> str:
        return mask_id_number(str.__str__(self))

    @classmethod
    def parse(cls, raw: str) -> IdNumber:
        value = raw.strip().upper()
        if not _ID.match(value) or not id_number_checksum_ok(value):
            raise ValueError(
                f"ID number {mask_id_number(value)!r} is malformed; expected 17 digits and a "
                "check character (0-9 or X) that matches GB 11643"
            )
        return cls(value)


class ResidentIdentity(Personal):
    """A resident's name and identifiers, sealed with the resident's own key."""

    name: str | None = None
    phone: Phone | None = None
    id_number: IdNumber | None = None


class Address(Personal):
    """A household's exact address (门牌), sealed with the household's own key."""

    text: str | None = None
