"""The notifier's and sender's configuration, from ``GRIDCORE_NOTIFY_*`` variables.

=================================  ==========================================================
``GRIDCORE_NOTIFY_WECOM_URL``      the default group robot webhook (企业微信群机器人) for every
                                   micro-grid's group
``GRIDCORE_NOTIFY_WECOM_URLS``     per scope: ``CODE=URL;CODE=URL`` (or a JSON object); a
                                   micro-grid takes its own or its nearest ancestor's
``GRIDCORE_NOTIFY_SMS_URL``        the SMS gateway's endpoint (``adapters.notify.channels``)
``GRIDCORE_NOTIFY_SMS_KEY``        its bearer key
``GRIDCORE_NOTIFY_SMTP_HOST``      the SMTP server (port ``GRIDCORE_NOTIFY_SMTP_PORT``, 25)
``GRIDCORE_NOTIFY_SMTP_FROM``      the sender address; ``_USER``/``_PASSWORD`` log in,
                                   ``_STARTTLS=1`` upgrades the connection
``GRIDCORE_NOTIFY_EMAILS``         a JSON file ``{"STAFF_NO": "address"}``: staff e-mail
                                   addresses (staff records hold a phone, not an e-mail)
``GRIDCORE_NOTIFY_QUIET_HOURS``    ``22:00-07:00`` (Beijing time, the default) or ``none``
``GRIDCORE_NOTIFY_RATE``           messages per recipient per seconds, ``5/3600`` by default
``GRIDCORE_NOTIFY_TIMEOUT``        seconds a channel waits for its server (10)
=================================  ==========================================================

A channel left unconfigured keeps its messages queued (the sender says so once) until it is.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time, timedelta
from pathlib import Path

from gridcore.notification import DEFAULT_NOTIFY_POLICY, NotifyPolicy

PREFIX = "GRIDCORE_NOTIFY_"


@dataclass(frozen=True)
class NotifySettings:
    wecom_url: str = ""
    wecom_urls: dict[str, str] = field(default_factory=dict)
    sms_url: str = ""
    sms_key: str = ""
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_from: str = "gridcore@localhost"
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    emails: dict[str, str] = field(default_factory=dict)
    policy: NotifyPolicy = DEFAULT_NOTIFY_POLICY
    timeout: float = 10.0

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> NotifySettings:
        env = os.environ if environ is None else environ

        def get(name: str, default: str = "") -> str:
            return env.get(PREFIX + name, default).strip()

        emails_file = get("EMAILS")
        emails = (json.loads(Path(emails_file).read_text(encoding="utf-8"))
                  if emails_file else {})
        return cls(wecom_url=get("WECOM_URL"), wecom_urls=parse_urls(get("WECOM_URLS")),
                   sms_url=get("SMS_URL"), sms_key=get("SMS_KEY"),
                   smtp_host=get("SMTP_HOST"), smtp_port=int(get("SMTP_PORT", "25")),
                   smtp_from=get("SMTP_FROM", "gridcore@localhost"),
                   smtp_user=get("SMTP_USER"), smtp_password=get("SMTP_PASSWORD"),
                   smtp_starttls=get("SMTP_STARTTLS") in ("1", "true", "yes"),
                   emails={str(k): str(v) for k, v in emails.items()},
                   policy=parse_policy(get("QUIET_HOURS"), get("RATE")),
                   timeout=float(get("TIMEOUT", "10")))


def parse_urls(value: str) -> dict[str, str]:
    """``CODE=URL;CODE=URL`` or a JSON object, to {code: url}."""
    if not value:
        return {}
    if value.startswith("{"):
        return {str(k): str(v) for k, v in json.loads(value).items()}
    pairs = (p.split("=", 1) for p in value.split(";") if p.strip())
    return {code.strip(): url.strip() for code, url in pairs}


def parse_policy(quiet: str, rate: str) -> NotifyPolicy:
    changes: dict[str, object] = {}
    if quiet.lower() == "none":
        changes["quiet_start"] = changes["quiet_end"] = time(0, 0)
    elif quiet:
        start, end = quiet.split("-")
        changes["quiet_start"], changes["quiet_end"] = (time.fromisoformat(start.strip()),
                                                        time.fromisoformat(end.strip()))
    if rate:
        count, seconds = rate.split("/")
        changes["rate_limit"], changes["rate_window"] = (int(count),
                                                         timedelta(seconds=float(seconds)))
    return DEFAULT_NOTIFY_POLICY.model_copy(update=changes) if changes else DEFAULT_NOTIFY_POLICY
