"""Imports flow one way (tui → screens → widgets → services), and start-up stays
cheap: heavy SDKs load where they are first used (harlequin's test_import_hygiene)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def loaded_after(statement: str) -> set[str]:
    code = (
        f"import sys\n{statement}\n"
        "import json; print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


# Every module of services/, its packages' too (runner.execute, …); the source-level
# contracts (layers, private names) are in test_import_contracts.py.
SERVICE_MODULES = sorted(
    ".".join(p.relative_to(ROOT / "services").with_suffix("").parts)
    for p in (ROOT / "services").rglob("*.py")
    if p.stem != "__init__" and "_data" not in p.parts
)


@pytest.mark.parametrize("module", SERVICE_MODULES)
def test_services_never_import_textual(module):
    assert "textual" not in loaded_after(f"import services.{module}")


def test_learn_help_imports_neither_supabase_nor_openai_nor_textual():
    modules = loaded_after(
        "import contextlib, io\nfrom tui.cli import build_parser\n"
        "with contextlib.suppress(SystemExit), "
        "contextlib.redirect_stdout(io.StringIO()):\n"
        "    build_parser().parse_args(['--help'])"
    )
    assert not {"supabase", "openai", "textual"} & modules


def test_the_app_module_does_not_import_supabase_or_openai():
    assert not {"supabase", "openai"} & loaded_after("import tui.app")


def test_everything_before_the_head_start_imports_no_asyncio():
    # `learn` parses its arguments, reads the settings and starts the head start
    # (services.data.headstart) before Textual; asyncio there (~40 ms, which Textual imports
    # anyway) would only make psql start later.
    modules = loaded_after(
        "from pathlib import Path\n"
        "from tui.cli import build_parser\nbuild_parser().parse_args([])\n"
        "from services import config\n"
        "from services.data import headstart\nconfig.load()\n"
        "headstart.launch(Path('no-pgdata'), Path('no-session.json'))"
    )
    assert "asyncio" not in modules
