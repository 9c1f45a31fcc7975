"""Settings from the environment, project labels, annotator names, progress and paging."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from config import DEFAULT_DATA_DIR, ConfigError, Settings, load_settings
from domain.errors import AnnotatorNameError, LabelError
from domain.identity import clean_annotator_name
from domain.labels import PALETTE, color_of, parse_labels
from domain.status import progress_of

# --- labels -------------------------------------------------------------------------------


def test_labels_get_distinct_palette_colours_in_order() -> None:
    labels = parse_labels("cat,dog,bird")

    assert [label.name for label in labels] == ["cat", "dog", "bird"]
    assert [label.color for label in labels] == list(PALETTE[:3])
    assert len({label.color for label in labels}) == 3


def test_more_labels_than_colours_reuse_the_palette() -> None:
    labels = parse_labels(",".join(f"l{i}" for i in range(len(PALETTE) + 2)))

    assert labels[len(PALETTE)].color == labels[0].color


def test_whitespace_around_names_and_empty_items_are_dropped() -> None:
    labels = parse_labels("  cat , dog ,, traffic light ,")

    assert [label.name for label in labels] == ["cat", "dog", "traffic light"]


@pytest.mark.parametrize("text", ["cat,dog,Cat", "dog, DOG", "a,b,a"])
def test_repeated_labels_are_rejected_ignoring_case(text: str) -> None:
    with pytest.raises(LabelError, match="appears twice"):
        parse_labels(text)


@pytest.mark.parametrize("text", ["", "   ", ", ,,"])
def test_an_empty_label_list_is_rejected(text: str) -> None:
    with pytest.raises(LabelError, match="LABELS is empty"):
        parse_labels(text)


def test_an_overlong_label_is_rejected() -> None:
    with pytest.raises(LabelError, match="longer than"):
        parse_labels("cat," + "x" * 65)


def test_colour_of_a_known_label_and_grey_for_an_unknown_one() -> None:
    labels = parse_labels("cat,dog")

    assert color_of("dog", labels) == PALETTE[1]
    assert color_of("retired-label", labels) == "#808080"
    assert color_of("retired-label", labels) not in PALETTE


# --- settings -----------------------------------------------------------------------------


def test_defaults_work_with_an_empty_environment() -> None:
    settings = load_settings({})

    assert settings.port == 8050
    assert settings.host == "127.0.0.1"
    assert settings.display_max_px == 2048
    assert settings.data_dir == DEFAULT_DATA_DIR
    assert settings.database_url == f"sqlite:///{DEFAULT_DATA_DIR / 'annotations.db'}"
    assert settings.uses_sample_images is True
    assert settings.image_source == str(DEFAULT_DATA_DIR / "samples")
    assert [label.name for label in settings.labels] == [
        "person",
        "animal",
        "vehicle",
        "food",
        "object",
    ]


def test_data_dir_moves_the_database_and_the_samples(tmp_path: Path) -> None:
    settings = load_settings({"DATA_DIR": str(tmp_path)})

    assert settings.data_dir == tmp_path
    assert settings.database_url == f"sqlite:///{tmp_path}/annotations.db"
    assert settings.image_source == str(tmp_path / "samples")


def test_an_image_source_replaces_the_samples(tmp_path: Path) -> None:
    settings = load_settings({"IMAGE_SOURCE": f" {tmp_path} "})

    assert settings.image_source == str(tmp_path)
    assert settings.uses_sample_images is False


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            "postgres://u:pw@db.example:5432/concord",
            "postgresql+psycopg://u:pw@db.example:5432/concord",
        ),
        ("postgresql://u@localhost/concord", "postgresql+psycopg://u@localhost/concord"),
        ("postgresql+psycopg://u@localhost/c", "postgresql+psycopg://u@localhost/c"),
        ("sqlite:////srv/concord.db", "sqlite:////srv/concord.db"),
        ("  postgres://u@h/db  ", "postgresql+psycopg://u@h/db"),
    ],
)
def test_database_urls(raw: str, expected: str) -> None:
    assert load_settings({"DATABASE_URL": raw}).database_url == expected


def test_host_port_and_display_size_overrides() -> None:
    settings = load_settings({"HOST": "0.0.0.0", "PORT": " 9000 ", "DISPLAY_MAX_PX": "1024"})

    assert (settings.host, settings.port, settings.display_max_px) == ("0.0.0.0", 9000, 1024)


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({"PORT": "eighty"}, "PORT"),
        ({"PORT": "80.5"}, "PORT"),
        ({"PORT": "0"}, "PORT"),
        ({"PORT": "70000"}, "PORT"),
        ({"DISPLAY_MAX_PX": "big"}, "DISPLAY_MAX_PX"),
        ({"DISPLAY_MAX_PX": "10"}, "DISPLAY_MAX_PX"),
        ({"DISPLAY_MAX_PX": "100000"}, "DISPLAY_MAX_PX"),
        ({"MAX_IMAGE_PIXELS": "lots"}, "MAX_IMAGE_PIXELS"),
        ({"PRESIGN_MAX_BYTES": "-1"}, "PRESIGN_MAX_BYTES"),
        ({"IMAGE_SOURCE": "s3:/bucket/prefix"}, "IMAGE_SOURCE"),
        ({"IMAGE_SOURCE": "s3:///prefix"}, "IMAGE_SOURCE"),
    ],
)
def test_bad_numbers_name_the_variable(env: dict[str, str], name: str) -> None:
    with pytest.raises(ConfigError, match=name):
        load_settings(env)


def test_cache_and_image_limits_overrides(tmp_path) -> None:
    settings = load_settings(
        {
            "CACHE_DIR": str(tmp_path),
            "REDIS_URL": " redis://cache:6379/0 ",
            "MAX_IMAGE_PIXELS": "50000000",
            "PRESIGN_MAX_BYTES": "0",
            "IMAGE_SOURCE": "s3://bucket/some/prefix",
        }
    )

    assert settings.cache_dir == tmp_path and settings.redis_url == "redis://cache:6379/0"
    assert (settings.max_image_pixels, settings.presign_max_bytes) == (50_000_000, 0)
    assert settings.image_source == "s3://bucket/some/prefix"
    assert not settings.uses_sample_images


def test_caches_and_limits_default_to_a_single_machine() -> None:
    settings = load_settings({})

    assert (settings.cache_dir, settings.redis_url) == (None, "")
    assert settings.max_image_pixels == 100_000_000


def test_labels_override() -> None:
    settings = load_settings({"LABELS": "tumour, vessel"})

    assert [label.name for label in settings.labels] == ["tumour", "vessel"]


def test_bad_labels_are_a_config_error() -> None:
    with pytest.raises(ConfigError, match="appears twice"):
        load_settings({"LABELS": "cat,CAT"})


# --- annotator names ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"), [("  Ann   Lee ", "Ann Lee"), ("bob", "bob"), ("A\tB\nC", "A B C")]
)
def test_names_are_stripped_and_spaces_collapsed(raw: str, expected: str) -> None:
    assert clean_annotator_name(raw) == expected


@pytest.mark.parametrize("raw", ["", "   ", None, "\n\t"])
def test_an_empty_name_is_refused(raw: Any) -> None:
    with pytest.raises(AnnotatorNameError, match="Enter your name"):
        clean_annotator_name(raw)


def test_a_name_of_64_characters_is_fine_but_65_is_too_long() -> None:
    assert clean_annotator_name("x" * 64) == "x" * 64
    with pytest.raises(AnnotatorNameError, match="at most 64"):
        clean_annotator_name("x" * 65)


# --- progress and paging ------------------------------------------------------------------


def test_progress_counts_statuses_over_the_batch() -> None:
    progress = progress_of(4, ["done", "empty", "skipped"])

    assert (progress.total, progress.done, progress.empty, progress.skipped) == (4, 1, 1, 1)
    assert progress.finished == 2
    assert progress.percent(progress.finished) == 50.0


def test_progress_never_exceeds_the_batch_when_images_left_it() -> None:
    progress = progress_of(2, ["done", "done", "done", "empty"])

    assert (progress.done, progress.empty, progress.skipped) == (2, 0, 0)
    assert progress.percent(progress.finished) == 100.0


def test_progress_of_an_empty_batch_is_zero_percent() -> None:
    progress = progress_of(0, ["done"])

    assert progress.total == 0
    assert progress.percent(progress.finished) == 0.0


def test_unknown_statuses_are_not_counted() -> None:
    progress = progress_of(1, ["bogus"])

    assert (progress.done, progress.empty, progress.skipped) == (0, 0, 0)


# --- detector, label map and suggestions --------------------------------------------------


def test_detector_settings_default_to_nanodet_with_suggestions_for_a_single_annotator() -> None:
    settings = load_settings({})

    assert (settings.detector, settings.label_map, settings.suggestions) == ("nanodet", "", "auto")
    assert settings.suggestions_on is True
    assert settings.label_mapping.project_label("giraffe") == "animal"
    assert settings.label_mapping.project_label("toothbrush") == "object"


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        ("none", "none"),
        (" NanoDet ", "nanodet"),
        ("my_models.detector:make", "my_models.detector:make"),
        ("pkg.mod:Factory.create", "pkg.mod:Factory.create"),
        ("http://ml-backend:9090", "http://ml-backend:9090"),
        ("https://user:pw@ml.example/predictor", "https://user:pw@ml.example/predictor"),
    ],
)
def test_detector_forms(raw: str, kept: str) -> None:
    assert load_settings({"DETECTOR": raw}).detector == kept


@pytest.mark.parametrize(
    "raw", ["yolo", "mod:", ":make", "a:b:c", "my-models:make", "ftp://host", "http://"]
)
def test_a_bad_detector_is_a_config_error_naming_the_variable(raw: str) -> None:
    with pytest.raises(ConfigError, match="^DETECTOR: "):
        load_settings({"DETECTOR": raw})


def test_a_label_map_is_checked_against_the_labels_at_start() -> None:
    settings = load_settings({"LABEL_MAP": "vehicle=car,truck;animal=cat,dog;*=object"})

    assert settings.label_mapping.project_label("truck") == "vehicle"
    assert settings.label_mapping.project_label("person") == "object"
    with pytest.raises(ConfigError, match="maps to 'car', which is not a label of this project"):
        load_settings({"LABELS": "tumour,vessel", "LABEL_MAP": "car=car"})
    with pytest.raises(ConfigError, match="has no '='"):
        load_settings({"LABEL_MAP": "vehicle:car"})


def test_own_labels_without_a_label_map_keep_classes_of_the_same_name() -> None:
    mapping = load_settings({"LABELS": "cat,dog"}).label_mapping

    assert (mapping.project_label("cat"), mapping.project_label("car")) == ("cat", None)


@pytest.mark.parametrize(
    ("env", "on"),
    [
        ({}, True),
        ({"ANNOTATORS_PER_IMAGE": "1"}, True),
        ({"ANNOTATORS_PER_IMAGE": "2"}, False),  # agreement is measured: suggestions bias it
        ({"REPEAT_PERCENT": "10"}, False),
        ({"SUGGESTIONS": "on", "ANNOTATORS_PER_IMAGE": "3"}, True),
        ({"SUGGESTIONS": " OFF "}, False),
        ({"DETECTOR": "none"}, False),
        ({"DETECTOR": "none", "SUGGESTIONS": "off"}, False),
    ],
)
def test_suggestions_auto_on_and_off(env: dict[str, str], on: bool) -> None:
    assert load_settings(env).suggestions_on is on


def test_bad_suggestions_values_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="SUGGESTIONS='maybe': use auto, on or off"):
        load_settings({"SUGGESTIONS": "maybe"})
    with pytest.raises(ConfigError, match="SUGGESTIONS=on needs a detector"):
        load_settings({"SUGGESTIONS": "on", "DETECTOR": "none"})


def test_settings_built_in_code_get_the_detector_defaults() -> None:
    settings = Settings(
        image_source="x",
        uses_sample_images=False,
        database_url="sqlite://",
        labels=parse_labels("person,animal,vehicle,food,object"),
        host="127.0.0.1",
        port=8050,
        display_max_px=2048,
        data_dir=Path("data"),
        annotators_per_image=2,
    )

    assert settings.detector == "nanodet" and settings.suggestions_on is False
