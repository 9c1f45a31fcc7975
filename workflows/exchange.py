"""Import and export: the format codecs applied to the annotation store and image source."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import timedelta

from domain.annotation import Annotation, utc_now
from domain.errors import AnnotatorNameError
from domain.identity import clean_annotator_name
from domain.sources import is_gold
from domain.status import FINISHED
from domain.stored_rows import SkippedRow, skipped_summary
from formats.archive import is_zip, unzip, zip_files
from formats.model import ExportSet, FormatError, ImageAnnotations, ImageRef, RawImage, Shape
from formats.registry import Codec, codec_for, read_upload
from formats.resolve import ImportRejected, reject, resolve
from storage.errors import ImageNotFound, StorageError, UnreadableImage
from storage.images import batch_prefix, in_batch
from storage.renditions import ImageInfo
from storage.runtime import Services
from workflows.source_index import NameIndex, all_keys

Progress = Callable[[int, int, str], None]
DEFAULT_IMPORT_ANNOTATOR = "import"
CONSENSUS = "consensus"  # the annotator name a consensus export carries


class ExportFailed(StorageError):
    """Nothing could be exported; the message says why."""


@dataclass(frozen=True)
class ExportFile:
    """An export ready to download or write, with what it holds."""

    filename: str
    content: bytes
    images: int
    shapes: int
    annotators: tuple[str, ...]
    warnings: tuple[str, ...] = ()

    def summary(self) -> str:
        """One line for the UI and the command line."""
        who = ", ".join(self.annotators)
        text = f"{self.filename}: {self.images} image(s), {self.shapes} shape(s) by {who}"
        return text + "".join(f"; {w}" for w in self.warnings)


@dataclass(frozen=True)
class ImportReport:
    """What an import wrote."""

    filename: str
    images: int
    empty: int
    shapes: int
    annotators: tuple[str, ...]
    inserted: int
    deleted: int

    def summary(self) -> str:
        """One line for the UI and the command line."""
        changed = (
            f"{self.inserted} shape(s) written, {self.deleted} replaced or removed"
            if self.inserted or self.deleted
            else "nothing changed (already imported)"
        )
        return (
            f"{self.filename}: {self.images} image(s) ({self.empty} with no objects), "
            f"{self.shapes} shape(s) for {', '.join(self.annotators)}; {changed}"
        )


def _quiet(done: int, total: int, what: str) -> None:
    return None


def _safe_folder(name: str) -> str:
    return re.sub(r"[^\w.@+-]+", "_", name).strip("._") or "annotator"


def read_sizes(
    services: Services, keys: Sequence[str], progress: Progress = _quiet
) -> tuple[dict[str, ImageRef], dict[str, str]]:
    """Each image's size: remembered in the database for its fingerprint, else from its
    header (cached), several at a time where the source waits on the network (S3: a
    ranged GET each). Unreadable or missing images come back apart, with the reason."""
    try:
        known = services.store.known_sizes(keys)
    except StorageError:
        known = {}  # only a shortcut: read the headers
    learnt: dict[str, tuple[str, ImageInfo]] = {}

    def one(key: str) -> ImageRef | str:
        images = services.images
        try:
            remembered = known.get(key)
            if remembered is not None and remembered[0] == images.fingerprint(key):
                info = remembered[1]
            else:
                info = images.info(key)
                learnt[key] = (images.fingerprint(key), info)
        except (ImageNotFound, UnreadableImage) as exc:
            return str(exc)
        return ImageRef(key, info.width, info.height)

    refs: dict[str, ImageRef] = {}
    unreadable: dict[str, str] = {}
    workers = getattr(services.images.source, "parallel_reads", 1)
    with ThreadPoolExecutor(max_workers=workers) if workers > 1 else nullcontext() as pool:
        answers = pool.map(one, keys) if pool is not None else map(one, keys)
        for number, (key, found) in enumerate(zip(keys, answers)):
            if number % 100 == 0:
                progress(number, len(keys), "reading image sizes")
            if isinstance(found, str):
                unreadable[key] = found
            else:
                refs[key] = found
    if learnt:
        try:
            services.store.remember_sizes(learnt)
        except StorageError:
            pass  # they will be read again next time
    return refs, unreadable


# ---------------------------------------------------------------- export


Stored = tuple[dict[tuple[str, str], list[Shape]], set[tuple[str, str]], list[SkippedRow]]


def _stored_shapes(services: Services, annotator: str | None, batch: str | None) -> Stored:
    """Shapes by (image, annotator), the pairs finished (drew on or found empty; gold: its
    status is finished), and the stored shapes left out as unusable (domain.stored_rows)."""
    rows = services.store.export_rows(annotator, key_prefix=batch_prefix(batch))
    shapes: dict[tuple[str, str], list[Shape]] = {}
    for row in rows.shapes:
        shape = Shape(row.label, row.kind, row.coords, row.points, row.score)  # type: ignore[arg-type]
        shapes.setdefault((row.image_key, row.annotator), []).append(shape)
    finished = {pair for pair, status in rows.statuses.items() if status in FINISHED}
    # Gold counts only once finished (accepted by a reviewer, or imported): shapes a
    # reviewer is still adjudicating are a draft, not ground truth to hand out.
    pairs = {pair for pair in shapes if not is_gold(pair[1])} | finished
    return shapes, pairs, rows.skipped


def _consensus_shapes(services: Services, batch: str | None, threshold: float) -> Stored:
    """The consensus boxes (analysis.consensus) of every finished image, as CONSENSUS's,
    and the stored shapes the analysis left out."""
    # The analysis stack (numpy, scipy, scikit-learn) only for this export: the app's web
    # workers import this module but need none of it to serve the page.
    from analysis.consensus import consensus_of
    from workflows.agreement import load_work

    work = load_work(services, batch)
    agreed = consensus_of(work, threshold)
    shapes = {
        (key, CONSENSUS): [Shape(o.label, "rect", o.box) for o in objects]
        for key, objects in agreed.items()
    }
    return shapes, set(shapes), list(work.left_out)


def collect_export(
    services: Services,
    annotator: str | None,
    batch: str | None,
    progress: Progress = _quiet,
    consensus: bool = False,
    iou_threshold: float = 0.5,
) -> tuple[dict[str, ExportSet], list[str]]:
    """Per annotator (or for the consensus), the images finished with their shapes,
    restricted to one batch when given; and warnings about images and stored shapes left
    out (a shape that cannot be read is skipped and counted, the rest is exported)."""
    if consensus:
        shapes, pairs, skipped = _consensus_shapes(services, batch, iou_threshold)
    else:
        shapes, pairs, skipped = _stored_shapes(services, annotator, batch)
    if batch is not None:
        pairs = {pair for pair in pairs if in_batch(pair[0], batch)}
        skipped = [row for row in skipped if in_batch(row.image_key, batch)]
    if not pairs:
        whose = "the consensus" if consensus else f"{annotator}'s" if annotator else "any"
        where = f" in batch {batch or '(top level)'}" if batch is not None else ""
        raise ExportFailed(f"there are no finished images of {whose} annotations{where} to export")
    refs, unreadable = read_sizes(services, sorted({key for key, _ in pairs}), progress)
    progress(1, 1, "writing")
    warnings: list[str] = [skipped_summary(skipped)] if skipped else []
    missing = sorted(unreadable)
    if missing:
        shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
        warnings.append(f"{len(missing)} image(s) left out: not readable in the source ({shown})")
    project = [label.name for label in services.settings.labels]
    extra = sorted({s.label for group in shapes.values() for s in group} - set(project))
    labels = tuple(project + extra)
    sets: dict[str, list[ImageAnnotations]] = {}
    for key, who in sorted(pairs):
        if key in refs:
            item = ImageAnnotations(refs[key], who, tuple(shapes.get((key, who), ())))
            sets.setdefault(who, []).append(item)
    if not sets:
        raise ExportFailed("none of the finished images can be read from the image source")
    return {who: ExportSet(labels, tuple(items)) for who, items in sets.items()}, warnings


def export_annotations(
    services: Services,
    format_name: str,
    annotator: str | None = None,
    batch: str | None = None,
    progress: Progress = _quiet,
    consensus: bool = False,
    iou_threshold: float = 0.5,
    **options: object,
) -> ExportFile:
    """Export one annotator's work (or everyone's, or the consensus) in a format. Tidy CSV
    keeps everyone in one file; other formats get one file set per annotator, in folders
    of a zip. The consensus is written as the annotator "consensus"."""
    codec = codec_for(format_name)
    if consensus:
        annotator = CONSENSUS
    sets, warnings = collect_export(
        services, annotator, batch, progress, consensus=consensus, iou_threshold=iou_threshold
    )
    images = sum(len(s.items) for s in sets.values())
    shapes = sum(len(i.shapes) for s in sets.values() for i in s.items)
    who = tuple(sorted(sets))
    stem = f"concord-{codec.name}-{_safe_folder(annotator) if annotator else 'all'}"
    if not services.project.is_first:  # files of several projects stay apart in Downloads
        stem = f"concord-{services.project.slug}-{stem.removeprefix('concord-')}"
    if batch:
        stem += f"-{_safe_folder(batch)}"
    if annotator is not None or codec.name == "csv":
        merged = ExportSet(
            next(iter(sets.values())).labels,
            tuple(sorted((i for s in sets.values() for i in s.items), key=_order)),
        )
        content = codec.write(merged, **options)
        return ExportFile(
            f"{stem}.{codec.extension}", content, images, shapes, who, tuple(warnings)
        )
    members: dict[str, bytes] = {}
    for name in who:
        content = codec.write(sets[name], **options)
        folder = _safe_folder(name)
        if codec.archive:
            for member, data in unzip(content, capped=False).items():  # our own zip
                members[f"{folder}/{member}"] = data
        else:
            members[f"{folder}/annotations.{codec.extension}"] = content
    return ExportFile(f"{stem}.zip", zip_files(members), images, shapes, who, tuple(warnings))


def _order(item: ImageAnnotations) -> tuple[str, str]:
    return (item.image.key, item.annotator)


# ---------------------------------------------------------------- import


def read_import_files(
    codec: Codec, filename: str, data: bytes | Mapping[str, bytes], labels: tuple[str, ...]
) -> list[RawImage]:
    """Parse an upload (bytes) or a folder's files (name -> bytes) with a codec."""
    try:
        if isinstance(data, bytes):
            return read_upload(codec, filename, data, labels)
        files = dict(data)
        for name, content in list(files.items()):
            if is_zip(content) and codec.archive:
                del files[name]
                files.update({f"{name}/{m}": c for m, c in unzip(content, name).items()})
        if not files:
            raise FormatError(f"{filename}: no files to import")
        return codec.read(files, labels)
    except FormatError as exc:
        raise reject(exc, filename) from None


def _clean_annotators(raw: list[RawImage], default: str) -> tuple[str, list[RawImage]]:
    try:
        default = clean_annotator_name(default)
    except AnnotatorNameError as exc:
        raise ImportRejected((f"annotator: {exc}",)) from None
    problems: list[str] = []
    cleaned: list[RawImage] = []
    for item in raw:
        if item.annotator is None:
            cleaned.append(item)
            continue
        try:
            who = clean_annotator_name(item.annotator)
        except AnnotatorNameError as exc:
            problems.append(f"{item.where}: annotator {item.annotator[:20]!r}: {exc}")
            continue
        cleaned.append(RawImage(item.name, item.shapes, item.where, who, item.size))
    if problems:
        raise ImportRejected(tuple(problems))
    return default, cleaned


def match_images(
    services: Services, raw: Sequence[RawImage], progress: Progress = _quiet
) -> dict[str, ImageRef]:
    """The source image (with its size) that each name in the file means; names that are
    absent are left out (resolve reports them), ambiguous or unreadable ones are refused."""
    index = NameIndex.of(all_keys(services.images.catalog, progress))
    problems: list[str] = []
    keys: dict[str, str] = {}
    for name in sorted({item.name for item in raw}):
        found = index.find(name)
        if isinstance(found, list):
            shown = ", ".join(found[:5])
            problems.append(f"image {name!r} matches several images in the source: {shown}")
        elif found is not None:
            keys[name] = found
    sizes, unreadable = read_sizes(services, sorted(set(keys.values())), progress)
    problems.extend(f"image {key}: {reason}" for key, reason in sorted(unreadable.items()))
    if problems:
        raise ImportRejected(tuple(problems))
    return {name: sizes[key] for name, key in keys.items()}


def image_id_prefix(item: ImageAnnotations) -> str:
    """A stable id stem for one annotator's shapes on one image, made from all of them:
    importing the same file twice finds its shapes already stored; if any shape of the
    image changed, all of its shapes get new ids and replace the old ones."""
    content = repr([(s.label, s.kind, s.coords, s.points) for s in item.shapes])
    text = "\x1f".join((item.image.key, item.annotator, content))
    return "i" + hashlib.blake2b(text.encode(), digest_size=15).hexdigest()


def records_of(items: Sequence[ImageAnnotations]) -> list[tuple[str, str, list[Annotation]]]:
    """Store records for resolved images: (key, annotator, shapes) with stable ids."""
    now = utc_now()
    groups = []
    for item in items:
        key, who, stem = item.image.key, item.annotator, image_id_prefix(item)
        records = [
            Annotation(
                id=f"{stem}-{number}",
                image_key=key,
                annotator=who,
                label=shape.label,
                kind=shape.kind,
                coords=shape.coords,
                points=shape.points,
                created_at=now + timedelta(microseconds=number),  # keeps the file's order
                updated_at=now,
                source="import",
            )
            for number, shape in enumerate(item.shapes)
        ]
        groups.append((key, who, records))
    return groups


def import_annotations(
    services: Services,
    format_name: str,
    filename: str,
    data: bytes | Mapping[str, bytes],
    annotator: str = DEFAULT_IMPORT_ANNOTATOR,
    progress: Progress = _quiet,
    actor: str = "import",
) -> ImportReport:
    """Check a whole file and store its shapes, or raise ImportRejected and store nothing.
    The history records each change as made by `actor`.

    Each (image, annotator) in the file gets exactly the file's shapes (replacing what that
    annotator had there) and the status done, or empty when it has none."""
    try:
        codec = codec_for(format_name)
    except FormatError as exc:
        raise ImportRejected(tuple(exc.messages)) from None
    labels = tuple(label.name for label in services.settings.labels)
    progress(0, 1, "reading the file")
    raw = read_import_files(codec, filename, data, labels)
    default, raw = _clean_annotators(raw, annotator)
    refs = match_images(services, raw, progress)
    try:
        items = resolve(raw, refs, labels, default)
    except ImportRejected as exc:
        named = (m if m.startswith(filename) else f"{filename}: {m}" for m in exc.messages)
        raise ImportRejected(tuple(named)) from None
    progress(1, 1, "writing")
    counts = services.store.replace_images(records_of(items), actor=actor)
    return ImportReport(
        filename=filename,
        images=len({i.image.key for i in items}),
        empty=sum(1 for i in items if not i.shapes),
        shapes=sum(len(i.shapes) for i in items),
        annotators=tuple(sorted({i.annotator for i in items})),
        inserted=counts.inserted,
        deleted=counts.deleted,
    )
