"""Check that requirements.txt pins every third-party distribution the app's code imports.

python scripts/check_requirements.py [--root DIR]

Reads the import statements (AST, also those inside functions) of every runtime file:
the project's top-level modules (app.py, cli.py, config.py, ...) and every top-level
folder holding Python files (analysis, auth, callbacks, components, domain, formats,
models, storage, workflows, scripts, ...), except DEV_ONLY. The standard library and the
project's own modules are dropped; each remaining module is mapped to the distribution
that provides it (importlib.metadata, so run it with the requirements installed) and must
be pinned as name==version in requirements.txt (its `-r` includes are followed).

DEV_ONLY files are not checked: tests/ and bench/ run with requirements-dev.txt (pytest,
moto, playwright), and so does scripts/screenshot.py, which drives a browser with the
tests' helpers. Not seen: imports under `if TYPE_CHECKING:` (they never run), imports
in a `try:` that catches ImportError (optional by design), and dynamic imports
(importlib.import_module, __import__).

Exit 1 with one line per unpinned module (the module, its distribution, the files
importing it); exit 0 with a one-line summary otherwise.
"""

from __future__ import annotations

import argparse
import ast
import importlib.metadata
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = "requirements.txt"
# Paths (relative to the root) whose imports may come from requirements-dev.txt.
DEV_ONLY = ("tests", "bench", "scripts/screenshot.py")
# Folders that never hold project code: data, virtual environments, caches.
NOT_CODE = ("data", "docs", "assets", "node_modules", "venv", "build", "dist")
OPTIONAL_IMPORT_ERRORS = {"ImportError", "ModuleNotFoundError"}


def normalize(name: str) -> str:
    """A distribution name as pip compares it: lower case, runs of -_. as one '-'."""
    return re.sub(r"[-_.]+", "-", name).lower()


class _Imports(ast.NodeVisitor):
    """Collects top-level module names of absolute imports, skipping code that never runs
    (`if TYPE_CHECKING:`) and optional imports (`try: ... except ImportError:`)."""

    def __init__(self) -> None:
        self.names: set[str] = set()

    def visit_Import(self, node: ast.Import) -> None:
        self.names.update(alias.name.split(".")[0] for alias in node.names)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level == 0 and node.module:
            self.names.add(node.module.split(".")[0])

    def visit_If(self, node: ast.If) -> None:
        test = node.test
        name = test.id if isinstance(test, ast.Name) else getattr(test, "attr", None)
        if name == "TYPE_CHECKING":
            for child in node.orelse:
                self.visit(child)
            return
        self.generic_visit(node)

    def visit_Try(self, node: ast.Try) -> None:
        caught: set[str] = set()
        for handler in node.handlers:
            kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
            caught.update(kind.id for kind in kinds if isinstance(kind, ast.Name))
        if not caught & OPTIONAL_IMPORT_ERRORS:
            self.generic_visit(node)
            return
        for child in [*node.handlers, *node.orelse, *node.finalbody]:
            self.visit(child)


def imported_modules(source: str, filename: str = "<source>") -> set[str]:
    """The top-level names of the modules a file imports absolutely (e.g. 'yaml', 'dash')."""
    visitor = _Imports()
    visitor.visit(ast.parse(source, filename))
    return visitor.names


@dataclass(frozen=True)
class Project:
    """A project's runtime Python files and the top-level names that are its own."""

    files: tuple[Path, ...]
    own: frozenset[str]


def _is_dev_only(relative: str) -> bool:
    return any(relative == dev or relative.startswith(dev + "/") for dev in DEV_ONLY)


def project_files(root: Path) -> Project:
    """The runtime files under root (DEV_ONLY left out) and the project's own module names."""
    own: set[str] = set()
    files: list[Path] = []
    for entry in sorted(root.iterdir()):
        if entry.name.startswith((".", "_")) or entry.name in NOT_CODE:
            continue
        if entry.is_file() and entry.suffix == ".py":
            own.add(entry.stem)
            candidates = [entry]
        elif entry.is_dir() and not (entry / "pyvenv.cfg").exists():
            candidates = sorted(entry.rglob("*.py"))
            if not candidates:
                continue
            own.add(entry.name)
        else:
            continue
        files += [
            path for path in candidates if not _is_dev_only(path.relative_to(root).as_posix())
        ]
    return Project(tuple(files), frozenset(own))


def parse_requirement(line: str) -> tuple[str, str | None] | None:
    """(normalized name, pinned version or None) of one requirement line; None if the line
    names no distribution (blank, comment, option)."""
    line = line.split(" #", 1)[0].split(";", 1)[0].strip()
    if not line or line.startswith(("#", "-")):
        return None
    match = re.match(r"([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*)", line)
    if match is None:
        return None
    name, spec = normalize(match.group(1)), match.group(3).strip()
    pinned = re.fullmatch(r"==\s*([^\s,=<>!~]+)", spec)
    return name, pinned.group(1) if pinned else None


def read_requirements(path: Path, seen: set[Path] | None = None) -> dict[str, str | None]:
    """Normalized name -> pinned version (None if listed unpinned), following `-r FILE`."""
    seen = set() if seen is None else seen
    path = path.resolve()
    if path in seen:
        return {}
    seen.add(path)
    found: dict[str, str | None] = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        include = re.match(r"(-r|--requirement)[\s=]+(\S+)", line)
        if include:
            found.update(read_requirements(path.parent / include.group(2), seen))
            continue
        parsed = parse_requirement(line)
        if parsed is not None:
            name, version = parsed
            found[name] = version if version is not None else found.get(name)
    return found


def find_problems(
    imports: Mapping[str, Sequence[str]],
    pins: Mapping[str, str | None],
    distributions: Mapping[str, Sequence[str]],
    own: Iterable[str],
    stdlib: Iterable[str] = sys.stdlib_module_names,
    requirements: str = REQUIREMENTS,
) -> list[str]:
    """One line per imported third-party module that no `name==version` pin provides.

    imports: module -> files importing it; pins: read_requirements(); distributions:
    importlib.metadata.packages_distributions() (module -> distribution names)."""
    skip = set(own) | set(stdlib)
    problems = []
    for module in sorted(set(imports) - skip):
        files = sorted(imports[module])
        where = ", ".join(files[:3]) + (f" and {len(files) - 3} more" if len(files) > 3 else "")
        dists = sorted(set(distributions.get(module, ())))
        if not dists:
            problems.append(
                f"{module} (imported by {where}): not installed here, so no known distribution "
                f"provides it; pin the one that does in {requirements}"
            )
            continue
        if any(pins.get(normalize(dist)) for dist in dists):
            continue
        listed = [dist for dist in dists if normalize(dist) in pins]
        reason = "listed without ==version" if listed else "not pinned"
        problems.append(
            f"{module} (imported by {where}): {' or '.join(dists)} is {reason} in {requirements}"
        )
    return problems


def collect_imports(root: Path, project: Project) -> dict[str, list[str]]:
    """Module -> relative paths of the project's runtime files importing it."""
    imports: dict[str, list[str]] = {}
    for path in project.files:
        relative = path.relative_to(root).as_posix()
        for module in imported_modules(path.read_text(encoding="utf-8"), relative):
            imports.setdefault(module, []).append(relative)
    return imports


def main(argv: Sequence[str] | None = None) -> int:
    """Print the problems (exit 1) or a summary (exit 0)."""
    options = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    options.add_argument("--root", type=Path, default=ROOT, help="the project (default: here)")
    args = options.parse_args(argv)
    root: Path = args.root.resolve()
    project = project_files(root)
    imports = collect_imports(root, project)
    pins = read_requirements(root / REQUIREMENTS)
    distributions = importlib.metadata.packages_distributions()
    problems = find_problems(imports, pins, distributions, project.own)
    for problem in problems:
        print(problem)
    if problems:
        return 1
    third_party = sorted(set(imports) - project.own - set(sys.stdlib_module_names))
    used = sorted({dist for module in third_party for dist in distributions[module]}, key=str.lower)
    print(
        f"{REQUIREMENTS} pins all {len(used)} distributions that {len(project.files)} runtime "
        f"files import: {', '.join(used)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
