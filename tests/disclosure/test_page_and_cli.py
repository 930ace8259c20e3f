"""The page for auditors and legal, and `registry disclosure create | verify | identity`."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import logging
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from registry.cli import main
from registry.disclosure import pack
from tests.disclosure.helpers import IDENTITY_VALUES, PASSPHRASE, files, worked_case
from tests.harness import POLICY, SECRET_KEY, World, details
from tests.web.pages import post_form


@pytest.fixture
def cli_env(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The CLI on the test's database with the test app's key (the pack decrypts identities)."""
    assert world.settings.database_url is not None
    monkeypatch.setenv("REGISTRY_DATABASE_URL", world.settings.database_url)
    monkeypatch.setenv("REGISTRY_DATA_DIR", str(tmp_path / "cli-data"))
    monkeypatch.setenv("REGISTRY_POLICY", str(POLICY))
    monkeypatch.setenv("REGISTRY_SECRET_KEY", base64.urlsafe_b64encode(SECRET_KEY).decode())
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


async def run(monkeypatch: pytest.MonkeyPatch, argv: list[str], stdin: str = "") -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return await asyncio.to_thread(main, argv)


async def test_the_auditor_downloads_a_pack_by_case_number_from_the_page(world):
    case = await worked_case(world)
    case_number = await world.db.fetchval("SELECT case_number FROM investigations")
    page = await case.auditor.get("/disclosures")
    assert page.status_code == 200
    assert 'name="case_number"' in page.text and 'name="passphrase"' not in page.text
    assert 'href="/disclosures"' in (await case.auditor.get("/")).text

    response = await post_form(case.auditor, "/disclosures", {"case_number": case_number}, form_on="/disclosures")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    assert json.loads(files(response.content)["report.json"])["subject"]["case_number"] == case_number

    unknown = await post_form(case.auditor, "/disclosures", {"codename": "no-such-name"}, form_on="/disclosures")
    assert unknown.status_code == 404 and "No persona has the codename no-such-name" in unknown.text
    both = await post_form(
        case.auditor, "/disclosures", {"case_number": case_number, "codename": "x"}, form_on="/disclosures"
    )
    assert both.status_code == 400 and "not both" in both.text
    # A passphrase slipped into the auditor's form is refused, not honoured.
    sneaked = await post_form(
        case.auditor, "/disclosures", {"case_number": case_number, "passphrase": PASSPHRASE}, form_on="/disclosures"
    )
    assert sneaked.status_code == 403 and "legends" in sneaked.text
    assert [e["outcome"] for e in await world.events("disclosure.create")] == ["success", "denied"]


async def test_legal_adds_the_identity_part_from_the_page(world):
    case = await worked_case(world)
    page = await case.lawyer.get("/disclosures")
    assert 'name="passphrase"' in page.text
    codename = case.r.persona["codename"]
    response = await post_form(
        case.lawyer, "/disclosures", {"codename": codename, "passphrase": PASSPHRASE}, form_on="/disclosures"
    )
    assert response.status_code == 200, response.text
    assert pack.open_identity(response.content, PASSPHRASE)[0]["identity"]["alias_name"] == "Jamie Calloway"
    detective = await case.r.t.dana.get("/disclosures")
    assert detective.status_code == 403


async def test_the_command_line_creates_verifies_and_opens_a_pack(
    world: World, cli_env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case = await worked_case(world)
    codename = case.r.persona["codename"]
    out = tmp_path / "pack.zip"

    code = await run(
        monkeypatch,
        ["disclosure", "create", "--persona", codename, "--passphrase-stdin", "--out", str(out)],
        PASSPHRASE + "\n",
    )
    assert code == 0, capsys.readouterr().err
    assert out.stat().st_mode & 0o077 == 0
    [event] = await world.events("disclosure.create")
    assert (event["actor"], event["request_id"]) == (None, "cli")
    assert details(event)["sha256"] == pack.sha256(out.read_bytes())
    capsys.readouterr()

    assert await run(monkeypatch, ["disclosure", "verify", str(out)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["ok"] is True and result["checked"] == ["files", "registry"]

    assert await run(monkeypatch, ["disclosure", "identity", str(out), "--passphrase-stdin"], PASSPHRASE + "\n") == 0
    assert "Jamie Calloway" in capsys.readouterr().out
    assert await run(monkeypatch, ["disclosure", "identity", str(out), "--passphrase-stdin"], "a wrong guess!\n") == 1
    assert "passphrase does not open" in capsys.readouterr().err

    # One byte of the report changed, the manifest left as it was.
    members = files(out.read_bytes())
    report = members["report.json"]
    at = report.index(codename.encode())
    members["report.json"] = report[:at] + b"X" + report[at + 1 :]
    forged = tmp_path / "forged.zip"
    with zipfile.ZipFile(forged, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    assert await run(monkeypatch, ["disclosure", "verify", str(forged), "--offline"]) == 1
    assert "report.json: its SHA-256 differs" in capsys.readouterr().err
    assert await run(monkeypatch, ["disclosure", "verify", str(forged)]) == 1
    err = capsys.readouterr().err
    assert "report.json" in err and "differs from the one the registry exported" in err


async def test_the_command_line_without_a_passphrase_writes_no_identity(
    world: World, cli_env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await worked_case(world)
    case_number = await world.db.fetchval("SELECT case_number FROM investigations")
    out = tmp_path / "pack.zip"
    assert await run(monkeypatch, ["disclosure", "create", "--investigation", case_number, "--out", str(out)]) == 0
    content = out.read_bytes()
    assert pack.IDENTITY not in files(content)
    assert all(v.encode() not in data for v in IDENTITY_VALUES for data in files(content).values())
    assert await run(monkeypatch, ["disclosure", "create", "--investigation", "NOPE-1", "--out", str(out)]) == 1
    assert "No investigation has case number NOPE-1" in capsys.readouterr().err


async def test_a_pack_of_the_demo_case_verifies(
    world: World, cli_env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The issue's own measure: the demo department's case 2026-0142, exported and proved."""
    assert await run(monkeypatch, ["demo"]) == 0
    out = tmp_path / "demo.zip"
    assert await run(monkeypatch, ["disclosure", "create", "--investigation", "2026-0142", "--out", str(out)]) == 0
    capsys.readouterr()
    assert await run(monkeypatch, ["disclosure", "verify", str(out)]) == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True

    report = json.loads(files(out.read_bytes())["report.json"])
    kite = next(p for p in report["personas"] if p["codename"] == "HARBOR-KITE")
    # Each entry was recorded while every condition held. (The demo dates its first entry ten
    # minutes back, before the case was set up: the pack shows that too.)
    assert kite["activity"] and all(a["gate_when_recorded"]["ready"] for a in kite["activity"])
    assert kite["activity"][-1]["gate"]["ready"]
    assert all(a["audit"] is not None for a in kite["activity"])
    assert [h["audit"] is not None for h in kite["history"]] == [True] * len(kite["history"])
