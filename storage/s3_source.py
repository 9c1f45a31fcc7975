"""Images in an S3 bucket (or an S3-compatible server), read with boto3.

boto3's own configuration applies: AWS_ENDPOINT_URL, the credential variables and files,
AWS_DEFAULT_REGION, AWS_MAX_ATTEMPTS; retries use botocore's standard mode unless
AWS_RETRY_MODE says otherwise. With a custom endpoint, path-style addressing is used,
which S3-compatible servers (MinIO, moto, Ceph) expect.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    NoCredentialsError,
    PartialCredentialsError,
)
from botocore.exceptions import (
    ConnectionError as BotoConnectionError,
)

from storage.errors import ImageNotFound, SourceUnavailable, StorageError
from storage.images import (
    ROOT_BATCH,
    BatchList,
    KeyPage,
    ObjectMeta,
    batch_prefix,
    is_image_name,
    is_valid_key,
)

log = logging.getLogger("concord.s3")

DENIED = {
    "AccessDenied",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "InvalidToken",
    "AllAccessDisabled",
    "403",
}
THROTTLED = {"SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded", "503"}
MISSING_KEY = {"NoSuchKey", "404", "NotFound"}
# Cache the originals the browser fetches straight from S3, as the app route does.
PRESIGNED_CACHE_CONTROL = "private, max-age=86400"


def parse_s3_url(url: str) -> tuple[str, str]:
    """('bucket', 'prefix/') from 's3://bucket/prefix'; the prefix is '' or ends with '/'."""
    rest = url[len("s3://") :] if url.startswith("s3://") else ""
    bucket, _, prefix = rest.partition("/")
    if not bucket:
        raise ValueError(f"{url!r} is not an s3://bucket/prefix URL")
    prefix = prefix.strip("/")
    return bucket, f"{prefix}/" if prefix else ""


def make_client(env: Mapping[str, str] | None = None) -> Any:
    """An S3 client from boto3's configuration, with standard-mode retries."""
    env = os.environ if env is None else env
    custom_endpoint = bool(env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL"))
    config = Config(
        retries={"mode": env.get("AWS_RETRY_MODE") or "standard"},
        connect_timeout=5,
        read_timeout=30,
        s3={"addressing_style": "path"} if custom_endpoint else None,
        signature_version="s3v4",  # presigned URLs every region accepts
    )
    return boto3.session.Session().client("s3", config=config)


class S3Source:
    """Images below s3://bucket/prefix; its sub-prefixes are batches."""

    parallel_reads = 8  # each read is a request: wait for several at once

    def __init__(self, url: str, client: Any | None = None) -> None:
        self.bucket, self.prefix = parse_s3_url(url)
        self.client = client if client is not None else make_client()
        self.description = f"s3://{self.bucket}/{self.prefix}"

    def _explain(self, exc: Exception, key: str | None = None) -> StorageError:
        """A StorageError a labeler can act on, logged once here."""
        where = self.description
        if isinstance(exc, NoCredentialsError | PartialCredentialsError):
            error: StorageError = SourceUnavailable(
                f"No S3 credentials for {where}: set AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY (or another boto3 credential source)"
            )
        elif isinstance(exc, ClientError):
            code = str(exc.response.get("Error", {}).get("Code", ""))
            status = str(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))
            if key is not None and (code in MISSING_KEY or status == "404"):
                return ImageNotFound(f"no image {key!r} in {where}")
            if code == "NoSuchBucket":
                error = SourceUnavailable(f"S3 bucket {self.bucket!r} does not exist ({where})")
            elif code in DENIED or status == "403":
                error = SourceUnavailable(
                    f"S3 denied access to {where} ({code or status}): check the credentials "
                    "and the bucket policy"
                )
            elif code in THROTTLED or status == "503":
                error = SourceUnavailable(
                    f"S3 is throttling requests to {where} ({code or status}); "
                    "try again in a moment"
                )
            else:
                message = exc.response.get("Error", {}).get("Message", "")
                error = SourceUnavailable(f"S3 error on {where}: {code or status} {message}")
        elif isinstance(exc, BotoConnectionError):
            error = SourceUnavailable(f"Cannot reach S3 for {where}: {exc}")
        else:
            error = SourceUnavailable(f"S3 failed on {where}: {exc}")
        log.warning("%s", error)
        return error

    def _pages(self, **params: Any) -> Iterator[dict[str, Any]]:
        """list_objects_v2 pages, following continuation tokens."""
        params = {"Bucket": self.bucket, **params}
        try:
            while True:
                page = self.client.list_objects_v2(**params)
                yield page
                if not page.get("IsTruncated"):
                    return
                params["ContinuationToken"] = page["NextContinuationToken"]
        except (ClientError, BotoCoreError) as exc:
            raise self._explain(exc) from None

    def batches(self, max_entries: int) -> BatchList:
        """Sub-prefixes, plus ROOT_BATCH when images sit directly below the prefix."""
        names: list[str] = []
        root_images = False
        seen = 0
        for page in self._pages(Prefix=self.prefix, Delimiter="/", MaxKeys=1000):
            for common in page.get("CommonPrefixes", []):
                name = common["Prefix"][len(self.prefix) :].rstrip("/")
                if name and not name.startswith(".") and is_valid_key(f"{name}/x.jpg"):
                    names.append(name)
            root_images = root_images or any(
                is_image_name(item["Key"][len(self.prefix) :]) for item in page.get("Contents", [])
            )
            seen += page.get("KeyCount", 0)
            if seen >= max_entries and page.get("IsTruncated"):
                if root_images or not names:
                    names.append(ROOT_BATCH)
                return BatchList(tuple(sorted(set(names))), False)
        if root_images or not names:
            names.append(ROOT_BATCH)
        return BatchList(tuple(sorted(set(names))), True)

    def list_keys(self, batch: str, after: str | None, limit: int, prefix: str = "") -> KeyPage:
        """A page of the batch's image keys, listed from S3 starting after `after`."""
        params: dict[str, Any] = {
            "Prefix": self.prefix + batch_prefix(batch) + prefix,
            "MaxKeys": min(max(limit, 1), 1000),
        }
        if batch == ROOT_BATCH:
            params["Delimiter"] = "/"  # the top level only: sub-prefixes are other batches
        if after:
            params["StartAfter"] = self.prefix + after
        found: list[str] = []
        for page in self._pages(**params):
            for item in page.get("Contents", []):
                key = item["Key"][len(self.prefix) :]
                if is_valid_key(key):
                    found.append(key)
            if len(found) >= limit:
                return KeyPage(
                    tuple(found[:limit]), bool(page.get("IsTruncated")) or len(found) > limit
                )
        return KeyPage(tuple(found), False)

    def _object_key(self, key: str) -> str:
        if not is_valid_key(key):
            raise ImageNotFound(f"no image {key!r} in {self.description}")
        return self.prefix + key

    def stat(self, key: str) -> ObjectMeta:
        """Size and ETag from a HEAD request."""
        object_key = self._object_key(key)
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=object_key)
        except (ClientError, BotoCoreError) as exc:
            raise self._explain(exc, key) from None
        return ObjectMeta(int(head.get("ContentLength", 0)), str(head.get("ETag", "")).strip('"'))

    def _get(self, key: str, **params: Any) -> bytes:
        object_key = self._object_key(key)
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=object_key, **params)
            return bytes(response["Body"].read())
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "InvalidRange":
                return b""  # an empty object has no first byte
            raise self._explain(exc, key) from None
        except BotoCoreError as exc:
            raise self._explain(exc, key) from None

    def read(self, key: str) -> bytes:
        """The whole object."""
        return self._get(key)

    def read_head(self, key: str, size: int) -> bytes:
        """The object's first bytes, with a ranged GET."""
        return self._get(key, Range=f"bytes=0-{max(size, 1) - 1}")

    def read_head_meta(self, key: str, size: int) -> tuple[bytes, ObjectMeta]:
        """The first bytes with the size and ETag, from one ranged GET (no HEAD)."""
        object_key = self._object_key(key)
        try:
            response = self.client.get_object(
                Bucket=self.bucket, Key=object_key, Range=f"bytes=0-{max(size, 1) - 1}"
            )
            head = bytes(response["Body"].read())
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "InvalidRange":
                return b"", self.stat(key)  # an empty object has no first byte
            raise self._explain(exc, key) from None
        except BotoCoreError as exc:
            raise self._explain(exc, key) from None
        total = str(response.get("ContentRange", "")).rpartition("/")[2]
        length = int(total) if total.isdigit() else int(response.get("ContentLength", len(head)))
        return head, ObjectMeta(length, str(response.get("ETag", "")).strip('"'))

    def presigned_url(self, key: str, expires: int) -> str | None:
        """A time-limited GET URL whose response the browser may cache."""
        params = {
            "Bucket": self.bucket,
            "Key": self._object_key(key),
            "ResponseCacheControl": PRESIGNED_CACHE_CONTROL,
        }
        try:
            url = self.client.generate_presigned_url("get_object", Params=params, ExpiresIn=expires)
        except (ClientError, BotoCoreError) as exc:
            raise self._explain(exc, key) from None
        return str(url)
