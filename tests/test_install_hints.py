"""Every install hint names an extra that pyproject.toml declares, or none for a core dependency."""
import re
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[1]


def test_every_missing_dependency_hint_names_a_declared_extra() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = set(project["optional-dependencies"])
    core = {re.split(r"[<>=!~ ]", dep)[0] for dep in project["dependencies"]}
    calls = []
    for path in (ROOT / "src" / "quadiv").rglob("*.py"):
        calls += re.findall(r'MissingDependencyError\(\s*([^,]+),\s*([^,]+),', path.read_text())
    assert calls
    for package, extra in calls:
        extra = extra.strip()
        if extra == "None":
            assert package.strip().strip('"') in core, package
        elif extra.startswith('"'):
            assert extra.strip('"') in extras, (package, extra)


def test_every_require_names_a_declared_extra_or_a_core_package() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = set(project["optional-dependencies"])
    core = {re.split(r"[<>=!~ ]", dep)[0] for dep in project["dependencies"]}
    calls = []
    call = re.compile(r'\brequire\(\s*"([^"]+)",\s*("[^"]*"|None),([^)]*)\)')
    for path in (ROOT / "src" / "quadiv").rglob("*.py"):
        for module, extra, rest in call.findall(path.read_text()):
            package = re.search(r'package="([^"]+)"', rest)
            calls.append((package.group(1) if package else module.split(".")[0], extra))
    assert len(calls) >= 8
    for package, extra in calls:
        assert extra.strip('"') in extras if extra != "None" else package in core, (package, extra)
