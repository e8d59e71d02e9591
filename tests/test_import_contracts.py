"""Import contracts, read from the source (every import, including the ones inside
functions that load a module lazily), for every package of the app:

- the layers: tui → screens → widgets → services; nothing imports a layer above it;
- services never imports Textual;
- no module imports another module's private names (`from x import _y`, `x._y`):
  a name another module needs is public. Today's exceptions are listed below, each with
  its reason; an exception that no longer occurs fails too, so the list only shrinks.

An AST walk rather than import-linter: it also sees the imports inside functions, which
this project uses to keep start-up cheap, and needs nothing installed.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# What each layer may import from the app's own packages.
LAYERS = {
    "tui": {"tui", "screens", "widgets", "services"},
    "screens": {"screens", "widgets", "services"},
    "widgets": {"widgets", "services"},
    "services": {"services"},
}
FORBIDDEN_THIRD_PARTY = {"services": {"textual"}}

# (importing module, imported module, name) → why it is allowed for now.
PRIVATE_EXCEPTIONS: dict[tuple[str, str, str], str] = {}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def app_files() -> list[Path]:
    files = []
    for package in LAYERS:
        files += sorted((ROOT / package).rglob("*.py"))
    return files


def resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The absolute module an ImportFrom names (`from .spec import x` in services.runner)."""
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def imports(path: Path) -> Iterator[tuple[int, str, str | None]]:
    """(line, module, name) for every import in a file; name is None for `import x`."""
    module = module_name(path)
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, None
        elif isinstance(node, ast.ImportFrom):
            source = resolve(module, path.name == "__init__.py", node)
            for alias in node.names:
                yield node.lineno, source, alias.name


def private_attribute_uses(path: Path) -> Iterator[tuple[int, str, str]]:
    """(line, module, name) for `mod._name` where `mod` is an app module imported here."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    bound: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in LAYERS and alias.asname:
                    bound[alias.asname] = alias.name
        elif (
            isinstance(node, ast.ImportFrom)
            and not node.level
            and node.module
            and node.module.split(".")[0] in LAYERS
        ):
            for alias in node.names:
                bound[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in bound
            and is_private(node.attr)
        ):
            yield node.lineno, bound[node.value.id], node.attr


def is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def test_every_package_is_covered():
    files = app_files()
    assert {module_name(p).split(".")[0] for p in files} == set(LAYERS)
    assert any(module_name(p).startswith("services.runner.") for p in files)


@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_no_layer_imports_a_layer_above_it(layer):
    wrong = []
    for path in sorted((ROOT / layer).rglob("*.py")):
        for line, module, _name in imports(path):
            top = module.split(".")[0]
            if top in LAYERS and top not in LAYERS[layer]:
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
            if top in FORBIDDEN_THIRD_PARTY.get(layer, ()):
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert not wrong, "\n".join(wrong)


def private_imports() -> dict[tuple[str, str, str], str]:
    """(importer, imported module, name) → where, for every cross-module private import."""
    found = {}
    for path in app_files():
        importer = module_name(path)
        for line, module, name in imports(path):
            if module.split(".")[0] not in LAYERS or name is None:
                continue
            if is_private(name) and module != importer:
                found[(importer, module, name)] = f"{path.relative_to(ROOT)}:{line}"
        for line, module, name in private_attribute_uses(path):
            if module != importer:
                found[(importer, module, name)] = f"{path.relative_to(ROOT)}:{line}"
    return found


def test_no_module_imports_another_modules_private_names():
    unexpected = {
        key: where for key, where in private_imports().items() if key not in PRIVATE_EXCEPTIONS
    }
    assert not unexpected, "\n".join(
        f"{where}: {importer} uses {module}.{name}: make the name public"
        for (importer, module, name), where in sorted(unexpected.items())
    )


def test_every_recorded_exception_is_still_needed():
    stale = set(PRIVATE_EXCEPTIONS) - set(private_imports())
    assert not stale, f"no longer used, remove from PRIVATE_EXCEPTIONS: {sorted(stale)}"


def test_the_contract_sees_a_private_import_inside_a_function(tmp_path, monkeypatch):
    # The walk must see lazy imports, or most of this app's imports would go unchecked.
    package = tmp_path / "services"
    package.mkdir()
    (package / "a.py").write_text("def f():\n    from services.b import _hidden\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert list(imports(package / "a.py")) == [(2, "services.b", "_hidden")]


def test_a_relative_import_resolves_to_its_package():
    node = ast.parse("from .spec import x").body[0]
    assert isinstance(node, ast.ImportFrom)
    assert resolve("services.runner.check", False, node) == "services.runner.spec"
    assert resolve("services.runner", True, node) == "services.runner.spec"
