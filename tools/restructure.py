#!/usr/bin/env python3
"""Issue #20, phase 2: move services' flat modules into subsystem packages.

    python3 tools/restructure.py            # do it (git mv, rewrite imports, new __init__s)
    python3 tools/restructure.py --dry-run  # say what it would do; change nothing
    python3 tools/restructure.py --check    # exit 1 if anything is left to do

Run it at the top of a clean checkout, then `python3 dev.py test`. It is idempotent: a
second run finds nothing to do, and a run after merging a branch that still uses the old
module names rewrites just that branch's uses. No compatibility modules are left behind.

What it does:

1. `git mv` each module in MOVES to its package (services/backend.py →
   services/data/backend.py, …) and writes each new package's `__init__.py` (PACKAGES: a
   docstring naming its job and its modules; it imports nothing, so importing one module
   of a package never loads the others — start-up stays as cheap as it is).
2. Rewrites every reference in the repository's tracked text files, except the frozen
   migrations, the test snapshots and CHANGELOG.md (history):
   - Python imports, found with `ast`: `from services.api import X` →
     `from services.data.api import X`; `from services import config, headstart` →
     `from services import config` + `from services.data import headstart`;
     `from services import review` → `from services.review import spaced as review`;
     `import services.api as api` → `import services.data.api as api`;
   - dotted names anywhere else (strings, comments, `sys.modules.get("services.…")`,
     `python -m services.…`): `services.api` → `services.data.api`;
   - paths: `services/api.py` → `services/data/api.py`;
   - `from services import a, b` inside strings (code run in a subprocess).
3. Makes public the private names other modules import (RENAMES: api's `_build` →
   `build`, …) in their module and its importers, and drops the PRIVATE_EXCEPTIONS entries
   of tests/test_import_contracts.py that recorded them.
4. Sorts the imports it touched (`ruff check --fix --select I` when ruff is there) and
   lists any module still flat in services/ that MOVES does not name (a module added by a
   branch merged since: add it to MOVES or to SHARED and run again).

Splitting the big modules (offline, tutor, backend) into modules of one job each is not
mechanical; it is done by hand after this (see docs/architecture.md).
"""

from __future__ import annotations

import argparse
import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# old module → new module. A module whose new name is `<old>.<leaf>` (authoring, review,
# offline, tutor) turns the old name into a package.
MOVES = {
    "services.api": "services.data.api",
    "services.backend": "services.data.backend",
    "services.database": "services.data.database",
    "services.headstart": "services.data.headstart",
    "services.live": "services.data.live",
    "services.local_auth": "services.data.local_auth",
    "services.oauth": "services.data.oauth",
    "services.postgrest": "services.data.postgrest",
    "services.seed": "services.data.seed",
    "services.session": "services.data.session",
    "services.offline": "services.offline.backend",
    "services.sqlite_store": "services.offline.store",
    "services.tutor": "services.tutor.chat",
    "services.authoring": "services.authoring.publishing",
    "services.content": "services.authoring.content",
    "services.preview": "services.authoring.preview",
    "services.scaffold": "services.authoring.scaffold",
    "services.review": "services.review.spaced",
    "services.practice": "services.review.practice",
    "services.drafts": "services.review.drafts",
}

# Private names other modules use, made public (module after the move, old → new). The
# importing modules are rewritten too, and their entries leave PRIVATE_EXCEPTIONS in
# tests/test_import_contracts.py.
RENAMES = {
    "services.data.api": {
        "_build": "build",
        "_build_optional": "build_optional",
        "_float": "float_or_none",
        "_parse_dt": "parse_datetime",
        "_write_result": "write_result",
    },
}
CONTRACTS = ROOT / "tests" / "test_import_contracts.py"

# Modules that stay at services/ on purpose: shared by every subsystem, or a command.
SHARED = {"config", "paths", "errors", "text", "logs", "timezones", "doctor", "words"}

PACKAGES = {
    "services.data": '''"""Data access: one API over two backends, and the embedded database.

    api.LearningAPI           typed methods, one per screen-shaped SQL function
    backend.Backend           the protocol; LocalBackend (psycopg, as PostgREST runs a
                              request), SupabaseBackend (supabase-py); backend_from_settings
    postgrest                 the request settings PostgREST makes (role, claims)
    database.EmbeddedPostgres the embedded server; migrate() applies supabase/migrations/
    seed                      the bundled courses, published as their author
    headstart                 the first dashboard fetched by psql while Textual loads
    session.SessionStore      the session file (0600); local_auth: scrypt passwords
    oauth                     provider sign-in with PKCE and a loopback redirect
    live                      live notifications (LISTEN/NOTIFY, Realtime)

Import the module you need (`from services.data.api import LearningAPI`): this package
imports nothing, so loading one module never loads the others.
"""
''',
    "services.offline": '''"""Offline: nothing lost, nothing misrecorded.

    backend.OfflineBackend   wraps any Backend: reads served from the ReadCache when the
                             server is unreachable, writes appended to the Outbox first and
                             replayed in order, once; SyncStatus; download_course
    store.SharedFile         the SQLite files every `learn` process shares (one connection
                             per file per process, WAL, damaged files moved aside)

Import the module you need; this package imports nothing.
"""
''',
    "services.tutor": '''"""The AI tutor: an OpenAI-compatible chat server, streamed.

    chat.Tutor, chat.Answer, chat.TutorContext, chat.TutorError   (see chat's docstring)

Import the module you need; this package imports nothing.
"""
''',
    "services.authoring": '''"""Authoring: course folders, their preview, and publishing them.

    content     load_course, validate, write_course: folders ↔ what the database publishes
    preview     FolderBackend: a folder answering the read calls, for `learn course preview`
    publishing  AuthoringAPI: publish, export, the studio and the operators' report
    scaffold    `learn course new SLUG`: a course folder that validates as it is

Import the module you need; this package imports nothing.
"""
''',
    "services.review": '''"""After a lesson: spaced review, practice in an editor, and code drafts.

    spaced      Reviews, ReviewCard, Rating: review cards scheduled with FSRS-6
    practice    `learn practice`: an assessment in the learner's own editor
    drafts      the editor's code, saved atomically as the learner types

Import the module you need; this package imports nothing.
"""
''',
}

SKIP_DIRS = ("supabase/migrations/", "tests/tui/__snapshots__/")
SKIP_FILES = {"CHANGELOG.md", "tools/restructure.py"}
TEXT_SUFFIXES = {
    ".py",
    ".md",
    ".toml",
    ".txt",
    ".cfg",
    ".ini",
    ".tcss",
    ".sh",
    ".yml",
    ".yaml",
    ".json",
    "",
}


def path_of(module: str) -> Path:
    return ROOT / Path(*module.split(".")).with_suffix(".py")


def leaf_packages() -> dict[str, set[str]]:
    """new package → the module names it holds (from MOVES and from disk)."""
    found: dict[str, set[str]] = {}
    for new in MOVES.values():
        package, leaf = new.rsplit(".", 1)
        found.setdefault(package, set()).add(leaf)
    for package in list(found):
        folder = ROOT / Path(*package.split("."))
        if folder.is_dir():
            found[package] |= {p.stem for p in folder.glob("*.py") if p.stem != "__init__"}
            found[package] |= {
                p.name for p in folder.iterdir() if p.is_dir() and (p / "__init__.py").exists()
            }
    return found


SUBMODULES = leaf_packages()


def is_submodule(package: str, name: str) -> bool:
    return name in SUBMODULES.get(package, set())


# -- moving files ---------------------------------------------------------------------


def git(*args: str, check: bool = True) -> str:
    return subprocess.run(
        ["git", *args], cwd=ROOT, check=check, capture_output=True, text=True
    ).stdout


def move_files(dry_run: bool) -> list[str]:
    done = []
    for old, new in MOVES.items():
        source, target = path_of(old), path_of(new)
        if not source.exists():
            continue  # moved already
        if target.exists():
            sys.exit(
                f"both {source.relative_to(ROOT)} and {target.relative_to(ROOT)} "
                "exist: merge them by hand first"
            )
        done.append(f"git mv {source.relative_to(ROOT)} {target.relative_to(ROOT)}")
        if not dry_run:
            target.parent.mkdir(parents=True, exist_ok=True)
            git("mv", str(source.relative_to(ROOT)), str(target.relative_to(ROOT)))
    for package, docstring in PACKAGES.items():
        init = ROOT / Path(*package.split(".")) / "__init__.py"
        if init.exists() or not (init.parent.is_dir() or dry_run):
            continue
        done.append(f"write {init.relative_to(ROOT)}")
        if not dry_run:
            init.write_text(docstring, encoding="utf-8")
            git("add", str(init.relative_to(ROOT)))
    return done


# -- rewriting Python imports -----------------------------------------------------------


def _alias(name: str, asname: str | None) -> str:
    return f"{name} as {asname}" if asname else name


def _from_line(indent: str, module: str, names: list[str], tail: str) -> str:
    line = f"{indent}from {module} import {', '.join(names)}{tail}"
    if len(line) <= 100 or len(names) == 1:
        return line
    inner = "".join(f"{indent}    {n},\n" for n in names)
    return f"{indent}from {module} import (\n{inner}{indent}){tail}"


def rewrite_from_services(node: ast.ImportFrom) -> list[tuple[str, list[str]]] | None:
    """`from services import a, b` → [(module, [names…])], or None if nothing moves."""
    groups: dict[str, list[str]] = {}
    moved = False
    for alias in node.names:
        new = MOVES.get(f"services.{alias.name}")
        if new is None or new == f"services.{alias.name}":
            groups.setdefault("services", []).append(_alias(alias.name, alias.asname))
            continue
        moved = True
        package, leaf = new.rsplit(".", 1)
        if leaf == alias.name:
            groups.setdefault(package, []).append(_alias(leaf, alias.asname))
        else:
            groups.setdefault(package, []).append(f"{leaf} as {alias.asname or alias.name}")
    return list(groups.items()) if moved else None


def new_module_for(module: str, names: list[str] | None) -> str | None:
    """The module `from <module> import <names>` should now name, or None if unchanged."""
    new = MOVES.get(module)
    if new is None:
        # a submodule of a moved module's old name: services.api.x does not exist; no case
        return None
    if new.startswith(module + ".") and names and all(is_submodule(module, n) for n in names):
        return None  # already the package's modules
    return new


def rewrite_python(text: str) -> tuple[str, set[int]]:
    """Imports rewritten; also returns the line numbers (1-based) that are imports."""
    tree = ast.parse(text)
    lines = text.splitlines(keepends=True)
    edits: list[tuple[int, int, str]] = []  # (first line, last line, new text)
    import_lines: set[int] = set()
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        first, last = node.lineno, node.end_lineno or node.lineno
        import_lines.update(range(first, last + 1))
        start_line, end_line = lines[first - 1], lines[last - 1]
        indent = start_line[: node.col_offset]
        if indent.strip():  # `x; import y` on one line: leave it
            continue
        tail = end_line[node.end_col_offset :].rstrip("\n")
        newline = "\n" if end_line.endswith("\n") else ""
        new_text = None
        if isinstance(node, ast.ImportFrom) and not node.level and node.module == "services":
            groups = rewrite_from_services(node)
            if groups:
                parts = [_from_line(indent, module, names, "") for module, names in groups]
                parts[-1] += tail
                new_text = "\n".join(parts) + newline
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            target = new_module_for(node.module, [a.name for a in node.names])
            if target:
                names = [_alias(a.name, a.asname) for a in node.names]
                new_text = _from_line(indent, target, names, tail) + newline
        elif isinstance(node, ast.Import):
            changed, names = False, []
            for alias in node.names:
                target = MOVES.get(alias.name)
                if target and target != alias.name:
                    changed = True
                    names.append(_alias(target, alias.asname))
                else:
                    names.append(_alias(alias.name, alias.asname))
            if changed:
                new_text = f"{indent}import {', '.join(names)}{tail}{newline}"
        if new_text is not None:
            edits.append((first, last, new_text))
    for first, last, new_text in sorted(edits, reverse=True):
        lines[first - 1 : last] = [new_text]
    return "".join(lines), import_lines


# -- rewriting text ---------------------------------------------------------------------


def _dotted_pattern(old: str, new: str) -> re.Pattern[str]:
    guard = ""
    if new.startswith(old + "."):  # the old name is now a package
        package = old
        subs = sorted(SUBMODULES.get(package, set()))
        if subs:
            guard = r"(?!\.(?:" + "|".join(map(re.escape, subs)) + r")\b)"
    return re.compile(r"(?<![\w.])" + re.escape(old) + r"(?![\w])" + guard)


def _path_pattern(old: str) -> re.Pattern[str]:
    return re.compile(r"(?<![\w./-])" + re.escape(old.replace(".", "/") + ".py") + r"\b")


def patterns() -> None:
    """The text rules, made once the packages' modules are known (after the moves)."""
    DOTTED[:] = [(_dotted_pattern(old, new), new) for old, new in MOVES.items() if old != new]
    PATHS[:] = [
        (_path_pattern(old), new.replace(".", "/") + ".py")
        for old, new in MOVES.items()
        if old != new
    ]


DOTTED: list[tuple[re.Pattern[str], str]] = []
PATHS: list[tuple[re.Pattern[str], str]] = []
FROM_SERVICES_IN_TEXT = re.compile(r"from services import (\w+(?:, \w+)*)")


def rewrite_text(text: str, skip_lines: set[int] | frozenset[int] = frozenset()) -> str:
    out = []
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        if number not in skip_lines:
            for pattern, new in PATHS:
                line = pattern.sub(new, line)
            for pattern, new in DOTTED:
                line = pattern.sub(new, line)
            line = FROM_SERVICES_IN_TEXT.sub(_from_services_in_text, line)
            line = _fit_divider(line)
        out.append(line)
    return "".join(out)


DIVIDER = re.compile(r"(?<= )([-=])\1{3,}$")


def _fit_divider(line: str) -> str:
    """`# -- sync (services.offline.backend) -----…`: the dashes shrink to fit 100."""
    body = line.rstrip("\n")
    over = len(body) - 100
    found = DIVIDER.search(body)
    if over <= 0 or found is None or len(found.group(0)) - over < 4:
        return line
    return body[: len(body) - over] + line[len(body) :]


def _from_services_in_text(match: re.Match[str]) -> str:
    node = ast.parse(f"from services import {match.group(1)}").body[0]
    assert isinstance(node, ast.ImportFrom)
    groups = rewrite_from_services(node)
    if not groups:
        return match.group(0)
    return "; ".join(f"from {module} import {', '.join(names)}" for module, names in groups)


def tracked_files() -> list[Path]:
    files = []
    for name in git("ls-files").splitlines():
        if name in SKIP_FILES or name.startswith(SKIP_DIRS):
            continue
        path = ROOT / name
        if path.suffix in TEXT_SUFFIXES and path.is_file():
            files.append(path)
    return files


LONG_BEFORE: dict[Path, set[str]] = {}  # path → its lines over 100 before the rewrite


def rewrite_files(dry_run: bool) -> list[Path]:
    changed = []
    for path in tracked_files():
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        if path.suffix == ".py":
            try:
                new, import_lines = rewrite_python(text)
            except SyntaxError:
                new, import_lines = text, set()
            # line numbers still hold: re-parse to skip the (rewritten) imports
            try:
                _, import_lines = rewrite_python(new)
            except SyntaxError:
                pass
            new = rewrite_text(new, import_lines)
        else:
            new = rewrite_text(text)
        if new != text:
            changed.append(path)
            LONG_BEFORE[path] = {line for line in text.splitlines() if len(line) > 100}
            if not dry_run:
                path.write_text(new, encoding="utf-8")
    return changed


# -- private names made public ------------------------------------------------------------


def _defines(tree: ast.Module, name: str) -> bool:
    return any(
        isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and n.name == name
        for n in ast.walk(tree)
    ) or any(
        isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Store)
        for n in ast.walk(tree)
    )


def rename_private_names(dry_run: bool) -> list[str]:
    """RENAMES in the defining module and in every module that imports them from it."""
    done = []
    for module, names in RENAMES.items():
        home = path_of(module)
        if not home.exists():
            done.append(f"skipped renames in {module}: not found")
            continue
        for path in tracked_files():
            if path.suffix != ".py" or path == Path(__file__).resolve():
                continue
            text = path.read_text(encoding="utf-8")
            try:
                tree = ast.parse(text)
            except SyntaxError:
                continue
            if path == home:
                wanted = {old for old in names if _defines(tree, old)}
            else:
                wanted = {
                    a.name
                    for n in ast.walk(tree)
                    if isinstance(n, ast.ImportFrom) and n.module == module
                    for a in n.names
                    if a.name in names
                }
                clash = {old for old in wanted if _defines(tree, old)}
                if clash:
                    done.append(
                        f"{path.relative_to(ROOT)} defines {sorted(clash)} itself: rename by hand"
                    )
                    wanted -= clash
            new = text
            for old in sorted(wanted):
                new = re.sub(r"(?<![\w.])" + re.escape(old) + r"\b", names[old], new)
            if new != text:
                done.append(f"renamed {', '.join(sorted(wanted))} in {path.relative_to(ROOT)}")
                if not dry_run:
                    path.write_text(new, encoding="utf-8")
        done += drop_exceptions(module, names, dry_run)
    return done


def drop_exceptions(module: str, names: dict[str, str], dry_run: bool) -> list[str]:
    """The PRIVATE_EXCEPTIONS entries a rename made unnecessary."""
    if not CONTRACTS.exists():
        return []
    text = CONTRACTS.read_text(encoding="utf-8")
    entry = re.compile(
        r'^    \("[\w.]+", "'
        + re.escape(module)
        + r'", "(?:'
        + "|".join(map(re.escape, names))
        + r')"\):\n(?:        .*\n)+',
        re.MULTILINE,
    )
    new, count = entry.subn("", text)
    if not count:
        return []
    if not dry_run:
        CONTRACTS.write_text(new, encoding="utf-8")
    return [f"dropped {count} PRIVATE_EXCEPTIONS entries for {module}"]


def still_flat() -> list[str]:
    return sorted(
        p.stem
        for p in (ROOT / "services").glob("*.py")
        if p.stem != "__init__" and p.stem not in SHARED and f"services.{p.stem}" not in MOVES
    )


def sort_imports(paths: list[Path]) -> None:
    candidates = [Path(sys.executable).with_name("ruff"), ROOT / ".venv" / "bin" / "ruff"]
    found = shutil.which("ruff")
    ruff = next((str(c) for c in candidates if c.exists()), found)
    py = [str(p) for p in paths if p.suffix == ".py"]
    if not py:
        return
    if ruff is None:
        print("ruff not found: run `ruff check --fix --select I .` to sort the imports")
        return
    subprocess.run([ruff, "check", "--fix", "--select", "I", "--quiet", *py], cwd=ROOT, check=False)


def long_lines(paths: list[Path], before: dict[Path, set[str]]) -> list[str]:
    """Lines the longer names pushed past the line length (comments, docstrings)."""
    found = []
    for path in paths:
        if path.suffix != ".py":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if len(line) > 100 and line not in before.get(path, set()):
                found.append(f"{path.relative_to(ROOT)}:{number}")
    return found


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dry-run", action="store_true", help="change nothing")
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if there is anything left to do"
    )
    args = parser.parse_args(argv)
    dry = args.dry_run or args.check
    moved = move_files(dry)
    SUBMODULES.clear()
    SUBMODULES.update(leaf_packages())
    patterns()
    changed = rewrite_files(dry)
    renamed = [] if dry and moved else rename_private_names(dry)
    for line in moved:
        print(line)
    for path in changed:
        print(f"{'would rewrite' if dry else 'rewrote'} {path.relative_to(ROOT)}")
    for line in renamed:
        print(line)
    if not dry:
        sort_imports(changed)
        for where in long_lines(changed, LONG_BEFORE):
            print(f"{where}: longer than 100 characters now: wrap it by hand")
    flat = still_flat()
    if flat:
        print("still flat in services/ (add to MOVES or SHARED): " + ", ".join(flat))
    acted = [
        line
        for line in renamed
        if not line.startswith(("skipped", "tests/")) and " defines " not in line
    ]
    if not moved and not changed and not acted:
        print("nothing to do")
    return 1 if args.check and (moved or changed or acted) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
