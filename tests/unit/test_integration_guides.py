"""The guides in docs/integrations/ show the same configuration text the console fills in.

frontend/src/controllers.ts holds one template per controller family; each guide must
contain it verbatim (placeholders and all), so a venue following the guide pastes what the
"connect a controller" screen would have shown.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONTROLLERS = ROOT / "frontend" / "src" / "controllers.ts"
GUIDES = ROOT / "docs" / "integrations"
WHERE = {
    "mikrotik": ["mikrotik.md"],
    "unifi": ["unifi.md"],
    "omada": ["omada.md"],
    "opennds": ["opennds.md"],
    "freeradius": ["mikrotik.md", "unifi.md", "omada.md"],
}
_LITERAL = re.compile(r'"((?:[^"\\]|\\.)*)"|\'((?:[^\'\\]|\\.)*)\'')


def templates() -> dict[str, str]:
    """Each family's template: the string literals of its array, joined with newlines."""
    source = CONTROLLERS.read_text()
    found = {}
    for family, body in re.findall(r"^  (\w+): \[\n(.*?)\n  \]\.join\(\"\\n\"\),", source, re.M | re.S):
        lines = []
        for double, single in _LITERAL.findall(body):
            lines.append(json.loads(f'"{double}"') if double or not single else single.replace("\\'", "'"))
        found[family] = "\n".join(lines)
    return found


def code_blocks(markdown: str) -> list[str]:
    return [block.strip("\n") for block in re.findall(r"^```[a-z]*\n(.*?)^```", markdown, re.M | re.S)]


def test_every_family_has_a_template() -> None:
    assert set(templates()) == set(WHERE)


@pytest.mark.parametrize("family", sorted(WHERE))
def test_each_guide_shows_the_consoles_text(family: str) -> None:
    template = templates()[family]
    for guide in WHERE[family]:
        assert template in code_blocks((GUIDES / guide).read_text()), f"{guide} lacks the {family} template"
