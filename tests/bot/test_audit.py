"""`make audit`'s offline part: pip and setuptools in both environments."""

from pathlib import Path

from bot import audit


def test_both_environments_carry_the_pinned_tools_past_every_known_advisory() -> None:
    for label, venv in audit.ENVIRONMENTS.items():
        assert audit.check_tools(label, venv) == [], label


def test_an_old_pip_or_setuptools_is_named_with_its_advisory(tmp_path: Path) -> None:
    site = tmp_path / "lib" / "python3.10" / "site-packages"
    (site / "pip-23.0.1.dist-info").mkdir(parents=True)
    (site / "setuptools-70.3.0.dist-info").mkdir()
    problems = " ".join(audit.check_tools("old", tmp_path))
    assert "CVE-2023-5752" in problems and "CVE-2025-8869" in problems and "CVE-2025-47273" in problems
    assert "CVE-2024-6345" not in problems  # 70.3.0 is past that fix
