"""Every install hint names an extra that pyproject.toml declares, or none for a core dependency."""
import re
import tomllib
from pathlib import Path

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
