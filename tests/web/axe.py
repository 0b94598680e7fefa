"""axe-core in the page: every rule of axe-core 4.14.1 (``tests/web/axe.min.js``, vendored
unchanged from the npm package ``axe-core@4.14.1``, MPL-2.0, sha256 2934899945...d95c), so
the browser tests need no Node. The page's Content-Security-Policy allows no inline script, so
the source is evaluated through the browser's debugging protocol (``page.evaluate``), which
the policy does not govern."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

AXE = Path(__file__).with_name("axe.min.js")
AXE_SHA256 = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"

RUN = """async () => {
  const r = await axe.run(document, { resultTypes: ["violations"] });
  return r.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 3).map(n => n.target.join(" ") + " :: " + n.failureSummary) }));
}"""


def _source() -> str:
    source = AXE.read_text(encoding="utf-8")
    digest = hashlib.sha256(source.encode("utf-8")).hexdigest()
    assert digest == AXE_SHA256, f"{AXE} is not the pinned axe-core 4.14.1 ({digest})"
    return source


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now (every rule axe runs by default)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(_source())
    violations: list[dict[str, Any]] = page.evaluate(RUN)
    return violations


def expect_accessible(page: Any, where: str) -> None:
    """No axe-core violation on the page (``where`` names it in the failure)."""
    found = axe_violations(page)
    assert found == [], f"axe-core violations on {where}: {found}"
