"""`make audit`: known advisories in both environments, by pip-audit (PyPI's advisory data).

Prints every advisory found, says which are accepted and why (the same list as
docs/security.md), and exits 1 when one is not accepted, 2 when
the advisory data could not be reached for some package.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENVIRONMENTS = {
    "rasa (.venv)": ROOT / ".venv",
    "gateway (.venv-gateway)": ROOT / ".venv-gateway",
}
# Advisories that stay, and why; keep in step with docs/security.md.
ACCEPTED = {
    ("rasa (.venv)", "python-socketio"): "test and benchmark client only; CVE-2025-61765 needs a Redis/Kafka "
                                         "manager, which this environment never runs",
    ("rasa (.venv)", "aiohttp"): "pinned below 3.10 by Rasa 3.6; Rasa serves HTTP with Sanic, aiohttp is only "
                                 "its client to the local action server",
}


# Advisories known here for the install tools themselves (id, first fixed release), checked without
# the network: each environment's pip and setuptools must be at or past every fix, and at the
# release requirements-tools.txt pins.
TOOL_ADVISORIES = {
    "pip": [("CVE-2023-5752", "23.3"), ("CVE-2025-8869", "25.3")],
    "setuptools": [("CVE-2022-40897", "65.5.1"), ("CVE-2024-6345", "70.0.0"), ("CVE-2025-47273", "78.1.1")],
}
TOOLS_FILE = ROOT / "requirements-tools.txt"


def release(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split(".") if part.isdigit())


def pinned_tools() -> dict[str, str]:
    lines = [line.split("#")[0].strip() for line in TOOLS_FILE.read_text().splitlines()]
    return dict(line.split("==", 1) for line in lines if "==" in line)


def installed_version(venv: Path, name: str) -> str | None:
    found = sorted(site_packages(venv).glob(f"{name}-*.dist-info"))
    return found[-1].name[len(name) + 1:-len(".dist-info")] if found else None


def check_tools(label: str, venv: Path) -> list[str]:
    """What is wrong with this environment's pip and setuptools, from what is on disk alone."""
    problems = []
    for name, pinned in pinned_tools().items():
        version = installed_version(venv, name)
        if version != pinned:
            problems.append(f"{name} {version} is not the pinned {pinned} (make install)")
        for advisory, fixed in TOOL_ADVISORIES.get(name, []):
            if version is not None and release(version) < release(fixed):
                problems.append(f"{name} {version} has {advisory} (fixed in {fixed})")
    return problems


def site_packages(venv: Path) -> Path:
    return next((venv / "lib").glob("python3*/site-packages"))


def audit(venv: Path) -> dict:
    run = subprocess.run(
        [sys.executable, "-m", "pip_audit", "--path", str(site_packages(venv)), "-f", "json", "--progress-spinner",
         "off"], capture_output=True, text=True,
    )
    try:
        return json.loads(run.stdout)
    except json.JSONDecodeError:
        return {"dependencies": [], "error": (run.stderr or run.stdout).strip()[-500:]}


def main() -> int:
    unaccepted = unchecked = 0
    tool_problems = 0
    for label, venv in ENVIRONMENTS.items():
        problems = check_tools(label, venv)
        tool_problems += len(problems)
        print(f"== {label}: pip {installed_version(venv, 'pip')}, setuptools {installed_version(venv, 'setuptools')}: "
              + ("; ".join(problems) if problems else "pinned, past every advisory known here (checked offline)"))
        report = audit(venv)
        deps = report.get("dependencies", [])
        skipped = [d for d in deps if d.get("skip_reason")]
        found = [(d, v) for d in deps for v in d.get("vulns", [])]
        print(f"== {label}: {len(deps)} packages, {len(found)} advisories, {len(skipped)} not checked")
        if report.get("error"):
            print(f"   pip-audit failed: {report['error']}")
            unchecked += 1
        for dep, vuln in found:
            why = ACCEPTED.get((label, dep["name"]))
            unaccepted += why is None
            fixes = ", ".join(vuln.get("fix_versions") or []) or "none"
            print(f"   {dep['name']} {dep['version']}  {vuln['id']}  fixed in {fixes}  "
                  f"{'accepted: ' + why if why else 'NOT ACCEPTED'}")
        if skipped:
            unchecked += 1
            print(f"   not checked (the advisory service did not answer for them): "
                  f"{', '.join(d['name'] for d in skipped[:12])}{' …' if len(skipped) > 12 else ''}")
    if unaccepted or tool_problems:
        print(f"{unaccepted} advisories are not accepted: upgrade, or say in docs/security.md why they stay.")
        return 1
    if unchecked:
        print("Not checked offline: advisories published for the packages listed above (pip-audit reads them from "
              "PyPI's JSON API, which did not answer). pip and setuptools were checked against the advisories "
              "recorded in bot/audit.py. Run `make audit` where pypi.org answers.")
        return 2
    print("No advisories left beyond the accepted ones.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
