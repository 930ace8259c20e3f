"""axe-core in the browser tests: the npm package (tests/web/package.json, installed by
scripts/setup) injected into the page as it stands, run against WCAG 2.2 AA, and a failure
that lists each serious or critical violation readably."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.async_api import Page

AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.0, 2.1 and 2.2 at levels A and AA (axe tags no level-A rule new in 2.2).
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BLOCKING = ("serious", "critical")


async def violations(page: Page) -> list[dict[str, Any]]:
    """axe's violations of WCAG 2.2 AA on the page as it stands, every impact."""
    if not AXE.is_file():
        raise AssertionError(f"{AXE} is missing: run scripts/setup (it installs tests/web/package.json)")
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        await page.add_script_tag(path=str(AXE))
    found: list[dict[str, Any]] = await page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                targets: v.nodes.map(n => n.target.join(" ")),
                summary: v.nodes.length ? v.nodes[0].failureSummary : "",
            }));
        }""",
        WCAG_22_AA,
    )
    return found


def report(where: str, found: list[dict[str, Any]]) -> str:
    """One block per violation: where, rule id and impact, what it asks, the elements at fault."""
    lines = []
    for v in found:
        targets = ", ".join(v["targets"][:6]) + (f" (+{len(v['targets']) - 6} more)" if len(v["targets"]) > 6 else "")
        fix = "\n".join(f"    {line.strip()}" for line in v["summary"].splitlines() if line.strip())
        lines.append(f"{where}: {v['id']} [{v['impact']}] {v['help']} ({v['helpUrl']})\n    at: {targets}\n{fix}")
    return "\n".join(lines)


async def blocking(page: Page, where: str) -> str:
    """The page's serious and critical violations as a readable report ("" when there are none)."""
    return report(where, [v for v in await violations(page) if v["impact"] in BLOCKING])
