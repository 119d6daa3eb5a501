"""The one hard rule: Qt only in seggui/ui; torch never in seggui/core."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent / "seggui"
QT = ("PySide6", "pyqtgraph", "seggui.ui", "shiboken6")
HEAVY = ("torch", "torchvision", "onnxruntime", "onnx", "segmentation_models_pytorch",
         "albumentations", "timm")


def _imports(path: Path, root: Path = PKG.parent) -> list[str]:
    """Absolute names of what a module imports; relative imports are resolved against its package."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = list(path.relative_to(root).with_suffix("").parts)[:-1]  # a module's or __init__'s package
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
        elif isinstance(node, ast.ImportFrom):  # from .x import y, from .. import z
            base = package[:len(package) - (node.level - 1)]
            if node.module:
                names.append(".".join([*base, node.module]))
            else:
                names.extend(".".join([*base, a.name]) for a in node.names)
    return names


def _offenders(sub: str, banned: tuple[str, ...]) -> list[str]:
    bad = []
    for path in sorted((PKG / sub).rglob("*.py")):
        for name in _imports(path):
            if any(name == b or name.startswith(b + ".") for b in banned):
                bad.append(f"{path.relative_to(PKG.parent)} imports {name}")
    return bad


def test_no_qt_outside_ui() -> None:
    bad = []
    for sub in ("core", "engine", "training"):
        bad += _offenders(sub, QT)
    assert bad == []


def test_no_torch_in_core() -> None:
    assert _offenders("core", HEAVY) == []


def test_cli_modules_import_nothing_heavy_at_top_level() -> None:
    """Subcommand modules are imported for `--help`; torch must load lazily."""
    bad = []
    for path in sorted((PKG / "cli").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:  # top level only: imports inside functions are fine
            if isinstance(node, ast.Import | ast.ImportFrom):
                mods = [a.name for a in node.names] if isinstance(node, ast.Import) else [
                    node.module or ""]
                for m in mods:
                    if any(m == b or m.startswith(b + ".") for b in HEAVY + QT):
                        bad.append(f"{path.name} imports {m}")
    assert bad == []


def test_import_core_does_not_load_torch_or_qt() -> None:
    code = (
        "import sys, importlib, pkgutil, seggui.core as c\n"
        "for m in pkgutil.iter_modules(c.__path__): importlib.import_module('seggui.core.'+m.name)\n"
        "import seggui.cli; seggui.cli.build_parser()\n"
        "bad=[m for m in ('torch','onnxruntime','PySide6','pyqtgraph') if m in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_relative_imports_are_resolved(tmp_path: Path) -> None:
    """`from ..ui import x` in core is caught like `from seggui.ui import x` (import-linter checks it too)."""
    mod = tmp_path / "seggui" / "core" / "sub" / "m.py"
    mod.parent.mkdir(parents=True)
    mod.write_text("from ...ui import canvas\nfrom .. import errors\nfrom .sibling import f\n",
                   encoding="utf-8")
    assert _imports(mod, tmp_path) == ["seggui.ui", "seggui.core.errors", "seggui.core.sub.sibling"]
