"""How S3 failures read to a labeler: each error code becomes a message naming the cause."""

from __future__ import annotations

import boto3
import pytest
from botocore.config import Config
from botocore.stub import Stubber

from storage.errors import ImageNotFound, SourceUnavailable
from storage.s3_source import S3Source, parse_s3_url


def stubbed_source() -> tuple[S3Source, Stubber]:
    client = boto3.client(
        "s3",
        region_name="us-east-1",
        aws_access_key_id="k",
        aws_secret_access_key="s",
        config=Config(retries={"mode": "standard", "max_attempts": 1}),
    )
    return S3Source("s3://photos/2024", client=client), Stubber(client)


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("SlowDown", 503, "S3 is throttling requests to s3://photos/2024/ \\(SlowDown\\)"),
        ("AccessDenied", 403, "S3 denied access to s3://photos/2024/ \\(AccessDenied\\)"),
        ("NoSuchBucket", 404, "S3 bucket 'photos' does not exist"),
        ("InternalError", 500, "S3 error on s3://photos/2024/: InternalError"),
    ],
)
def test_listing_errors_become_clear_messages(code: str, status: int, expected: str) -> None:
    source, stub = stubbed_source()
    stub.add_client_error("list_objects_v2", service_error_code=code, http_status_code=status)

    with stub, pytest.raises(SourceUnavailable, match=expected):
        source.list_keys("", None, 10)


def test_a_missing_object_is_image_not_found() -> None:
    source, stub = stubbed_source()
    stub.add_client_error("head_object", service_error_code="404", http_status_code=404)

    with stub, pytest.raises(ImageNotFound, match="a.jpg"):
        source.stat("a.jpg")


def test_listing_skips_folder_markers_and_non_images_and_follows_pages() -> None:
    source, stub = stubbed_source()
    params = {"Bucket": "photos", "Prefix": "2024/day1/", "MaxKeys": 3}
    stub.add_response(
        "list_objects_v2",
        {
            "IsTruncated": True,
            "NextContinuationToken": "t1",
            "Contents": [{"Key": "2024/day1/"}, {"Key": "2024/day1/a.jpg"}, {"Key": "2024/x.txt"}],
        },
        params,
    )
    stub.add_response(
        "list_objects_v2",
        {"IsTruncated": False, "Contents": [{"Key": "2024/day1/b.png"}]},
        {**params, "ContinuationToken": "t1"},
    )

    with stub:
        page = source.list_keys("day1", None, 3)

    assert page.keys == ("day1/a.jpg", "day1/b.png") and not page.more


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("s3://bucket", ("bucket", "")),
        ("s3://bucket/", ("bucket", "")),
        ("s3://bucket/a/b/", ("bucket", "a/b/")),
        ("s3://bucket/a", ("bucket", "a/")),
    ],
)
def test_s3_urls(url: str, expected: tuple[str, str]) -> None:
    assert parse_s3_url(url) == expected


def test_an_s3_url_without_a_bucket_is_refused() -> None:
    with pytest.raises(ValueError, match="s3://bucket/prefix"):
        parse_s3_url("s3:///prefix")
