"""requirements.lock, which dev.py installs before learn itself (`--no-deps`), pins every
dependency pyproject.toml names, at a version pyproject allows: a dependency added to
pyproject but not to the lock would be missing on a fresh machine."""

from __future__ import annotations

import sys
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]


def locked() -> dict[str, Version]:
    pins = {}
    for raw in (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        requirement = Requirement(line)
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        (spec,) = requirement.specifier  # exactly one pin per line
        assert spec.operator == "==", raw
        pins[canonicalize_name(requirement.name)] = Version(spec.version)
    return pins


def declared() -> list[tuple[Requirement, str]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    found = [(Requirement(r), "") for r in project["dependencies"]]
    found += [(Requirement(r), "dev") for r in project["optional-dependencies"]["dev"]]
    return found


def test_every_line_of_the_lock_is_an_exact_pin():
    assert locked()


def test_the_lock_pins_every_dependency_pyproject_names_at_an_allowed_version():
    pins = locked()
    missing, outside = [], []
    for requirement, extra in declared():
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": extra}):
            continue
        name = canonicalize_name(requirement.name)
        if name not in pins:
            missing.append(requirement.name)
        elif not requirement.specifier.contains(pins[name], prereleases=True):
            outside.append(f"{requirement} (locked {pins[name]})")
    assert not missing, f"not in requirements.lock: {missing} (see CONTRIBUTING.md)"
    assert not outside, f"locked outside pyproject's range: {outside}"
