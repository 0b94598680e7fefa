"""The documents stay true where a test can tell: the README's architecture sketch is the one
in docs/ARCHITECTURE.md, and every path the sketch names exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def sketch(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    section = text[text.index("## Architecture") if "## Architecture\n" in text
                   else text.index("## The layers"):]
    return section[section.index("```\n") + 4:section.index("\n```", section.index("```\n") + 4)]


def test_the_readme_sketch_is_the_architecture_page_sketch() -> None:
    assert sketch(ROOT / "README.md") == sketch(ROOT / "docs" / "ARCHITECTURE.md")


def test_every_file_the_sketch_names_exists() -> None:
    text = sketch(ROOT / "docs" / "ARCHITECTURE.md")
    folder = None
    missing = []
    for line in text.splitlines():
        top = re.match(r"^(src/\w+|projections|simulations|web|tests)/", line)
        if top:
            folder = ROOT / top.group(1)
            continue
        if folder is None or not line.startswith("  "):
            continue
        for name in re.findall(r"(?<![*\w/])([\w/]*[a-z_]+\.py)\b", line):
            where = ROOT if "/" in name else folder  # graphql_api/web.py: a path of its own
            if not list(where.rglob(name)):
                missing.append(f"{where.relative_to(ROOT)}/{name}")
    assert not missing, missing
