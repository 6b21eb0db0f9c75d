"""Rules the whole repository keeps: pure math in lessons/, safe HTML, tests mirror modules."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LESSON_MODULES = sorted(p for p in (ROOT / "lessons").glob("*.py") if p.name != "__init__.py")
PY_FILES = [
    p for p in ROOT.rglob("*.py")
    if not any(part in {".venv", "venv", "__pycache__"} for part in p.parts)
]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("module", LESSON_MODULES, ids=lambda p: p.name)
def test_lessons_import_no_ui(module):
    assert not _imports(module) & {"streamlit", "plotly", "ui", "pandas"}


@pytest.mark.parametrize("module", LESSON_MODULES, ids=lambda p: p.name)
def test_every_lessons_module_has_its_test_file(module):
    assert (ROOT / "tests" / f"test_{module.name}").exists()


def test_no_html_from_users_or_urls():
    # The course never renders raw HTML; a page that needs it must be reviewed on its own.
    offenders = [
        p.relative_to(ROOT).as_posix() for p in PY_FILES
        if "unsafe_allow_html" in p.read_text(encoding="utf-8") and p.parent.name != "tests"
    ]
    assert offenders == []


def test_pages_compute_no_math_inline():
    # Pages call lessons/; numpy and scipy belong there (or in ui/ for drawing).
    for page in (ROOT / "pages").glob("*.py"):
        assert not _imports(page) & {"scipy"}, page.name


def test_ruff_is_clean():
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "."], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout
