"""API settings from the environment: the mode (production or development), the token secret
and the query limits.

``GRIDCORE_API_MODE``: ``development`` (default: GraphiQL and introspection on, errors shown)
or ``production`` (GraphiQL and introspection off, unexpected errors masked).
``GRIDCORE_API_SECRET``: the key that signs bearer tokens. Required in production; in
development a random one is kept in ``GRIDCORE_API_SECRET_FILE`` (default
``./var/api-secret``) so ``gridcore token issue`` and ``gridcore serve`` agree.
``GRIDCORE_API_AUDIT_FILE``: the append-only audit log of unmasked personal fields read
(default ``./var/api-audit.jsonl``; see ``graphql_api.privacy``).
``GRIDCORE_API_MAX_BODY_BYTES`` (64 KiB), ``GRIDCORE_API_MAX_STAFF_BODY_BYTES`` (1 MiB, for a
request with a valid token: a device's offline batch), ``GRIDCORE_API_MAX_COST`` (25,000) and
``GRIDCORE_API_DOCUMENT_CACHE_BYTES`` (32 MiB, estimated): see ``graphql_api.limits``.
``GRIDCORE_API_FILE_LIMIT_ADDRESS`` (``30/hour``) and ``GRIDCORE_API_FILE_LIMIT_PHONE``
(``5/hour``): anonymous request filings per client address and per phone (``off`` for none;
see ``graphql_api.ratelimit``).
``GRIDCORE_SMS_RECEIPT_KEY``: the key an SMS gateway sends with its delivery receipts
(``POST /notify/sms/receipt``, see ``graphql_api.sms_receipts``); unset, the route answers 404.
``GRIDCORE_MAP_TILES``: the dashboard map's tile URL template (unset: no tile server, the grid's
polygons on a plain background) and ``GRIDCORE_MAP_ATTRIBUTION`` its attribution; the page's
Content-Security-Policy then allows images from that origin (``dashboardSettings``).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlsplit

from graphql_api.ratelimit import Limit, parse_limit

DEFAULT_SECRET_FILE = "./var/api-secret"
DEFAULT_AUDIT_FILE = "./var/api-audit.jsonl"
DEFAULT_MAX_BODY_BYTES = 64 * 1024
DEFAULT_MAX_STAFF_BODY_BYTES = 1024 * 1024
DEFAULT_MAX_COST = 25_000
DEFAULT_DOCUMENT_CACHE_BYTES = 32 * 1024 * 1024
DEFAULT_FILE_LIMIT_ADDRESS = Limit(30, 3600.0)  # 30/hour
DEFAULT_FILE_LIMIT_PHONE = Limit(5, 3600.0)  # 5/hour


class Mode(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class SettingsError(ValueError):
    """The API's environment is incomplete or contradictory (message says what to set)."""


@dataclass(frozen=True)
class ApiSettings:
    mode: Mode
    secret: str
    token_hours: float = 12.0
    max_depth: int = 10
    max_aliases: int = 30
    max_tokens: int = 2000
    page_max: int = 100
    audit_file: str = DEFAULT_AUDIT_FILE
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_staff_body_bytes: int = DEFAULT_MAX_STAFF_BODY_BYTES
    max_document_chars: int = 32 * 1024
    max_cost: int = DEFAULT_MAX_COST
    document_cache_bytes: int = DEFAULT_DOCUMENT_CACHE_BYTES
    file_limit_per_address: Limit | None = DEFAULT_FILE_LIMIT_ADDRESS
    file_limit_per_phone: Limit | None = DEFAULT_FILE_LIMIT_PHONE
    sms_receipt_key: str = ""
    map_tiles: str = ""
    map_attribution: str = ""

    @property
    def production(self) -> bool:
        return self.mode is Mode.PRODUCTION

    def __repr__(self) -> str:  # never print the secret
        return f"ApiSettings(mode={self.mode.value}, token_hours={self.token_hours})"


def _mode(environ: Mapping[str, str]) -> Mode:
    raw = environ.get("GRIDCORE_API_MODE", Mode.DEVELOPMENT.value).strip().lower()
    try:
        return Mode(raw)
    except ValueError:
        raise SettingsError(f"GRIDCORE_API_MODE={raw!r} is unknown; use production or "
                            "development.") from None


def _development_secret(path: Path) -> str:
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(value)
    return value


def api_settings(environ: Mapping[str, str] | None = None) -> ApiSettings:
    environ = os.environ if environ is None else environ
    mode = _mode(environ)
    secret = environ.get("GRIDCORE_API_SECRET", "")
    if not secret:
        if mode is Mode.PRODUCTION:
            raise SettingsError("GRIDCORE_API_SECRET is not set; production needs the token "
                                "signing key (32+ random characters) in that variable.")
        secret = _development_secret(Path(environ.get("GRIDCORE_API_SECRET_FILE",
                                                      DEFAULT_SECRET_FILE)))
    if len(secret) < 32:
        raise SettingsError("GRIDCORE_API_SECRET is shorter than 32 characters; use a long "
                            "random value, e.g. `python -c 'import secrets; "
                            "print(secrets.token_urlsafe(48))'`.")
    limits, filing = _limits(environ), _filing_limits(environ)
    receipt_key = environ.get("GRIDCORE_SMS_RECEIPT_KEY", "").strip()
    if receipt_key and len(receipt_key) < 16:
        raise SettingsError("GRIDCORE_SMS_RECEIPT_KEY is shorter than 16 characters; give the "
                            "SMS gateway a long random key, or unset it to close the receipt "
                            "route.")
    return ApiSettings(mode=mode, secret=secret,
                       token_hours=float(environ.get("GRIDCORE_API_TOKEN_HOURS", "12")),
                       audit_file=environ.get("GRIDCORE_API_AUDIT_FILE", DEFAULT_AUDIT_FILE),
                       max_body_bytes=limits["max_body_bytes"],
                       max_staff_body_bytes=limits["max_staff_body_bytes"],
                       max_cost=limits["max_cost"],
                       document_cache_bytes=limits["document_cache_bytes"],
                       file_limit_per_address=filing["file_limit_per_address"],
                       file_limit_per_phone=filing["file_limit_per_phone"],
                       sms_receipt_key=receipt_key,
                       map_tiles=map_tiles(environ),
                       map_attribution=environ.get("GRIDCORE_MAP_ATTRIBUTION", "").strip())


def map_tiles(environ: Mapping[str, str]) -> str:
    """``GRIDCORE_MAP_TILES``: the dashboard map's tile URL template (``{z}``, ``{x}``,
    ``{y}``; http or https), or "" (unset: no tiles, the polygons on a plain background)."""
    raw = environ.get("GRIDCORE_MAP_TILES", "").strip()
    if not raw:
        return ""
    parsed = urlsplit(raw)
    if parsed.scheme not in ("http", "https") or not parsed.netloc or not all(
            k in raw for k in ("{z}", "{x}", "{y}")):
        raise SettingsError(f"GRIDCORE_MAP_TILES={raw!r} is not a tile URL template; give an "
                            "http(s) URL with {z}, {x} and {y}, e.g. "
                            "https://tiles.example.org/{z}/{x}/{y}.png, or unset it for no "
                            "tiles.")
    return raw


def _limits(environ: Mapping[str, str]) -> dict[str, int]:
    """The request limits the environment sets (positive whole numbers)."""
    out = {}
    for field, variable, default in (
            ("max_body_bytes", "GRIDCORE_API_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES),
            ("max_staff_body_bytes", "GRIDCORE_API_MAX_STAFF_BODY_BYTES",
             DEFAULT_MAX_STAFF_BODY_BYTES),
            ("max_cost", "GRIDCORE_API_MAX_COST", DEFAULT_MAX_COST),
            ("document_cache_bytes", "GRIDCORE_API_DOCUMENT_CACHE_BYTES",
             DEFAULT_DOCUMENT_CACHE_BYTES)):
        raw = environ.get(variable, "").strip().replace("_", "")
        if not raw:
            out[field] = default
        elif raw.isdigit() and int(raw) > 0:
            out[field] = int(raw)
        else:
            raise SettingsError(f"{variable} must be a positive whole number (default "
                                f"{default}).")
    return out


def _filing_limits(environ: Mapping[str, str]) -> dict[str, Limit | None]:
    """The anonymous filing limits the environment sets (``5/hour``, ``30/15min``, ``off``)."""
    out = {}
    for field, variable, default in (
            ("file_limit_per_address", "GRIDCORE_API_FILE_LIMIT_ADDRESS",
             DEFAULT_FILE_LIMIT_ADDRESS),
            ("file_limit_per_phone", "GRIDCORE_API_FILE_LIMIT_PHONE", DEFAULT_FILE_LIMIT_PHONE)):
        raw = environ.get(variable, "").strip()
        try:
            out[field] = parse_limit(raw) if raw else default
        except ValueError as e:
            raise SettingsError(f"{variable}: {e} (default {default.count}/hour).") from None
    return out
