"""`registry disclosure create | verify | identity`: the pack from the command line, and the tool
that proves one against the registry or opens its identity part."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import msgspec

from registry.disclosure import pack, service
from registry.disclosure.pack import PackError
from registry.disclosure.schemas import DisclosureIn, VerifyOut
from registry.errors import ConfigurationError
from registry.runtime import RequestContext, Runtime
from registry.settings import Settings

Migrate = Callable[[Settings], Settings]
RuntimeOf = Callable[[Settings], AbstractAsyncContextManager[Runtime]]
ContextOf = Callable[[Runtime], RequestContext]


def _passphrase(args: argparse.Namespace) -> str | None:
    if not args.passphrase_stdin:
        return None
    return sys.stdin.readline().rstrip("\n")


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read(pack.MAX_PACK_BYTES + 1)
    except OSError as exc:
        raise ConfigurationError(f"cannot read {path}: {exc.strerror}") from exc


def _report(result: VerifyOut) -> int:
    print(msgspec.json.encode(result).decode())
    for problem in result.problems:
        print(f"registry: {problem.where}: {problem.reason}", file=sys.stderr)
    return 0 if result.ok else 1


def add_commands(sub: Any, migrate: Migrate, runtime_of: RuntimeOf, context_of: ContextOf) -> None:
    def create(settings: Settings, args: argparse.Namespace) -> int:
        passphrase = _passphrase(args)
        settings = migrate(settings)

        async def run() -> service.Pack:
            async with runtime_of(settings) as runtime, runtime.db_pool().acquire() as conn:
                subject = await service.subject_of(conn, args.investigation, args.persona)
                data = msgspec.convert({**msgspec.to_builtins(subject), "passphrase": passphrase}, DisclosureIn)
                await service.seal_chain(conn)
                async with conn.transaction():
                    return await service.create(conn, runtime, context_of(runtime), data)

        made = asyncio.run(run())
        # Owner-only: a pack is a confidential record, however it is protected.
        fd = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(made.content)
        print(f"wrote {args.out} ({len(made.content)} bytes, SHA-256 {pack.sha256(made.content)})")
        return 0

    def verify(settings: Settings, args: argparse.Namespace) -> int:
        content = _read(args.file)
        if args.offline:
            return _report(service.verify_file(content))
        settings = migrate(settings)

        async def run() -> VerifyOut:
            async with runtime_of(settings) as runtime, runtime.db_pool().acquire() as conn:
                return await service.verify(conn, content)

        return _report(asyncio.run(run()))

    def identity(_: Settings, args: argparse.Namespace) -> int:
        passphrase = _passphrase(args)
        if passphrase is None:
            print("give the passphrase on standard input with --passphrase-stdin", file=sys.stderr)
            return 2
        try:
            opened = pack.open_identity(_read(args.file), passphrase)
        except PackError as exc:
            print(f"registry: {exc}", file=sys.stderr)
            return 1
        sys.stdout.write(msgspec.json.format(msgspec.json.encode(opened), indent=2).decode() + "\n")
        return 0

    cmd = sub.add_parser("disclosure", help="disclosure packs for court and inspection (003 IV.B.4)")
    commands = cmd.add_subparsers(dest="disclosure_command", required=True)
    make = commands.add_parser("create", help="export a pack for an investigation or a persona")
    which = make.add_mutually_exclusive_group(required=True)
    which.add_argument("--investigation", metavar="CASE", help="the investigation's case number")
    which.add_argument("--persona", metavar="CODENAME", help="the persona's codename")
    make.add_argument(
        "--passphrase-stdin",
        action="store_true",
        help="read a passphrase from standard input and add the identity part, encrypted under it",
    )
    make.add_argument("--out", required=True, metavar="FILE", type=str)
    make.set_defaults(func=create)
    check = commands.add_parser("verify", help="prove a pack: its bytes, and against the registry's audit chain")
    check.add_argument("file", metavar="FILE")
    check.add_argument("--offline", action="store_true", help="check the bytes against the manifest only")
    check.set_defaults(func=verify)
    show = commands.add_parser("identity", help="decrypt a pack's identity part to standard output")
    show.add_argument("file", metavar="FILE")
    show.add_argument("--passphrase-stdin", action="store_true", help="read the passphrase from standard input")
    show.set_defaults(func=identity)
