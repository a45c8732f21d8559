"""Checking and cleaning an uploaded image before it is stored and sent to the platforms.

The type is read from the bytes, never from the file's name or the browser's claim: a PDF
or an HTML page renamed ``.jpg`` is refused. Size and pixel limits are the strictest of
the platforms' (Instagram: 8 MB, at least 320 px wide). The pixel count is checked from
the header, before anything is decoded, so a small file that would unpack into gigabytes
(a decompression bomb) never is.

Every image is re-encoded from its pixels alone, with its orientation applied: EXIF (GPS
position, camera serial, time), XMP and comments are not carried over. Opaque images are
stored as JPEG — the one format every platform takes (Instagram takes nothing else) — and
images with transparency as PNG.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import IO

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import Storage
from django.db import transaction
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

logger = logging.getLogger(__name__)

# What a person may upload, by the format Pillow recognises in the bytes.
ACCEPTED_FORMATS = ("JPEG", "PNG", "GIF", "WEBP")
MAX_BYTES = 8 * 1024 * 1024
MIN_WIDTH = 320
MAX_SIDE = 8000
MAX_PIXELS = MAX_SIDE * MAX_SIDE
# JPEG qualities tried in turn until the re-encoded file is within MAX_BYTES.
JPEG_QUALITIES = (90, 80, 70)


@dataclass(frozen=True)
class CleanImage:
    content: bytes
    content_type: str
    extension: str
    width: int
    height: int

    @property
    def size(self) -> int:
        return len(self.content)


def _megabytes(count: int) -> str:
    return f"{count / (1024 * 1024):.0f}"


def read_upload(upload: IO[bytes], declared_size: int | None = None) -> bytes:
    """The uploaded bytes, refusing a file over MAX_BYTES without reading all of it."""
    if declared_size is not None and declared_size > MAX_BYTES:
        raise ValidationError(_too_big())
    upload.seek(0)
    data = upload.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise ValidationError(_too_big())
    if not data:
        raise ValidationError(_("The file is empty."))
    return data


def _too_big() -> str:
    return _("The image is larger than %(limit)s MB; make it smaller and upload it again.") % {
        "limit": _megabytes(MAX_BYTES)
    }


def clean(data: bytes) -> CleanImage:
    """Check ``data`` and return it re-encoded without metadata. Raises ValidationError
    with a message a person can act on."""
    if len(data) > MAX_BYTES:
        raise ValidationError(_too_big())
    with warnings.catch_warnings():
        # Pillow only warns below its own hard limit; here any bomb is an error.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
        except UnidentifiedImageError:
            raise ValidationError(_not_an_image()) from None
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise ValidationError(_too_many_pixels()) from None
        except OSError:
            raise ValidationError(_damaged()) from None
        with image:
            _check_size(image)
            if getattr(image, "n_frames", 1) > 1:
                raise ValidationError(_("Animated images cannot be posted; upload a still image."))
            try:
                image.load()
                upright = ImageOps.exif_transpose(image)
            except (Image.DecompressionBombError, Image.DecompressionBombWarning):
                raise ValidationError(_too_many_pixels()) from None
            except (OSError, ValueError, SyntaxError):
                raise ValidationError(_damaged()) from None
            # Width as people will see it: a portrait photo is stored on its side.
            _check_width(upright)
            return _encode(upright)


def _not_an_image() -> str:
    return _(
        "This file is not an image Sotong can post. Upload a JPEG, PNG, GIF or WebP image "
        "(the file's content counts, not its name)."
    )


def _too_many_pixels() -> str:
    return _("The image has too many pixels; at most %(max)s×%(max)s are accepted.") % {
        "max": MAX_SIDE
    }


def _damaged() -> str:
    return _("The image is damaged or incomplete; save it again and upload it.")


def _check_size(image: Image.Image) -> None:
    # From the header alone, before any pixel is decoded.
    width, height = image.size
    if width > MAX_SIDE or height > MAX_SIDE or width * height > MAX_PIXELS:
        raise ValidationError(
            _("The image is %(width)s×%(height)s pixels; at most %(max)s×%(max)s are accepted.")
            % {"width": width, "height": height, "max": MAX_SIDE}
        )


def _check_width(image: Image.Image) -> None:
    width = image.width
    if width < MIN_WIDTH:
        raise ValidationError(
            _("The image is %(width)s pixels wide; it must be at least %(min)s pixels wide.")
            % {"width": width, "min": MIN_WIDTH}
        )


def _has_transparency(image: Image.Image) -> bool:
    if image.mode in ("RGBA", "LA", "PA"):
        low, _high = image.getchannel("A").getextrema()
        return isinstance(low, int | float) and low < 255
    return image.mode == "P" and "transparency" in image.info


def _encode(image: Image.Image) -> CleanImage:
    # A new image built from the pixels alone: nothing of the original's info (EXIF, XMP,
    # ICC, comments) can ride along into the saved file.
    if _has_transparency(image):
        pixels = image.convert("RGBA")
        fresh = Image.frombytes("RGBA", pixels.size, pixels.tobytes())
        out = io.BytesIO()
        fresh.save(out, "PNG", optimize=True)
        content = out.getvalue()
        if len(content) > MAX_BYTES:
            raise ValidationError(_too_big())
        return CleanImage(content, "image/png", "png", fresh.width, fresh.height)
    mode = "L" if image.mode in ("L", "1", "I;16") else "RGB"
    pixels = image.convert(mode)
    fresh = Image.frombytes(mode, pixels.size, pixels.tobytes())
    for quality in JPEG_QUALITIES:
        out = io.BytesIO()
        fresh.save(out, "JPEG", quality=quality, optimize=True)
        content = out.getvalue()
        if len(content) <= MAX_BYTES:
            return CleanImage(content, "image/jpeg", "jpg", fresh.width, fresh.height)
    raise ValidationError(_too_big())


# -- the stored file follows the database -------------------------------------------------
#
# A file is written BEFORE the transaction that records its row commits, and deleted only
# AFTER the transaction that deletes its row commits. So a committed row always has its
# file (an accepted image is never lost, and no row points at nothing); the one thing a
# failure can leave is a file without a row. Django has no "on rollback" hook, so:
# ``written`` deletes the file when the block that creates the row fails (its savepoint or
# its transaction rolled back); a file left by an enclosing transaction that rolled back
# later, or by a process that died between the write and the commit, has no row and is
# removed by ``sotong images sweep`` once it is a day old.


@contextmanager
def written(storage: Storage, path: str, content: bytes) -> Iterator[str]:
    """Store ``content`` at (about) ``path`` and give the name it got. Wrap the atomic block
    that records the row in it: if that block fails, on its way in or at its commit, the
    file is deleted again."""
    name = storage.save(path, ContentFile(content))
    try:
        yield name
    except BaseException:
        discard(storage, name)
        raise


def delete_after_commit(storage: Storage, name: str) -> None:
    """Delete the file once the transaction that deleted its row commits; never if it (or
    the savepoint it was called in) rolls back: the row is back, and so must the file be."""
    if name:
        transaction.on_commit(partial(discard, storage, name), robust=True)


def discard(storage: Storage, name: str) -> None:
    """Delete a stored file; a failure is logged, not raised (the sweep retries it)."""
    try:
        storage.delete(name)
    except OSError:
        logger.warning("image file %s could not be deleted", name, exc_info=True)


# A file with no row younger than this may belong to a transaction still open: left alone.
ORPHAN_AGE = dt.timedelta(days=1)
IMAGES_DIRECTORY = "post-images"


def _stored_names(storage: Storage, directory: str) -> Iterator[str]:
    try:
        folders, files = storage.listdir(directory)
    except FileNotFoundError:  # nothing was ever uploaded
        return
    for file in files:
        yield f"{directory}/{file}"
    for folder in folders:
        yield from _stored_names(storage, f"{directory}/{folder}")


def sweep_orphans(now: dt.datetime | None = None, *, dry_run: bool = False) -> list[str]:
    """Image files no PostImage refers to, older than ORPHAN_AGE (left by a transaction
    that rolled back after the write, or a process that died): deleted unless
    ``dry_run``. Returns their names."""
    from django.utils import timezone

    from sotong.publishing.models import PostImage

    storage = PostImage._meta.get_field("file").storage
    cutoff = (now or timezone.now()) - ORPHAN_AGE
    names = sorted(_stored_names(storage, IMAGES_DIRECTORY))
    orphans: list[str] = []
    for start in range(0, len(names), 500):
        batch = names[start : start + 500]
        known = set(PostImage.objects.filter(file__in=batch).values_list("file", flat=True))
        orphans += [
            name for name in batch if name not in known and storage.get_modified_time(name) < cutoff
        ]
    if not dry_run:
        for name in orphans:
            discard(storage, name)
    return orphans
