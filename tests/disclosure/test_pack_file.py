"""What the verifier says about files that are not intact packs: a person holding only the
file learns what is wrong with it, never a traceback."""

from __future__ import annotations

import base64
import json

import pytest

from registry.disclosure import pack
from registry.disclosure.pack import PackError
from registry.disclosure.service import verify_file
from tests.disclosure.helpers import files, rezip

MANIFEST = {"format": pack.FORMAT, "pack_id": "p-1", "subject": {"kind": "investigation"}, "chain_head": None}
REPORT = {"pack_id": "p-1", "subject": {"kind": "investigation"}, "chain_head": None}


def intact() -> bytes:
    return pack.build({"report.json": json.dumps(REPORT).encode(), "report.html": b"<p>report</p>"}, MANIFEST)


def reasons(content: bytes) -> list[tuple[str, str]]:
    result = verify_file(content)
    assert not result.ok
    return [(p.where, p.reason) for p in result.problems]


def test_an_intact_pack_passes_and_each_kind_of_damage_is_named():
    assert verify_file(intact()).ok
    members = files(intact())

    assert reasons(b"not a zip at all")[0][1].startswith("not a readable ZIP file")
    assert reasons(rezip({k: v for k, v in members.items() if k != "report.html"})) == [
        ("report.html", "listed in the manifest but missing from the pack")
    ]
    assert reasons(rezip(members | {"extra.txt": b"planted"})) == [
        ("extra.txt", "in the pack but not listed in the manifest")
    ]
    assert "has no manifest.json" in reasons(rezip({k: v for k, v in members.items() if k != "manifest.json"}))[0][1]
    assert "not readable JSON" in reasons(rezip(members | {"manifest.json": b"{"}))[0][1]
    assert "not the manifest" in reasons(rezip(members | {"manifest.json": b"[]"}))[0][1]
    other = json.dumps(REPORT | {"pack_id": "p-2"}).encode()
    manifest = json.loads(members["manifest.json"])
    manifest["files"]["report.json"] = pack.sha256(other)
    assert reasons(rezip(members | {"report.json": other, "manifest.json": json.dumps(manifest).encode()})) == [
        ("manifest.json", "its pack_id differs from the report's")
    ]


def test_the_identity_part_refuses_what_it_cannot_safely_open():
    with pytest.raises(PackError, match="no identity part"):
        pack.open_identity(intact(), "whatever passphrase")
    sealed = pack.seal_identity([{"codename": "X"}], "a long enough passphrase", "p-1")
    greedy = json.loads(sealed)
    greedy["kdf"]["memory_cost"] = 1 << 30
    garbled = json.loads(sealed) | {"nonce": base64.b64encode(b"x").decode()[:1]}
    for part, message in ((greedy, "does not accept"), (garbled, "not readable")):
        others = {k: v for k, v in files(intact()).items() if k != "manifest.json"}
        content = pack.build({**others, pack.IDENTITY: json.dumps(part).encode()}, MANIFEST)
        with pytest.raises(PackError, match=message):
            pack.open_identity(content, "a long enough passphrase")
