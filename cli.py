"""Concord on the command line, with the same configuration (environment) as the app.

python cli.py import PATH --format FORMAT [--annotator NAME]
python cli.py export --format FORMAT [--annotator NAME] [--batch NAME] --out PATH
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from config import ConfigError, load_settings
from domain.errors import DomainError
from formats.model import FormatError
from formats.registry import CODECS, FORMAT_NAMES
from formats.resolve import ImportRejected
from storage.errors import StorageError
from storage.runtime import Services, build_services
from workflows.exchange import DEFAULT_IMPORT_ANNOTATOR, export_annotations, import_annotations

FORMATS_HELP = "; ".join(f"{name}: {codec.title}" for name, codec in CODECS.items())


class CliError(Exception):
    """A one-line reason to stop with a non-zero exit code."""


def _services() -> Services:
    return build_services(load_settings())


def read_path(path: Path) -> bytes | dict[str, bytes]:
    """A file's bytes, or a folder's files (relative name -> bytes) for folder formats."""
    if path.is_dir():
        files = {
            file.relative_to(path).as_posix(): file.read_bytes()
            for file in sorted(path.rglob("*"))
            if file.is_file() and not file.name.startswith(".")
        }
        if not files:
            raise CliError(f"{path} is an empty folder")
        return files
    if not path.is_file():
        raise CliError(f"{path}: no such file or folder")
    return path.read_bytes()


def run_import(args: argparse.Namespace) -> str:
    """Import a file or folder; the summary line."""
    data = read_path(Path(args.path))
    services = _services()
    try:
        report = import_annotations(
            services, args.format, Path(args.path).name, data, annotator=args.annotator
        )
    except ImportRejected as exc:
        count = len(exc.messages)
        if args.verbose:
            for message in exc.messages:
                print(f"  {message}", file=sys.stderr)
        hint = "" if args.verbose or count == 1 else " (--verbose lists every problem)"
        raise CliError(
            f"import rejected, nothing written ({count} problem(s)): {exc}{hint}"
        ) from None
    return f"imported {report.summary()}"


def run_export(args: argparse.Namespace) -> str:
    """Export to a file; the summary line."""
    out = Path(args.out)
    if out.is_dir():
        raise CliError(f"--out {out} is a folder: give a file name")
    services = _services()
    options = {"segments": True} if args.segments else {}
    if args.segments and args.format != "yolo":
        raise CliError("--segments applies to --format yolo only")
    exported = export_annotations(services, args.format, args.annotator, args.batch, **options)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(exported.content)
    return f"wrote {out} ({len(exported.content):,} bytes): {exported.summary()}"


def parser() -> argparse.ArgumentParser:
    """The argument parser, with a sub-command per task."""
    main = argparse.ArgumentParser(
        prog="python cli.py",
        description="Concord on the command line. Configuration comes from the environment "
        "(IMAGE_SOURCE, DATABASE_URL, LABELS, ...) exactly as for the app.",
    )
    commands = main.add_subparsers(dest="command", required=True, metavar="COMMAND")

    imp = commands.add_parser(
        "import",
        help="import annotations from a file",
        description="Import annotations for images of the image source. The whole file is "
        "checked first: if anything is wrong nothing is written. Importing the same file "
        "again changes nothing. Formats: " + FORMATS_HELP,
    )
    imp.add_argument("path", help="the file (a .zip for voc, yolo, labelme) or a folder")
    imp.add_argument("--format", required=True, choices=FORMAT_NAMES)
    imp.add_argument(
        "--annotator",
        default=DEFAULT_IMPORT_ANNOTATOR,
        help="whose shapes these are, e.g. 'model' for predictions (default: %(default)s; in "
        "tidy CSV the annotator column wins and this fills empty cells)",
    )
    imp.add_argument("--verbose", action="store_true", help="list every problem of a rejected file")
    imp.set_defaults(run=run_import)

    exp = commands.add_parser(
        "export",
        help="export annotations to a file",
        description="Export the images annotators finished (with shapes, or marked as having "
        "no objects). Formats: " + FORMATS_HELP,
    )
    exp.add_argument("--format", required=True, choices=FORMAT_NAMES)
    exp.add_argument("--annotator", help="one annotator (default: all, one file set per annotator)")
    exp.add_argument("--batch", help="one batch (a top-level folder or S3 sub-prefix)")
    exp.add_argument("--segments", action="store_true", help="yolo: polygons as segment lines")
    exp.add_argument("--out", required=True, help="the file to write")
    exp.set_defaults(run=run_export)
    return main


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command; 0 on success, 1 with a one-line reason on stderr otherwise."""
    args = parser().parse_args(argv)
    try:
        print(args.run(args))
    except (CliError, ConfigError, DomainError, FormatError, ImportRejected, StorageError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
