"""`python cli.py projects list|show|create` and `--project SLUG`: a project made on the
command line is ready at once, and each command reads and writes one project's records only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from auth.directory import save_account
from auth.passwords import hash_password
from domain.accounts import Account, Role
from tests.integration.test_cli import run

HEADER = "image,annotator,label,kind,x0,y0,x1,y1,points"


def environment(tmp_path: Path, database_url: str | None = None) -> dict[str, str]:
    """The default project's images in tmp/images/site; new projects' below DATA_DIR/images."""
    images = tmp_path / "images" / "site"
    images.mkdir(parents=True)
    Image.new("RGB", (640, 480)).save(images / "a.jpg")
    env = {
        "IMAGE_SOURCE": str(tmp_path / "images"),
        "DATA_DIR": str(tmp_path / "data"),
        "LABELS": "car,bike",
        "DATABASE_URL": database_url or "",
        "USERS_FILE": "",
        "USERS": "",
        "IMAGE_ROOT": "",
    }
    return env


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return environment(tmp_path)


def create_street(env: dict[str, str], *extra: str) -> None:
    """Make project `street` (labels bus, tram) with one image, lane/c.jpg."""
    made = run(
        env,
        "projects",
        "create",
        "--slug",
        "street",
        "--name",
        "Street scenes",
        "--source",
        "city/street",
        "--labels",
        "bus,tram",
        *extra,
    )
    assert made.returncode == 0, made.stderr
    folder = Path(env["DATA_DIR"]) / "images" / "city" / "street"
    assert folder.is_dir()  # made below IMAGE_ROOT (DATA_DIR/images by default)
    (folder / "lane").mkdir()
    Image.new("RGB", (200, 100)).save(folder / "lane" / "c.jpg")


def csv_file(tmp_path: Path, name: str, *rows: str) -> str:
    path = tmp_path / name
    path.write_text("\n".join((HEADER, *rows)) + "\n")
    return str(path)


def project_slugs(env: dict[str, str]) -> list[str]:
    listed = run(env, "projects", "list")
    assert listed.returncode == 0, listed.stderr
    return [line.split()[0] for line in listed.stdout.splitlines()[1:]]


def test_a_created_project_is_listed_and_shown_with_its_settings(env: dict[str, str]) -> None:
    create_street(env, "--per-image", "2", "--claim-minutes", "15", "--suggestions", "off")

    listed = run(env, "projects", "list")
    shown = run(env, "projects", "show", "street")
    default = run(env, "projects", "show", "default")

    assert listed.returncode == 0, listed.stderr
    rows = [line.split("  ") for line in listed.stdout.splitlines()]
    rows = [[cell.strip() for cell in row if cell.strip()] for row in rows]
    assert rows[1][:4] == ["default", "Default project", "(environment)", "2 (environment)"]
    assert rows[2][:4] == ["street", "Street scenes", "city/street", "2"]
    assert shown.returncode == 0, shown.stderr
    assert "project street (id 2, version 1): Street scenes" in shown.stdout
    for line in ("labels: bus, tram", "annotators per image: 2", "claim minutes: 15"):
        assert line in shown.stdout
    assert "repeat percent: 0\n" in shown.stdout  # the environment's, stored with the project
    assert "suggestions: off" in shown.stdout
    assert "labels: car, bike (environment)" in default.stdout
    assert "open to all accounts: yes" in default.stdout


def test_each_command_works_in_the_project_it_is_given(tmp_path: Path, database_url: str) -> None:
    env = environment(tmp_path, database_url)
    migrated = run(env, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    create_street(env)
    street_rows = csv_file(
        tmp_path,
        "street.csv",
        "lane/c.jpg,ann,bus,rect,1,2,30,40,",
        "lane/c.jpg,bob,bus,rect,2,2,30,41,",
    )
    default_rows = csv_file(tmp_path, "default.csv", "site/a.jpg,ann,car,rect,10,10,110,60,")

    into_street = run(env, "--project", "street", "import", street_rows, "--format", "csv")
    into_default = run(env, "import", default_rows, "--format", "csv")
    wrong_label = run(env, "import", street_rows, "--format", "csv")  # bus is not a default label
    street_out, default_out = tmp_path / "street-out.csv", tmp_path / "default-out.csv"
    exported = run(
        env, "export", "--format", "csv", "--project", "street", "--out", str(street_out)
    )
    exported_default = run(env, "export", "--format", "csv", "--out", str(default_out))
    agreement = run(env, "agreement", "--json", "--resamples", "0", "--project", "street")
    again = run(env, "migrate")

    assert into_street.returncode == 0, into_street.stderr
    assert into_default.returncode == 0, into_default.stderr
    assert wrong_label.returncode == 1  # the default project does not know street's labels
    assert exported.returncode == 0 and exported_default.returncode == 0
    assert street_out.read_text().splitlines()[1:] == [
        "lane/c.jpg,ann,bus,rect,1,2,30,40,",
        "lane/c.jpg,bob,bus,rect,2,2,30,41,",
    ]
    assert default_out.read_text().splitlines()[1:] == ["site/a.jpg,ann,car,rect,10,10,110,60,"]
    assert agreement.returncode == 0, agreement.stderr
    report = json.loads(agreement.stdout)
    assert (report["images"], report["annotators"]) == (1, ["ann", "bob"])
    assert again.returncode == 0, again.stderr
    assert "project default (id 1): at revision" in again.stdout
    assert "project street (id 2): at revision" in again.stdout


def test_the_default_projects_agreement_leaves_other_projects_out(
    env: dict[str, str], tmp_path: Path
) -> None:
    create_street(env)
    rows = csv_file(
        tmp_path,
        "two.csv",
        "lane/c.jpg,ann,bus,rect,1,2,30,40,",
        "lane/c.jpg,bob,tram,rect,2,2,30,41,",
    )
    assert run(env, "import", rows, "--format", "csv", "--project", "street").returncode == 0

    default = run(env, "agreement", "--json", "--resamples", "0")
    street = run(env, "agreement", "--json", "--resamples", "0", "--project", "street")

    assert json.loads(default.stdout)["annotators"] == []
    assert json.loads(street.stdout)["annotators"] == ["ann", "bob"]


@pytest.mark.parametrize(
    "command",
    [
        ["--project", "nope", "export", "--format", "csv", "--out", "x.csv"],
        ["agreement", "--json", "--project", "nope"],
        ["history", "--out", "x.csv", "--project", "nope"],
    ],
)
def test_an_unknown_project_exits_2_naming_the_known_ones(
    env: dict[str, str], command: list[str]
) -> None:
    create_street(env)

    result = run(env, *command)

    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: there is no project called 'nope'; the projects are: default, street "
        "(python cli.py projects list)"
    )


@pytest.mark.parametrize(
    ("arguments", "reason"),
    [
        (["--slug", "Bad Slug!"], "project slug 'bad slug!' cannot be used"),
        (["--source", "../outside"], "'../outside' leaves the image root"),
        (["--source", "city/../../outside"], "leaves the image root"),
        (["--labels", " , "], "a project needs at least one label"),
        (["--per-image", "many"], "annotators per image must be a whole number"),
        (["--repeat-percent", "80"], "repeat percent must be between 0 and 50"),
        (["--member", "bob:annotator"], "this deployment has no accounts"),
    ],
)
def test_bad_create_input_exits_2_and_makes_nothing(
    env: dict[str, str], arguments: list[str], reason: str
) -> None:
    given = {"--slug": "fresh", "--name": "Fresh", "--source": "fresh", "--labels": "a,b"}
    for flag, value in zip(arguments[::2], arguments[1::2], strict=True):
        given[flag] = value
    words = [word for pair in given.items() for word in pair]

    result = run(env, "projects", "create", *words)

    assert result.returncode == 2
    assert result.stderr.startswith("error: project not made: ")
    assert reason in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert project_slugs(env) == ["default"]
    data = Path(env["DATA_DIR"])
    assert not (data / "images").exists() or not any((data / "images").iterdir())
    assert not list(data.glob("*.project-*"))


def test_a_taken_slug_exits_2_and_leaves_the_project_as_it_was(env: dict[str, str]) -> None:
    create_street(env)

    again = run(
        env, "projects", "create", "--slug", "street", "--name", "Other", "--source", "other",
        "--labels", "x",
    )  # fmt: skip
    shown = run(env, "projects", "show", "street")

    assert again.returncode == 2
    assert "a project called 'street' exists already" in again.stderr
    assert project_slugs(env) == ["default", "street"]
    assert "Street scenes" in shown.stdout and "labels: bus, tram" in shown.stdout
    assert not (Path(env["DATA_DIR"]) / "images" / "other").exists()


def test_members_must_be_known_accounts(env: dict[str, str], tmp_path: Path) -> None:
    users = tmp_path / "users.toml"
    save_account(users, Account("alice", Role.ANNOTATOR, hash_password("a long password")))
    with_users = {**env, "USERS_FILE": str(users), "SECRET_KEY": "x" * 40}
    base = ["projects", "create", "--name", "Team", "--source", "team", "--labels", "a"]

    unknown = run(with_users, *base, "--slug", "team", "--member", "alice:reviewer", "bob")
    made = run(with_users, *base, "--slug", "team", "--member", "Alice:reviewer")
    shown = run(with_users, "projects", "show", "team")
    listed = run(with_users, "projects", "list")

    assert unknown.returncode == 2
    assert "no account is called 'bob'" in unknown.stderr
    assert made.returncode == 0, made.stderr
    assert "    alice: reviewer" in shown.stdout
    assert "alice (reviewer)" in listed.stdout


def test_project_applies_only_to_commands_inside_a_project(env: dict[str, str]) -> None:
    result = run(env, "--project", "default", "migrate")

    assert result.returncode == 0, result.stderr
    assert "--project does not apply to migrate" in result.stderr
    assert "project default (id 1)" in result.stdout
