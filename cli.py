"""Concord on the command line, with the same configuration (environment) as the app.

python cli.py import PATH --format FORMAT [--annotator NAME]
python cli.py export --format FORMAT [--annotator NAME] [--batch NAME] --out PATH
python cli.py agreement [--iou 0.5] [--batch NAME] [--json] [--resamples 200] [--seed 0]
python cli.py predict [--batch NAME] [--min-score 0.35] [--json]
python cli.py train [--precision 0.9] [--json]
python cli.py history --out events.csv [--annotator NAME] [--batch NAME]
python cli.py migrate
python cli.py add-user NAME --role ROLE [--file USERS_FILE] [--password-stdin] [--env]
python cli.py projects list | show SLUG | create --slug S --name N --source FOLDER_OR_S3
    --labels a,b [--per-image K] [--claim-minutes M] [--repeat-percent P]
    [--suggestions auto|on|off] [--open-to-all] [--member NAME:ROLE ...]

`--project SLUG` (before or after the command) works in that project; the default is the
first project. migrate, add-user and projects serve the whole deployment.

Exit codes: 0 done; 1 with a one-line `error: ...` on stderr, for expected failures
(bad input, configuration, storage) and unexpected ones alike (`error: unexpected
ValueError: ...`); 2 for bad arguments (argparse, an unknown --project, a project that
cannot be made as asked). `python cli.py --traceback COMMAND ...` lets an unexpected
exception through with its traceback, for a bug report.

Only light modules are imported here, so `--help` starts fast: each run_* function
imports the heavy ones it needs (storage and SQLAlchemy, analysis and numpy, workflows).
"""

from __future__ import annotations

import argparse
import csv
import getpass
import io
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from config import ConfigError, load_settings
from domain.accounts import ROLE_NAMES, Account, account_name, parse_role, users_env_entry
from domain.errors import DomainError
from domain.projects import FIRST_PROJECT_ID, SUGGESTION_MODES
from formats.model import FormatError
from formats.registry import CODECS, FORMAT_NAMES
from formats.resolve import ImportRejected
from storage.errors import StorageError

if TYPE_CHECKING:
    from domain.labels import Label
    from domain.projects import Project
    from storage.runtime import Services

FORMATS_HELP = "; ".join(f"{name}: {codec.title}" for name, codec in CODECS.items())
# workflows.exchange.DEFAULT_IMPORT_ANNOTATOR, without importing the workflows for --help
# (a test keeps the two equal).
DEFAULT_IMPORT_ANNOTATOR = "import"


class CliError(Exception):
    """A one-line reason to stop with a non-zero exit code (1, or 2 for bad arguments)."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def _services() -> Services:
    """The services of the project the command works in (--project; default the first)."""
    from storage.runtime import current

    return current()


def check_project(slug: str) -> str:
    """The slug of an existing project, or CliError (exit code 2) naming the known ones."""
    from storage.runtime import first_services

    projects = first_services().projects
    projects.forget_cached()
    wanted = slug.strip().lower()
    if projects.find(wanted) is None:
        known = ", ".join(p.slug for p in projects.all())
        raise CliError(
            f"there is no project called {slug[:40]!r}; the projects are: {known} "
            "(python cli.py projects list)",
            code=2,
        )
    return wanted


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
    from workflows.exchange import import_annotations

    data = read_path(Path(args.path))
    services = _services()
    try:
        report = import_annotations(
            services,
            args.format,
            Path(args.path).name,
            data,
            annotator=args.annotator,
            actor=f"cli:{getpass.getuser()}"[:64],
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
    from workflows.exchange import export_annotations

    out = Path(args.out)
    if out.is_dir():
        raise CliError(f"--out {out} is a folder: give a file name")
    services = _services()
    options = {"segments": True} if args.segments else {}
    if args.segments and args.format != "yolo":
        raise CliError("--segments applies to --format yolo only")
    if args.consensus and args.annotator:
        raise CliError("--consensus and --annotator exclude each other")
    if not 0 < args.iou <= 1:
        raise CliError(f"--iou {args.iou} is outside (0, 1]")
    exported = export_annotations(
        services,
        args.format,
        args.annotator,
        args.batch,
        consensus=args.consensus,
        iou_threshold=args.iou,
        **options,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(exported.content)
    return f"wrote {out} ({len(exported.content):,} bytes): {exported.summary()}"


def _number(value: object, digits: int = 3) -> str:
    return (
        "-" if value is None else f"{value:.{digits}f}" if isinstance(value, float) else str(value)
    )


# the report's top-level numbers, by their null_reasons path
UNDEFINED_SHOWN = {
    "label_alpha.value": "Label alpha",
    "presence_alpha_estimate.value": "Objects vs no objects alpha",
    "presence_kappa": "Fleiss' kappa",
}


def _suggestion_lines(data: dict[str, Any]) -> list[str]:
    """How many shapes came unchanged from suggestions, and whether they were counted."""
    found = data.get("suggestions") or {}
    if not found.get("accepted_unchanged"):
        return []
    how = "left out" if found.get("left_out") else "counted (--without-suggestions leaves them out)"
    return [f"Shapes accepted unchanged from suggestions: {found['accepted_unchanged']}, {how}"]


def _method_lines(data: dict[str, Any]) -> list[str]:
    """How the numbers were made, and why the top-level ones that are '-' have no value."""
    interval = data.get("method", {}).get("interval")
    lines = []
    if interval:
        lines.append(
            f"Intervals: {interval['method']}, {interval['resamples']} draws, seed "
            f"{interval['seed']}, {interval['confidence']:.0%}"
        )
    meanings = data.get("method", {}).get("null_reasons", {})
    reasons = data.get("null_reasons") or {}
    for path, name in UNDEFINED_SHOWN.items():
        if path in reasons:
            lines.append(f"  {name} is undefined: {meanings.get(reasons[path], reasons[path])}")
    return lines


def _shape_lines(data: dict[str, Any]) -> list[str]:
    """The stored shapes not compared as drawn (left out as unusable, or approximated):
    how many, why, and the first few by image and annotator."""
    lines = []
    for key, what in (
        ("shapes_left_out", "Stored shapes left out as unusable"),
        ("shapes_approximated", "Shapes compared as their convex hull (tangled outline)"),
    ):
        found = data.get(key) or {}
        if not found.get("count"):
            continue
        why = ", ".join(f"{n} {code}" for code, n in found["by_reason"].items())
        first = "; ".join(
            f"{row['image']} by {row['annotator']} (id {row['id']})" for row in found["first"][:5]
        )
        more = " ..." if found["count"] > 5 else ""
        lines.append(f"{what}: {found['count']} ({why}): {first}{more}")
        lines += [f"  {code}: {meaning}" for code, meaning in found["reasons"].items()]
    return lines


def _gold_lines(data: dict[str, Any]) -> list[str]:
    """The "against gold" table: every annotator and model with a vs_gold object."""
    rows = [
        (row["annotator"], row["vs_gold"])
        for row in (*data.get("per_annotator", ()), *data.get("models", ()))
        if row.get("vs_gold")
    ]
    if not data.get("images_with_gold") or not rows:
        return []
    lines = [
        f"\nAgainst gold (reviewed annotations, {data['images_with_gold']} image(s)):",
        f"  {'annotator':<22} {'images':>7} {'precision':>9} {'recall':>6} {'F1':>6} "
        f"{'IoU':>6} {'labels':>6}",
    ]
    for who, gold in rows:
        lines.append(
            f"  {who[:22]:<22} {gold['images']:>7} {_number(gold['precision']):>9} "
            f"{_number(gold['recall']):>6} {_number(gold['f1']):>6} "
            f"{_number(gold['mean_iou']):>6} {_number(gold['label_accuracy']):>6}"
        )
    return lines


def format_agreement(data: dict[str, Any]) -> str:
    """The agreement report as text tables (the --json object, readable)."""
    alpha = data.get("label_alpha") or {}
    lines = [
        f"Agreement at IoU >= {data['iou_threshold']:.2f} over {data['images']} image(s) "
        f"with 2+ annotators; annotators: {', '.join(data['annotators']) or 'none'}",
        f"Label reliability, Krippendorff's alpha (nominal): {_number(alpha.get('value'))} "
        f"(95% CI {_number(alpha.get('ci_low'))} to {_number(alpha.get('ci_high'))})",
        f"Objects vs no objects, alpha: {_number(data.get('presence_alpha'))}; "
        f"Fleiss' kappa (images everyone finished): {_number(data.get('presence_kappa'))}",
        *_method_lines(data),
        *_suggestion_lines(data),
        *_shape_lines(data),
        "",
        "Pairwise        a vs b: images   F1  mean IoU  label kappa",
    ]
    for pair in data["pairwise"]:
        lines.append(
            f"  {pair['a']:>12} vs {pair['b']:<12} {pair['images']:>6} {_number(pair['f1'])} "
            f"{_number(pair['mean_iou']):>9} {_number(pair['label_kappa']):>12}"
        )
    lines += [
        "",
        "Per annotator, against the consensus of the others:",
        "  annotator     images objects log-area    dx     dy  miss  extra/img  kappa",
    ]
    for row in data["per_annotator"]:
        lines.append(
            f"  {row['annotator']:<12} {row['images']:>7} {row['objects']:>7} "
            f"{_number(row['log_area_ratio']):>8} {_number(row['dx']):>6} {_number(row['dy']):>6} "
            f"{_number(row['miss_rate'], 2):>5} {_number(row['extra_per_image'], 2):>10} "
            f"{_number(row['label_kappa_vs_consensus']):>6}"
        )
    if data.get("models"):
        lines.append("\nModels against the people's consensus:")
        lines.append(
            f"  {'model':<22} {'images':>7} {'precision':>9} {'recall':>6} {'F1':>6} {'kappa':>6}"
        )
        for row in data["models"]:
            name = f"{row['name']} {row['version']}"[:22]
            lines.append(
                f"  {name:<22} {row['images']:>7} {_number(row['precision']):>9} "
                f"{_number(row['recall']):>6} {_number(row['f1']):>6} "
                f"{_number(row['label_kappa']):>6}"
            )
    lines += _gold_lines(data)
    if data.get("intra_rater"):
        lines.append("\nSame annotator twice (images that came back, REPEAT_PERCENT):")
        lines.append(f"  {'annotator':<12} {'images':>7} {'alpha':>6} {'F1':>6} {'IoU':>6}")
        for row in data["intra_rater"]:
            lines.append(
                f"  {row['annotator']:<12} {row['images']:>7} {_number(row['label_alpha']):>6} "
                f"{_number(row['f1']):>6} {_number(row['mean_iou']):>6}"
            )
    return "\n".join(lines)


def run_agreement(args: argparse.Namespace) -> str:
    """The agreement report, as text or JSON."""
    from analysis.gold_scores import people_and_models_against_gold
    from analysis.intra import first_passes, intra_rater
    from analysis.model_scores import (
        accepted_suggestions,
        model_scores,
        split_models,
        without_suggestions,
    )
    from analysis.report import agreement_report
    from analysis.report_json import add_vs_gold, model_json, suggestions_json
    from workflows.agreement import load_work_and_gold

    if not 0 < args.iou <= 1:
        raise CliError(f"--iou {args.iou} is outside (0, 1]")
    if args.resamples < 0:
        raise CliError(f"--resamples {args.resamples} is negative (0 leaves intervals out)")
    if args.seed < 0:
        raise CliError(f"--seed {args.seed} is negative")
    loaded, gold = load_work_and_gold(_services(), args.batch, True, models=True)
    everything, models = split_models(loaded)
    accepted = accepted_suggestions(first_passes(everything))
    if args.without_suggestions:
        everything = without_suggestions(everything)[0]
    people = first_passes(everything)
    data = agreement_report(people, args.iou, resamples=args.resamples, seed=args.seed).to_json()
    data["intra_rater"] = [
        found.to_json() for found in intra_rater(everything, args.iou, args.resamples, args.seed)
    ]
    data["models"] = [model_json(found) for found in model_scores(people, models, args.iou)]
    data["suggestions"] = suggestions_json(accepted, args.without_suggestions)
    scores = people_and_models_against_gold(people, models, gold, args.iou)
    add_vs_gold(data, scores, len(gold))
    if args.json:
        return json.dumps(data, indent=2, allow_nan=False)
    return format_agreement(data)


def _configured_detector(spec: str, missing: str) -> Any:
    """The DETECTOR's detector, loaded; CliError saying why when there is none."""
    from models.detector import DetectorError
    from models.loading import load_detector

    try:
        detector = load_detector(spec)
    except DetectorError as exc:
        raise CliError(str(exc)) from None
    if detector is None:
        raise CliError(f"DETECTOR=none: {missing} (set DETECTOR=nanodet)")
    return detector


def run_predict(args: argparse.Namespace) -> str:
    """Run the configured detector over the images and store its shapes as model:<name>."""
    from models.detector import DetectorError
    from workflows.predict import batch_keys, predict_with

    if not 0 <= args.min_score <= 1:
        raise CliError(f"--min-score {args.min_score} is outside [0, 1]")
    settings = load_settings()
    detector = _configured_detector(settings.detector, "no detector is configured")
    services = _services()
    keys = batch_keys(services, args.batch)
    try:
        report = predict_with(services, detector, keys, args.min_score, args.timeout)
    except DetectorError as exc:  # a trained label head that cannot be read
        raise CliError(str(exc)) from None
    if args.json:
        return json.dumps(report.to_json(), indent=2)
    problems = "".join(f"\n  {problem}" for problem in report.problems)
    return f"predicted {report.summary()}{problems}"


def run_train(args: argparse.Namespace) -> str:
    """Learn a label head and score thresholds from people's shapes; the new version."""
    from models.learning import TrainingError
    from workflows.training import train_from_corrections

    if not 0 < args.precision <= 1:
        raise CliError(f"--precision {args.precision} is outside (0, 1]")
    detector = _configured_detector(load_settings().detector, "no detector to learn for")
    try:
        report = train_from_corrections(_services(), detector, args.precision)
    except TrainingError as exc:
        raise CliError(str(exc)) from None
    if args.json:
        return json.dumps(report.to_json(), indent=2, allow_nan=False)
    return report.summary()


def run_history(args: argparse.Namespace) -> str:
    """Write the change history as CSV."""
    from workflows.history import history_csv

    data = history_csv(_services(), args.annotator, args.batch)
    Path(args.out).write_bytes(data)
    # rows, not lines: a comment may hold line breaks inside its quoted cell
    events = sum(1 for _ in csv.reader(io.StringIO(data.decode("utf-8")))) - 1
    return f"wrote {events:,} events to {args.out}"


def run_migrate(_args: argparse.Namespace) -> str:
    """Bring DATABASE_URL's schema to the newest revision (the PaaS release step)."""
    from storage.annotation_store import make_engine
    from storage.migrate import upgrade

    engine = make_engine(load_settings().database_url)
    try:
        done = upgrade(engine)
        lines = [
            f"database migrated to revision {done.after} (newest)"
            if done.changed
            else f"database already at revision {done.after} (newest)"
        ]
        lines += migrate_projects(engine, done.after)
    finally:
        engine.dispose()
    return "\n".join(lines)


def records_place(engine: Any, project_id: int) -> str:
    """Where a project's records are kept, in words."""
    from storage.project_space import schema_name, sqlite_space_file

    if project_id == FIRST_PROJECT_ID:
        return "the main database"
    if engine.dialect.name == "postgresql":
        return f"schema {schema_name(project_id)}"
    return f"file {sqlite_space_file(engine, project_id).name}"


def migrate_projects(engine: Any, head: str) -> list[str]:
    """Bring every project's space to the newest revision; a line per project."""
    from storage.project_space import prepare_space
    from storage.project_store import ProjectStore

    lines = []
    for project in ProjectStore(engine).all():
        space = prepare_space(engine, project.id)
        if space is not engine and engine.dialect.name == "sqlite":
            space.dispose()
        where = records_place(engine, project.id)
        lines.append(f"project {project.slug} (id {project.id}): at revision {head}, in {where}")
    return lines


def read_new_password(from_stdin: bool) -> str:
    """The new password: one line of standard input, or typed twice at a prompt."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != first:
        raise CliError("the two passwords differ; nothing was changed")
    return first


def run_add_user(args: argparse.Namespace) -> str:
    """Add an account to the users file (or print it as a USERS entry)."""
    from auth.directory import save_account
    from auth.passwords import hash_password

    name = account_name(args.name)  # refuses reserved characters (#, :) and names
    role = parse_role(args.role)
    users_file = args.file or load_settings().users_file
    if users_file is None and not args.env:
        raise CliError("say where the accounts go: set USERS_FILE, or pass --file or --env")
    account = Account(name, role, hash_password(read_new_password(args.password_stdin)))
    if args.env:
        return users_env_entry(account)
    added = save_account(Path(users_file), account)
    return f"{'added' if added else 'updated'} {name} ({role.value}) in {users_file}"


def _members_text(project: Project) -> str:
    named = ", ".join(f"{m.account} ({m.role.value})" for m in project.members)
    if project.open_to_all:
        return f"open to all{'; ' + named if named else ''}"
    return named or "none"


def _table(rows: Sequence[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False))
        + "  "
        + row[-1]
        for row in rows
    )


def run_projects_list(_args: argparse.Namespace) -> str:
    """Every project: slug, name, image source, how many labels, members."""
    from storage.runtime import first_services

    services = first_services()
    environment_labels = len(services.hub.settings.labels if services.hub else ())
    rows = [("slug", "name", "image source", "labels", "members")]
    for project in services.projects.all():
        labels = (
            str(len(project.labels))
            if project.labels is not None
            else f"{environment_labels} (environment)"
        )
        source = project.image_source or "(environment)"
        rows.append((project.slug, project.name, source, labels, _members_text(project)))
    return _table(rows)


def _label_names(labels: Sequence[Label]) -> str:
    """Label names, the retired ones marked."""
    return ", ".join(f"{x.name} (retired)" if x.retired else x.name for x in labels)


def _own(value: object, shown: str) -> str:
    """A setting as shown: the environment's when the project leaves it unset."""
    return shown if value is not None else f"{shown} (environment)"


def run_projects_show(args: argparse.Namespace) -> str:
    """One project's settings in force (the environment's filled in) and its members."""
    from storage.runtime import first_services, project_settings

    services = first_services()
    slug = check_project(args.slug)
    project = services.projects.find(slug)
    assert project is not None and services.hub is not None
    settings = project_settings(services.hub.settings, project)
    per_image = settings.annotators_per_image
    source = settings.image_source
    if project.image_source is not None and not source.startswith("s3://"):
        source = f"{project.image_source} (folder {source})"
    members = "\n".join(f"    {m.account}: {m.role.value}" for m in project.members)
    lines = [
        f"project {project.slug} (id {project.id}, version {project.version}): {project.name}",
        f"  image source: {_own(project.image_source, source)}",
        "  labels: " + _own(project.labels, _label_names(settings.labels)),
        "  annotators per image: "
        + _own(
            project.annotators_per_image,
            f"{per_image}" if per_image else "0 (everyone sees every image)",
        ),
        f"  claim minutes: {_own(project.claim_minutes, str(settings.claim_minutes))}",
        f"  repeat percent: {_own(project.repeat_percent, str(settings.repeat_percent))}",
        f"  suggestions: {_own(project.suggestions, settings.suggestions)}",
        f"  open to all accounts: {'yes' if project.open_to_all else 'no'}",
        f"  members may upload images: {'yes' if project.members_upload else 'no'}",
        f"  records: in {records_place(services.projects.engine, project.id)}",
        f"  members: {len(project.members) or 'none'}",
    ]
    return "\n".join(lines + ([members] if members else []))


def member_rows(given: Sequence[str]) -> list[dict[str, str]]:
    """{account, role} rows from NAME:ROLE words (the role defaults to annotator)."""
    rows = []
    for word in given:
        account, _, role = word.partition(":")
        rows.append({"account": account.strip(), "role": role.strip() or "annotator"})
    return rows


def run_projects_create(args: argparse.Namespace) -> str:
    """Make a project: checked whole first, then stored with its folder and space."""
    from storage.runtime import first_services
    from workflows.projects import create_project

    services = first_services()
    form: dict[str, object] = {
        "slug": args.slug,
        "name": args.name,
        "image_source": args.source,
        "labels": args.labels,
        "annotators_per_image": args.per_image,
        "claim_minutes": args.claim_minutes,
        "repeat_percent": args.repeat_percent,
        "suggestions": args.suggestions,
        "open_to_all": args.open_to_all,
        "members_upload": args.members_upload,
        "members": member_rows(args.member or ()),
    }
    try:
        made = create_project(services, form)
    except DomainError as exc:
        raise CliError(f"project not made: {exc}", code=2) from None
    source = made.image_source or ""
    if not source.startswith("s3://") and services.hub is not None:
        source = f"{services.hub.settings.image_root / source} (put the images there)"
    where = records_place(services.projects.engine, made.id)
    return (
        f"created project {made.slug} (id {made.id}): {made.name}; images from {source}; "
        f"{len(made.labels or ())} label(s); {len(made.members)} member(s); records in {where}"
    )


def parser() -> argparse.ArgumentParser:
    """The argument parser, with a sub-command per task."""
    main = argparse.ArgumentParser(
        prog="python cli.py",
        description="Concord on the command line. Configuration comes from the environment "
        "(IMAGE_SOURCE, DATABASE_URL, LABELS, ...) exactly as for the app.",
    )
    main.add_argument(
        "--traceback",
        action="store_true",
        help="let an unexpected error through with its Python traceback (for a bug report)",
    )
    main.add_argument(
        "--project",
        metavar="SLUG",
        help="the project to work in (default: the first project); see `projects list`",
    )
    in_project = argparse.ArgumentParser(add_help=False)
    in_project.add_argument(
        "--project",
        metavar="SLUG",
        default=argparse.SUPPRESS,  # keeps a --project given before the command
        help="the project to work in (default: the first project)",
    )
    commands = main.add_subparsers(dest="command", required=True, metavar="COMMAND")

    imp = commands.add_parser(
        "import",
        parents=[in_project],
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
        help="whose shapes these are, e.g. 'model' for predictions, or 'gold' for existing "
        "ground truth that annotators are scored against (default: %(default)s; in tidy CSV "
        "the annotator column wins and this fills empty cells)",
    )
    imp.add_argument("--verbose", action="store_true", help="list every problem of a rejected file")
    imp.set_defaults(run=run_import)

    exp = commands.add_parser(
        "export",
        parents=[in_project],
        help="export annotations to a file",
        description="Export the images annotators finished (with shapes, or marked as having "
        "no objects). Formats: " + FORMATS_HELP,
    )
    exp.add_argument("--format", required=True, choices=FORMAT_NAMES)
    exp.add_argument(
        "--annotator",
        help="one annotator, or 'gold' for the reviewed annotations (default: all, one file "
        "set per annotator)",
    )
    exp.add_argument("--batch", help="one batch (a top-level folder or S3 sub-prefix)")
    exp.add_argument("--segments", action="store_true", help="yolo: polygons as segment lines")
    exp.add_argument(
        "--consensus",
        action="store_true",
        help="export the consensus of all annotators (median boxes, majority labels of the "
        "objects at least half of an image's annotators drew) as annotator 'consensus'",
    )
    exp.add_argument("--iou", type=float, default=0.5, help="--consensus: IoU threshold")
    exp.add_argument("--out", required=True, help="the file to write")
    exp.set_defaults(run=run_export)

    agree = commands.add_parser(
        "agreement",
        parents=[in_project],
        help="inter-annotator agreement and each annotator's bias",
        description="Agreement between annotators over the images two or more of them finished: "
        "Krippendorff's alpha on labels (objects matched by IoU first), pairwise F1, IoU and "
        "kappa, and each annotator's bias against the consensus of the others.",
    )
    agree.add_argument("--iou", type=float, default=0.5, help="IoU threshold (default 0.5)")
    agree.add_argument("--batch", help="one batch only")
    agree.add_argument(
        "--json",
        action="store_true",
        help="print a JSON object (keys and units: docs/agreement-report.schema.json)",
    )
    agree.add_argument(
        "--resamples",
        type=int,
        default=200,
        help="bootstrap draws behind each 95%% interval (default %(default)s; 0: no intervals)",
    )
    agree.add_argument(
        "--seed", type=int, default=0, help="the bootstrap's random seed (default %(default)s)"
    )
    agree.add_argument(
        "--without-suggestions",
        action="store_true",
        help="leave out shapes people accepted unchanged from a detector's suggestion (they "
        "anchor everyone to the same boxes); the report says how many there were",
    )
    agree.set_defaults(run=run_agreement)

    predict = commands.add_parser(
        "predict",
        parents=[in_project],
        help="run the detector over the images and store its shapes",
        description="Run the configured detector (DETECTOR) over the images of a batch, or "
        "of every batch, and store what it finds as annotator model:<name> (with scores and "
        "the model's version), the model's classes mapped onto LABELS (LABEL_MAP). Running "
        "it again replaces the model's shapes; people's shapes are never touched.",
    )
    predict.add_argument("--batch", help="one batch (default: every batch)")
    predict.add_argument(
        "--min-score",
        type=float,
        default=0.35,
        help="keep detections with at least this score (default %(default)s)",
    )
    predict.add_argument(
        "--timeout", type=float, default=60.0, help="seconds per image (default %(default)s)"
    )
    predict.add_argument("--json", action="store_true", help="print a JSON object")
    predict.set_defaults(run=run_predict)

    train = commands.add_parser(
        "train",
        parents=[in_project],
        help="learn labels and score thresholds from people's corrections",
        description="Fit, from people's finished shapes and the detector's stored shapes "
        "(python cli.py predict) on the same images, a label head that relabels the "
        "detector's boxes (and proposes the label of a drawn box) and, per label, the lowest "
        "score threshold that reaches the target precision. Saves them as the detector's next "
        "version under DATA_DIR/models/, which predict applies from then on, and prints it "
        "with the label accuracy on held-out images before and after.",
    )
    train.add_argument(
        "--precision",
        type=float,
        default=0.9,
        help="the precision each label's score threshold must reach (default %(default)s)",
    )
    train.add_argument("--json", action="store_true", help="print a JSON object")
    train.set_defaults(run=run_train)

    history = commands.add_parser(
        "history",
        parents=[in_project],
        help="the change history (every create, edit, delete and status) as CSV",
        description="Every recorded change, oldest first: who made it (actor), whose work "
        "it changed (annotator), when, and the shape or status before and after as JSON.",
    )
    history.add_argument("--annotator", help="one annotator's work only")
    history.add_argument("--batch", help="one batch only")
    history.add_argument("--out", required=True, help="the CSV file to write")
    history.set_defaults(run=run_history)

    migrate = commands.add_parser(
        "migrate",
        help="bring the database schema up to date",
        description="Apply the schema migrations DATABASE_URL's database lacks (Alembic). "
        "Run it on release; the app also does it on start, one worker at a time.",
    )
    migrate.set_defaults(run=run_migrate)

    user = commands.add_parser(
        "add-user",
        help="add an account, or change its role and password",
        description="Add an account to the users file (USERS_FILE) with a hashed password; "
        "when accounts exist, the app asks everyone to sign in. An existing account of that "
        f"name gets the new role and password. Roles: {ROLE_NAMES}.",
    )
    user.add_argument("name", help="the sign-in name, also the annotator name in exports")
    user.add_argument("--role", required=True, help=f"one of {ROLE_NAMES}")
    user.add_argument("--file", help="the users file (default: USERS_FILE)")
    user.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    user.add_argument(
        "--env",
        action="store_true",
        help="print the account as a USERS entry (name:role:hash) instead of writing a file",
    )
    user.set_defaults(run=run_add_user)
    add_project_commands(commands)
    return main


def add_project_commands(commands: Any) -> None:
    """`projects list|show|create`."""
    projects = commands.add_parser(
        "projects",
        help="list, show or create projects",
        description="Projects: each has its own images, labels, work settings, people and "
        "records. The first project is the deployment as configured by the environment.",
    )
    actions = projects.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="every project, one a line")
    listing.set_defaults(run=run_projects_list)
    show = actions.add_parser("show", help="a project's settings and members")
    show.add_argument("slug", help="the project's slug")
    show.set_defaults(run=run_projects_show)
    create = actions.add_parser(
        "create",
        help="make a project",
        description="Make a project, ready to use: its record space is made at once and a "
        "local image folder below IMAGE_ROOT is created (put the images there). Settings "
        "not given take the environment's values of the moment.",
    )
    create.add_argument("--slug", required=True, help="the project's URL name, e.g. street")
    create.add_argument("--name", required=True, help="the name people see")
    create.add_argument(
        "--source",
        required=True,
        help="a folder below IMAGE_ROOT (made if need be), or s3://bucket/prefix",
    )
    create.add_argument("--labels", required=True, help="label names, comma-separated")
    create.add_argument("--per-image", help="annotators per image (0: everyone sees all)")
    create.add_argument("--claim-minutes", help="how long a claim on an image lasts")
    create.add_argument("--repeat-percent", help="share of finished images that come back")
    create.add_argument("--suggestions", choices=SUGGESTION_MODES)
    create.add_argument(
        "--open-to-all",
        action="store_true",
        help="every account may work in it, with their own role",
    )
    create.add_argument(
        "--members-upload",
        action="store_true",
        help="its members, not only admins, may upload images",
    )
    create.add_argument(
        "--member",
        action="extend",
        nargs="+",
        metavar="NAME:ROLE",
        help=f"an account that may work in it, and as what ({ROLE_NAMES}; default annotator)",
    )
    create.set_defaults(run=run_projects_create)


# the commands that work in one project (--project); the others serve the whole deployment
PROJECT_COMMANDS = frozenset({"import", "export", "agreement", "predict", "train", "history"})


def unexpected(exc: Exception, command: str) -> str:
    """The one line that stands for an unexpected exception: its type and first line."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    text = f": {lines[0]}" if lines else ""
    return (
        f"error: unexpected {type(exc).__name__}{text}; "
        f"rerun as `python cli.py --traceback {command} ...` for the traceback"
    )


def run_in_project(args: argparse.Namespace) -> str:
    """Run the command, inside its project when --project names one."""
    if args.project is None:
        return str(args.run(args))
    if args.command not in PROJECT_COMMANDS:
        print(
            f"note: --project does not apply to {args.command}: it serves the whole deployment",
            file=sys.stderr,
        )
        return str(args.run(args))
    from storage.runtime import project_scope

    with project_scope(check_project(args.project)):
        return str(args.run(args))


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command; 0 on success, 1 with a one-line reason on stderr otherwise, also for
    an unexpected exception (its traceback only with --traceback)."""
    args = parser().parse_args(argv)
    try:
        print(run_in_project(args))
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.code
    except (ConfigError, DomainError, FormatError, ImportRejected, StorageError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if args.traceback:
            raise
        print(unexpected(exc, args.command), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
