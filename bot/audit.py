"""`make audit`: known advisories in both environments, by pip-audit (PyPI's advisory data).

Prints every advisory found, says which are accepted and why (the same list as
the README's security section), and exits 1 when one is not accepted, 2 when
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
# Advisories that stay, and why; keep in step with the README ("Security").
ACCEPTED = {
    ("rasa (.venv)", "python-socketio"): "test and benchmark client only; CVE-2025-61765 needs a Redis/Kafka "
                                         "manager, which this environment never runs",
    ("rasa (.venv)", "aiohttp"): "pinned below 3.10 by Rasa 3.6; Rasa serves HTTP with Sanic, aiohttp is only "
                                 "its client to the local action server",
}


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
    for label, venv in ENVIRONMENTS.items():
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
    if unaccepted:
        print(f"{unaccepted} advisories are not accepted: upgrade, or say in the README why they stay.")
        return 1
    if unchecked:
        print("Some packages could not be checked: PyPI's advisory data was not reachable from here.")
        return 2
    print("No advisories left beyond the accepted ones.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
