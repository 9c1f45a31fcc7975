"""scripts/check_requirements.py: an import nobody pinned is named with its file."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.check_requirements import (
    find_problems,
    imported_modules,
    main,
    normalize,
    parse_requirement,
    project_files,
    read_requirements,
)

DISTRIBUTIONS = {"yaml": ["PyYAML"], "dash": ["dash"], "PIL": ["pillow"], "psycopg": ["psycopg"]}


def test_imports_inside_functions_count_and_relative_ones_do_not() -> None:
    source = (
        "import os.path\nfrom dash import html\nfrom . import sibling\n"
        "def later():\n    import yaml\n    from PIL.Image import open\n"
    )

    assert imported_modules(source) == {"os", "dash", "yaml", "PIL"}


def test_type_checking_and_optional_imports_are_not_requirements() -> None:
    source = (
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import boto3\n"
        "else:\n    import json\n"
        "try:\n    import ujson\nexcept ImportError:\n    import yaml\n"
        "try:\n    import dash\nexcept ValueError:\n    pass\n"
    )

    assert imported_modules(source) == {"typing", "json", "yaml", "dash"}


def test_a_file_importing_yaml_without_a_pyyaml_pin_is_reported() -> None:
    problems = find_problems(
        {"yaml": ["formats/yolo.py"], "dash": ["app.py"]},
        pins={"dash": "4.4.1"},
        distributions=DISTRIBUTIONS,
        own=[],
    )

    assert problems == [
        "yaml (imported by formats/yolo.py): PyYAML is not pinned in requirements.txt"
    ]


def test_stdlib_and_own_packages_are_ignored() -> None:
    imports = {"os": ["app.py"], "__future__": ["app.py"], "domain": ["cli.py"], "cli": ["x.py"]}

    assert find_problems(imports, {}, {}, own=["domain", "cli"]) == []


def test_an_unpinned_or_uninstalled_module_is_reported() -> None:
    problems = find_problems(
        {"PIL": ["a.py", "b.py", "c.py", "d.py"], "mystery": ["m.py"]},
        pins={"pillow": None},
        distributions=DISTRIBUTIONS,
        own=[],
    )

    assert problems == [
        "PIL (imported by a.py, b.py, c.py and 1 more): pillow is listed without ==version "
        "in requirements.txt",
        "mystery (imported by m.py): not installed here, so no known distribution provides "
        "it; pin the one that does in requirements.txt",
    ]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("PyYAML==6.0.3", ("pyyaml", "6.0.3")),
        ("psycopg[binary]==3.3.9  # the C build", ("psycopg", "3.3.9")),
        ("Flask_Login == 0.6.3 ; python_version >= '3.11'", ("flask-login", "0.6.3")),
        ("dash>=4", ("dash", None)),
        ("dash==4.*,<5", ("dash", None)),
        ("# a comment", None),
        ("--find-links /opt/wheels", None),
        ("", None),
    ],
)
def test_requirement_lines(line: str, expected: tuple[str, str | None] | None) -> None:
    assert parse_requirement(line) == expected


def test_names_compare_as_pip_does() -> None:
    assert normalize("Dash_Bootstrap.Components") == normalize("dash-bootstrap-components")


def test_includes_are_followed_once(tmp_path: Path) -> None:
    (tmp_path / "base.txt").write_text("-r requirements.txt\nPyYAML==6.0.3\n")
    (tmp_path / "requirements.txt").write_text("-r base.txt\ndash==4.4.1\nnumpy\n")

    assert read_requirements(tmp_path / "requirements.txt") == {
        "pyyaml": "6.0.3",
        "dash": "4.4.1",
        "numpy": None,
    }


def write_project(root: Path, requirements: str) -> None:
    (root / "requirements.txt").write_text(requirements)
    (root / "app.py").write_text("import yaml\nimport domain.rules\n")
    (root / "domain").mkdir()
    (root / "domain" / "rules.py").write_text("import json\nfrom domain import other\n")
    for dev in ("tests", "bench"):
        (root / dev).mkdir()
        (root / dev / "test_x.py").write_text("import some_dev_tool\n")
    (root / ".venv" / "lib").mkdir(parents=True)
    (root / ".venv" / "lib" / "site.py").write_text("import anything_at_all\n")
    (root / "env").mkdir()
    (root / "env" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (root / "env" / "site.py").write_text("import anything_at_all\n")


def test_the_project_files_are_the_runtime_ones(tmp_path: Path) -> None:
    write_project(tmp_path, "")

    project = project_files(tmp_path)

    assert [p.relative_to(tmp_path).as_posix() for p in project.files] == [
        "app.py",
        "domain/rules.py",
    ]
    assert {"app", "domain", "tests", "bench"} <= project.own


def test_main_fails_with_one_line_per_missing_module(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_project(tmp_path, "dash==4.4.1\n")

    assert main(["--root", str(tmp_path)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "yaml (imported by app.py): PyYAML is not pinned in requirements.txt"
    ]


def test_main_passes_with_a_summary_when_everything_is_pinned(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_project(tmp_path, "pyyaml==6.0.3\n")

    assert main(["--root", str(tmp_path)]) == 0
    assert capsys.readouterr().out == (
        "requirements.txt pins all 1 distributions that 2 runtime files import: PyYAML\n"
    )
