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


def test_the_classroom_store_imports_no_streamlit():
    modules = list((ROOT / "classroom").glob("*.py"))
    assert modules
    for module in modules:
        assert not _imports(module) & {"streamlit", "plotly", "ui"}, module.name


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


def _constants(tree: ast.Module) -> set[str]:
    """Module-level names bound once to a string literal."""
    return {target.id for node in tree.body if isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
            for target in node.targets if isinstance(target, ast.Name)}


def test_javascript_runs_only_from_fixed_scripts():
    # st.html(..., unsafe_allow_javascript=True) and a component's js/html may only be a
    # script written in the code, never text built at run time (from a link, a widget or
    # anything else).
    uses = []
    for path in PY_FILES:
        if path.parent.name == "tests":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            scripts = [node.args[0] if node.args else None] if any(
                k.arg == "unsafe_allow_javascript" for k in node.keywords) else []
            scripts += [k.value for k in node.keywords if k.arg in ("js", "html")]
            for body in scripts:
                fixed = isinstance(body, ast.Name) and body.id in _constants(tree)
                uses.append((path.relative_to(ROOT).as_posix(), fixed))
    # The explorables' keyboard, the progress kept in the browser, the steps' scroll to top
    assert sorted(uses) == [("ui/access.py", True), ("ui/quiz.py", True), ("ui/steps.py", True)]


def test_pages_compute_no_math_inline():
    # Pages call lessons/; numpy and scipy belong there (or in ui/ for drawing).
    for page in (ROOT / "app_pages").glob("*.py"):
        assert not _imports(page) & {"scipy"}, page.name


def test_pages_cache_through_ui_shared():
    # A page script runs afresh on every rerun: Streamlit's own cache decorators there would
    # be applied (and their function's source read) on each run; ui.shared applies them once.
    for page in (ROOT / "app_pages").glob("*.py"):
        for node in ast.walk(ast.parse(page.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in ("cache_data", "cache_resource"):
                assert isinstance(node.value, ast.Name) and node.value.id == "shared", (
                    f"{page.name}:{node.lineno}: use shared.{node.attr}")


def test_ruff_is_clean():
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "."], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout
