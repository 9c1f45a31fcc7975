"""Which project label a detector's class becomes: the default COCO grouping, LABEL_MAP, and
projects with their own labels."""

from __future__ import annotations

import pytest

from models.detector import Detection
from models.label_map import (
    COCO_CLASSES,
    DEFAULT_GROUPS,
    LabelMapError,
    default_label_map,
    label_map_for,
    map_detections,
    parse_label_map,
)

DEFAULT = ["person", "animal", "vehicle", "food", "object"]

# --- COCO and the default mapping ---------------------------------------------------------


def test_coco_has_its_80_classes_in_the_standard_order() -> None:
    assert len(COCO_CLASSES) == 80 == len(set(COCO_CLASSES))
    assert COCO_CLASSES[:10] == (
        "person",
        "bicycle",
        "car",
        "motorcycle",
        "airplane",
        "bus",
        "train",
        "truck",
        "boat",
        "traffic light",
    )
    assert COCO_CLASSES[14] == "bird" and COCO_CLASSES[23] == "giraffe"
    assert COCO_CLASSES[46] == "banana" and COCO_CLASSES[55] == "cake"
    assert COCO_CLASSES[-1] == "toothbrush"


def test_the_default_groups_are_the_issues_ranges() -> None:
    assert DEFAULT_GROUPS["animal"] == (
        "bird",
        "cat",
        "dog",
        "horse",
        "sheep",
        "cow",
        "elephant",
        "bear",
        "zebra",
        "giraffe",
    )
    assert DEFAULT_GROUPS["vehicle"] == (
        "bicycle",
        "car",
        "motorcycle",
        "airplane",
        "bus",
        "train",
        "truck",
        "boat",
    )
    assert DEFAULT_GROUPS["food"] == (
        "banana",
        "apple",
        "sandwich",
        "orange",
        "broccoli",
        "carrot",
        "hot dog",
        "pizza",
        "donut",
        "cake",
    )


@pytest.mark.parametrize(
    ("model_label", "expected"),
    [
        ("person", "person"),
        ("bird", "animal"),
        ("giraffe", "animal"),
        ("bicycle", "vehicle"),
        ("boat", "vehicle"),
        ("banana", "food"),
        ("hot dog", "food"),
        ("cake", "food"),
        ("traffic light", "object"),
        ("bench", "object"),
        ("backpack", "object"),
        ("toothbrush", "object"),
    ],
)
def test_default_labels_group_coco_classes(model_label: str, expected: str) -> None:
    assert default_label_map(DEFAULT).project_label(model_label) == expected


def test_every_coco_class_lands_on_a_default_label() -> None:
    mapping = default_label_map(DEFAULT)

    counts = {label: 0 for label in DEFAULT}
    for name in COCO_CLASSES:
        counts[str(mapping.project_label(name))] += 1

    assert counts == {"person": 1, "animal": 10, "vehicle": 8, "food": 10, "object": 51}


def test_the_default_labels_in_another_order_or_case_keep_their_spelling() -> None:
    mapping = label_map_for("", ["Object", "Food", "Vehicle", "Animal", "Person"])

    assert mapping.project_label("zebra") == "Animal"
    assert mapping.project_label("laptop") == "Object"
    assert mapping.project_label("PERSON") == "Person"


def test_a_plug_in_class_named_like_a_default_label_keeps_it_and_others_become_object() -> None:
    mapping = label_map_for("", DEFAULT)

    assert mapping.project_label("Vehicle") == "vehicle"
    assert mapping.project_label("  animal ") == "animal"
    assert mapping.project_label("moonwalker") == "object"


# --- projects with their own labels -------------------------------------------------------


def test_other_labels_keep_only_classes_of_the_same_name() -> None:
    mapping = label_map_for("", ["Cat", "dog", "traffic light"])

    assert mapping.project_label("cat") == "Cat"
    assert mapping.project_label("DOG") == "dog"
    assert mapping.project_label("traffic  light") == "traffic light"
    assert mapping.project_label("person") is None
    assert mapping.project_label("car") is None


def test_the_default_labels_plus_one_are_other_labels() -> None:
    mapping = label_map_for("", [*DEFAULT, "tree"])

    assert mapping.project_label("person") == "person"
    assert mapping.project_label("giraffe") is None  # no grouping: set LABEL_MAP for that


# --- LABEL_MAP ----------------------------------------------------------------------------


def test_the_issues_example() -> None:
    mapping = label_map_for("vehicle=car,truck;animal=cat,dog;*=object", DEFAULT)

    assert mapping.project_label("car") == "vehicle"
    assert mapping.project_label("truck") == "vehicle"
    assert mapping.project_label("cat") == "animal"
    assert mapping.project_label("dog") == "animal"
    assert mapping.project_label("bus") == "object"  # not the default grouping any more
    assert mapping.project_label("person") == "object"
    assert mapping.project_label("giraffe") == "object"


def test_without_a_star_unmapped_classes_are_dropped() -> None:
    mapping = label_map_for("vehicle=car,truck", DEFAULT)

    assert mapping.project_label("car") == "vehicle"
    assert mapping.project_label("person") is None  # even though a label is called person
    assert mapping.project_label("bus") is None


def test_star_may_also_be_written_as_a_class() -> None:
    mapping = parse_label_map("vehicle=car; object=*", DEFAULT)

    assert mapping.project_label("car") == "vehicle"
    assert mapping.project_label("kite") == "object"


def test_names_ignore_case_and_spaces_and_targets_keep_the_projects_spelling() -> None:
    mapping = parse_label_map(" Lesion = Tumour , NODULE ; ", ["lesion", "other"])

    assert mapping.project_label("tumour") == "lesion"
    assert mapping.project_label("Nodule") == "lesion"
    assert mapping.project_label("vessel") is None


def test_plug_in_classes_go_through_label_map_by_name() -> None:
    mapping = parse_label_map("lesion=tumour;other=*", ["lesion", "other"])

    assert mapping.project_label("tumour") == "lesion"
    assert mapping.project_label("scar") == "other"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("vehicles=car", "maps to 'vehicles', which is not a label of this project"),
        ("vehicle=car;*=thing", "maps to 'thing', which is not a label of this project"),
        ("vehicle car", "part 'vehicle car' has no '='"),
        ("vehicle=car=truck", "has more than one '='"),
        ("vehicle=", "names no model classes"),
        ("vehicle= , ,", "names no model classes"),
        ("=car", "names no project label"),
        ("*=", "names no label for '*'"),
        ("*=object,animal", "'*' goes to one label"),
        (
            "vehicle=car;object=car",
            r"maps the model class 'car' twice \(to vehicle and to object\)",
        ),
        ("vehicle=car,Car", "maps the model class 'Car' twice"),
        ("*=object;animal=*", r"maps '\*' twice \(to object and to animal\)"),
    ],
)
def test_a_bad_label_map_says_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(LabelMapError, match=message):
        label_map_for(text, DEFAULT)


def test_unknown_label_error_lists_the_projects_labels() -> None:
    with pytest.raises(LabelMapError, match=r"LABELS: cat, dog"):
        parse_label_map("vehicle=car", ["cat", "dog"])


def test_an_empty_or_blank_label_map_means_the_default() -> None:
    assert label_map_for("  ;  ", DEFAULT) == default_label_map(DEFAULT)
    assert label_map_for("", DEFAULT).project_label("cow") == "animal"


def test_unknown_classes_name_label_map_entries_the_model_never_answers() -> None:
    mapping = parse_label_map("vehicle=car,lorry;animal=kitty", DEFAULT)

    assert mapping.unknown_classes(COCO_CLASSES) == ["lorry", "kitty"]
    assert mapping.unknown_classes([]) == []  # the model did not say what it knows


# --- applying a mapping -------------------------------------------------------------------


def test_map_detections_relabels_and_reports_dropped_classes_once() -> None:
    found = [
        Detection("car", 0.9, (0.0, 0.0, 10.0, 10.0)),
        Detection("person", 0.8, (5.0, 5.0, 20.0, 20.0)),
        Detection("truck", 0.7, None, ((0.0, 0.0), (9.0, 0.0), (9.0, 9.0))),
        Detection("person", 0.6, (1.0, 1.0, 2.0, 2.0)),
    ]

    kept, dropped = map_detections(found, parse_label_map("vehicle=car,truck", DEFAULT))

    assert [(d.label, d.score) for d in kept] == [("vehicle", 0.9), ("vehicle", 0.7)]
    assert kept[1].points == ((0.0, 0.0), (9.0, 0.0), (9.0, 9.0))
    assert dropped == ["person"]
