"""The agreement report's JSON follows docs/agreement-report.schema.json, says why every null
is null, states its method, and keeps the keys of the first layout."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from analysis.intra import first_passes, intra_rater
from analysis.report import agreement_report
from analysis.report_json import NULL_REASONS
from analysis.work import Work
from tests.unit.test_not_drawn_and_repeats import HERE, THERE, drawn

SCHEMA = json.loads(
    (Path(__file__).resolve().parents[2] / "docs" / "agreement-report.schema.json").read_text()
)

SCENARIOS: dict[str, Work] = {
    "nothing finished": Work({}),
    "one annotator": drawn({"i1": {"a": [(HERE, "cat")]}}),
    "everyone found nothing": drawn({"i1": {"a": [], "b": []}, "i2": {"a": [], "b": []}}),
    "disjoint objects": drawn({"i1": {"a": [(HERE, "cat")], "b": [(THERE, "cat")]}}),
    "one label everywhere": drawn(
        {image: {"a": [(HERE, "cat")], "b": [(HERE, "cat")]} for image in ("i1", "i2")}
    ),
    "three annotators": drawn(
        {
            "i1": {"a": [(HERE, "cat"), (THERE, "dog")], "b": [(HERE, "dog")], "c": []},
            "i2": {"a": [(THERE, "dog")], "b": [(THERE, "dog")], "c": [(THERE, "cat")]},
            "i3": {"a": [], "b": [(HERE, "cat")]},
        }
    ),
    "repeats": drawn(
        {
            "i1": {"a": [(HERE, "cat"), (THERE, "dog")], "a#repeat": [(HERE, "cat")]},
            "i2": {"a": [(HERE, "dog")], "a#repeat": [(HERE, "dog")], "b": [(HERE, "cat")]},
        }
    ),
}


def cli_json(work: Work, resamples: int = 20, seed: int = 0) -> dict[str, Any]:
    """What cli.py agreement --json prints for this work."""
    data = agreement_report(first_passes(work), resamples=resamples, seed=seed).to_json()
    data["intra_rater"] = [found.to_json() for found in intra_rater(work, 0.5, resamples, seed)]
    return json.loads(json.dumps(data, allow_nan=False))


def nulls(data: Any, path: str = "") -> list[str]:
    if data is None:
        return [path]
    if isinstance(data, dict):
        return [p for k, v in data.items() if k != "method" for p in nulls(v, f"{path}/{k}")]
    if isinstance(data, list):
        return [p for i, v in enumerate(data) for p in nulls(v, f"{path}/{i}")]
    return []


@pytest.mark.parametrize("name", SCENARIOS)
def test_the_report_follows_the_schema(name: str) -> None:
    jsonschema.Draft202012Validator(SCHEMA).validate(cli_json(SCENARIOS[name]))


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_null_says_why(name: str) -> None:
    data = cli_json(SCENARIOS[name])
    objects = [data, *data["pairwise"], *data["per_annotator"], *data["intra_rater"]]

    for item in objects:
        reasons = item.get("null_reasons", {})
        expected = {p.strip("/").replace("/", ".") for p in nulls(item) if "null_reasons" not in p}
        expected = {p for p in expected if not p.startswith(("pairwise", "per_annotator", "intra"))}
        assert set(reasons) == expected
        assert set(reasons.values()) <= set(NULL_REASONS), reasons


def test_reasons_tell_the_cases_apart() -> None:
    nothing = cli_json(SCENARIOS["nothing finished"])["null_reasons"]
    empty = cli_json(SCENARIOS["everyone found nothing"])
    same = cli_json(SCENARIOS["one label everywhere"])
    apart = cli_json(SCENARIOS["disjoint objects"])

    assert nothing["label_alpha.value"] == "no_shared_images"
    assert nothing["presence_kappa"] == "fewer_than_two_annotators"
    assert empty["null_reasons"]["label_alpha.value"] == "no_pairable_values"
    assert empty["null_reasons"]["presence_alpha_estimate.value"] == "one_category"
    assert same["null_reasons"]["label_alpha.value"] == "one_category"
    assert same["pairwise"][0]["null_reasons"] == {"label_kappa": "one_category"}
    assert apart["pairwise"][0]["null_reasons"]["mean_iou"] == "no_matched_pair"
    assert apart["per_annotator"][0]["null_reasons"]["edges.left"] == "no_matched_pair"


def test_counts_have_unambiguous_names_and_the_old_keys_stay() -> None:
    data = cli_json(SCENARIOS["three annotators"])
    pair = next(p for p in data["pairwise"] if (p["a"], p["b"]) == ("a", "c"))
    who = next(p for p in data["per_annotator"] if p["annotator"] == "c")

    assert (data["images_shared"], data["images_finished"], data["units_shared"]) == (3, 3, 4)
    assert data["images"] == data["images_shared"]
    assert (
        (pair["images"], pair["matched"], pair["drawn_a"], pair["drawn_b"])
        == (
            pair["images_both_finished"],
            pair["objects_matched"],
            pair["objects_a"],
            pair["objects_b"],
        )
        == (2, 1, 3, 1)
    )
    assert (who["images_compared"], who["objects_drawn"], who["objects_matched"]) == (2, 1, 1)
    assert (who["images"], who["objects"], who["matched"]) == (2, 1, 1)
    estimate = data["presence_alpha_estimate"]
    assert data["presence_alpha"] == estimate["value"]
    assert data["presence_alpha_ci"] == {
        "ci_low": estimate["ci_low"],
        "ci_high": estimate["ci_high"],
    }


def test_the_method_is_stated_with_its_resamples_and_seed() -> None:
    labels = ["cat", "dog", "cat", "cat", "dog", "cat", "dog", "dog"]
    work = drawn(
        {
            f"i{n}": {"a": [(HERE, labels[n % 8])], "b": [(HERE, labels[(n * 3) % 8])]}
            for n in range(24)
        }
    )
    first = cli_json(work, resamples=300, seed=7)
    again = cli_json(work, resamples=300, seed=7)
    others = [cli_json(work, resamples=300, seed=seed)["label_alpha"] for seed in (8, 9, 10)]

    interval = first["method"]["interval"]
    assert (interval["resamples"], interval["seed"], interval["confidence"]) == (300, 7, 0.95)
    assert "bootstrap" in interval["method"] and first["method"]["iou_tolerance"] == 1e-6
    assert "natural log" in first["method"]["units"]["log_area_ratio"]
    assert first["label_alpha"] == again["label_alpha"]
    assert {other["value"] for other in others} == {first["label_alpha"]["value"]}
    assert any(other != first["label_alpha"] for other in others)  # other seeds, other draws


def test_every_schema_property_is_described() -> None:
    def walk(node: Any, path: str) -> list[str]:
        if not isinstance(node, dict):
            return []
        missing = []
        for name, sub in node.get("properties", {}).items():
            if "description" not in sub and "$ref" not in sub:
                missing.append(f"{path}/{name}")
            missing += walk(sub, f"{path}/{name}")
        for name, sub in node.get("$defs", {}).items():
            missing += walk(sub, f"{path}/$defs/{name}")
        return missing

    assert walk(SCHEMA, "") == []
    reasons = SCHEMA["$defs"]["null_reasons"]["additionalProperties"]["enum"]
    assert set(reasons) == set(NULL_REASONS)


def test_the_agreement_tab_says_why_alpha_has_no_number() -> None:
    from components.agreement_tab import summary_cards

    same = str(summary_cards(cli_json(SCENARIOS["one label everywhere"]))[0])
    nothing = str(summary_cards(cli_json(SCENARIOS["nothing finished"]))[0])

    assert "every label given is the same" in same
    assert "no image has 2+ annotators yet" in nothing
