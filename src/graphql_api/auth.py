"""Bearer tokens: signed (HS256, PyJWT), naming one staff member, with an expiry.

A token says who; what they may see is read from the staff member's current role and
jurisdiction on every request, so a changed jurisdiction takes effect at once, and a
deactivated member's tokens are refused from the next request on (HTTP 403; an open
subscription is closed, see ``graphql_api.watch.subscriptions``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import jwt

from gridcore.errors import NotFound
from gridcore.staff import Role

ISSUER = "gridcore"
AUDIENCE = "gridcore-api"
ALGORITHM = "HS256"


class TokenError(Exception):
    """The bearer token is malformed, forged or expired (the message says which)."""

    status = 401
    code = "UNAUTHENTICATED"


class AccessWithdrawn(TokenError):
    """The token is sound but names a deactivated staff member (离职, suspended)."""

    status = 403
    code = "FORBIDDEN"


@dataclass(frozen=True)
class Caller:
    """The staff member a request acts for."""

    staff_id: UUID
    role: Role
    jurisdictions: tuple[str, ...]
    """The nodes of their jurisdiction: they see and act inside any of them."""

    @property
    def home(self) -> str:
        """The first node (where they are listed; a board asked for no node answers for
        every node of ``jurisdictions``)."""
        return self.jurisdictions[0]


def issue_token(secret: str, staff: UUID, hours: float, now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    claims = {"sub": str(staff), "iss": ISSUER, "aud": AUDIENCE, "iat": now,
              "exp": now + timedelta(hours=hours)}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def read_token(secret: str, token: str) -> UUID:
    """The staff id a valid token names, or ``TokenError``."""
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], audience=AUDIENCE,
                            issuer=ISSUER, options={"require": ["exp", "sub", "iat"]})
        return UUID(claims["sub"])
    except jwt.ExpiredSignatureError:
        raise TokenError("The token has expired; ask for a new one "
                         "(gridcore token issue --staff ID).") from None
    except (jwt.InvalidTokenError, ValueError):
        raise TokenError("The token is not valid; send `Authorization: Bearer <token>` "
                         "with a token from gridcore token issue.") from None


def bearer(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer ...`` header (None when there is none)."""
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise TokenError("The Authorization header must be `Bearer <token>`.")
    return value.strip()


def staff_caller(gridcore: Any, staff_id: UUID) -> Caller:
    """The caller a token's staff id names, with their role and jurisdiction now (an
    event-store read: call it off the event loop; the repository brings a cached member up to
    the store's latest events, so a deactivation counts at once, whichever process made it)."""
    try:
        member = gridcore.staff(staff_id)
    except NotFound:
        raise TokenError("The token names no staff member; ask for a new one.") from None
    if not member.active:
        raise AccessWithdrawn(f"Staff member {member.staff_no} is deactivated: their tokens "
                              "are refused. An official of their jurisdiction can reactivate "
                              "them (reactivateStaff).")
    return Caller(staff_id=member.id, role=member.role, jurisdictions=member.jurisdictions)
