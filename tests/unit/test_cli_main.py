"""cli.py starts fast and never shows a traceback unless asked to."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

import cli

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ["numpy", "pandas", "sqlalchemy", "shapely", "scipy", "sklearn", "boto3", "dash"]


def test_building_the_parser_and_help_import_no_heavy_module() -> None:
    probe = (
        "import contextlib, io, json, sys\n"
        "import cli\n"
        "cli.parser()\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out, contextlib.suppress(SystemExit):\n"
        "    cli.main(['export', '--help'])\n"
        f"print(json.dumps([[m for m in {HEAVY!r} if m in sys.modules], out.getvalue()]))\n"
    )

    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stderr
    loaded, help_text = json.loads(result.stdout)
    assert loaded == []
    assert "coco: COCO JSON" in help_text  # the formats' titles are still in the help


def test_the_import_annotator_default_is_the_workflows_one() -> None:
    from workflows.exchange import DEFAULT_IMPORT_ANNOTATOR

    args = cli.parser().parse_args(["import", "x.csv", "--format", "csv"])

    assert args.annotator == DEFAULT_IMPORT_ANNOTATOR


def boom(_args: argparse.Namespace) -> str:
    raise ValueError("bad value\nsecond line of detail")


def test_an_unexpected_error_is_one_line_and_exit_code_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setattr(cli, "run_history", boom)

    code = cli.main(["history", "--out", str(tmp_path / "events.csv")])

    out, err = capsys.readouterr()
    assert code == 1
    assert out == ""
    assert err == (
        "error: unexpected ValueError: bad value; "
        "rerun as `python cli.py --traceback history ...` for the traceback\n"
    )


def test_an_unexpected_error_without_a_message_names_its_type(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def fails(_args: argparse.Namespace) -> str:
        raise RuntimeError

    monkeypatch.setattr(cli, "run_migrate", fails)

    assert cli.main(["migrate"]) == 1
    assert capsys.readouterr().err.startswith("error: unexpected RuntimeError; rerun as")


def test_traceback_flag_lets_the_exception_through(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "run_history", boom)

    with pytest.raises(ValueError, match="bad value"):
        cli.main(["--traceback", "history", "--out", "events.csv"])


def test_expected_errors_keep_their_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def refuses(_args: argparse.Namespace) -> str:
        raise cli.CliError("--iou 2.0 is outside (0, 1]")

    monkeypatch.setattr(cli, "run_agreement", refuses)

    assert cli.main(["agreement", "--iou", "2"]) == 1
    assert capsys.readouterr().err == "error: --iou 2.0 is outside (0, 1]\n"
