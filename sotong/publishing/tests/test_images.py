"""Images on posts: checked by their content (not their name), size and pixels; stored
re-encoded without EXIF/GPS; served publicly by token only for submitted posts; counted
by the variants' fit; handed to Instagram and Facebook as URLs when published."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import reverse
from PIL import Image

from sotong.core.models import AuditEntry
from sotong.core.roles import Role
from sotong.publishing import actions, dispatch, images, tasks
from sotong.publishing.models import PostImage, PostStatus, PublicationState
from sotong.publishing.tests.test_actions import approved_and_due, connect, write

GPS_IFD = 0x8825
ORIENTATION = 0x0112


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SOTONG_PUBLIC_URL = "https://sotong.suncheon.go.kr"


@pytest.fixture
def author(city, make_staff):
    return make_staff(city, Role.DEPARTMENT_AUTHOR, "sewer")


@pytest.fixture
def editor(city, make_staff):
    return make_staff(city, Role.PR_EDITOR, "pr")


def jpeg_with_gps(width: int = 800, height: int = 600, *, orientation: int = 1) -> bytes:
    image = Image.new("RGB", (width, height), (20, 120, 200))
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[0x010F] = "Camera Maker"
    gps = exif.get_ifd(GPS_IFD)
    gps[1] = "N"
    gps[2] = (34.0, 57.0, 1.5)  # 순천만 습지
    gps[3] = "E"
    gps[4] = (127.0, 30.0, 2.5)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def png(width: int = 640, height: int = 480, *, alpha: bool = False) -> bytes:
    mode = "RGBA" if alpha else "RGB"
    colour = (200, 30, 30, 128) if alpha else (200, 30, 30)
    out = io.BytesIO()
    Image.new(mode, (width, height), colour).save(out, "PNG")
    return out.getvalue()


def upload(data: bytes, name: str = "photo.jpg", content_type: str = "image/jpeg"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def bomb_png(side: int) -> bytes:
    """A valid PNG header claiming side×side pixels with a tiny body: decoding it would
    take gigabytes."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    row = b"\x00" + b"\x00" * (side // 8)
    body = zlib.compress(row * 64, 9)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")
    )


# -- checking and cleaning ------------------------------------------------------------------


def test_gps_exif_is_stripped_and_orientation_applied() -> None:
    original = Image.open(io.BytesIO(jpeg_with_gps(orientation=6)))
    assert original.getexif().get_ifd(GPS_IFD)[2] == (34.0, 57.0, 1.5)
    cleaned = images.clean(jpeg_with_gps(orientation=6))
    stored = Image.open(io.BytesIO(cleaned.content))
    assert stored.format == "JPEG"
    assert dict(stored.getexif()) == {}
    assert "exif" not in stored.info
    assert b"Camera Maker" not in cleaned.content
    # Orientation 6 (rotate 90°): the 800×600 sensor image is a 600×800 portrait.
    assert (cleaned.width, cleaned.height) == (600, 800) == stored.size
    assert cleaned.content_type == "image/jpeg"


def test_png_is_accepted_transparent_kept_as_png() -> None:
    opaque = images.clean(png())
    assert (opaque.content_type, opaque.width, opaque.height) == ("image/jpeg", 640, 480)
    transparent = images.clean(png(alpha=True))
    assert transparent.content_type == "image/png"
    assert Image.open(io.BytesIO(transparent.content)).mode == "RGBA"


def test_too_narrow_is_refused_in_korean() -> None:
    with pytest.raises(ValidationError, match="너비가 319픽셀입니다"):
        images.clean(png(319, 1000))


def test_too_many_pixels_is_refused() -> None:
    with pytest.raises(ValidationError, match="8001×400픽셀입니다"):
        images.clean(png(8001, 400))


def test_more_than_eight_megabytes_is_refused_unread() -> None:
    class Endless(io.RawIOBase):
        read_calls = 0

        def readable(self) -> bool:
            return True

        def read(self, size: int = -1) -> bytes:
            self.read_calls += 1
            return b"\xff" * (size if size > 0 else 1)

    stream = Endless()
    with pytest.raises(ValidationError, match="8MB보다 큽니다"):
        images.read_upload(stream, declared_size=images.MAX_BYTES + 1)  # type: ignore[arg-type]
    assert stream.read_calls == 0
    # A size the browser did not declare is found out by reading one byte past the limit.
    with pytest.raises(ValidationError, match="8MB보다 큽니다"):
        images.read_upload(io.BytesIO(b"\0" * (images.MAX_BYTES + 1)))


def test_a_pdf_named_jpg_is_refused() -> None:
    pdf = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
    with pytest.raises(ValidationError, match="파일 이름이 아니라 실제 내용으로"):
        images.clean(pdf)
    html = b"<!doctype html><script>alert(1)</script>"
    with pytest.raises(ValidationError, match="JPEG, PNG, GIF, WebP"):
        images.clean(html)


def test_a_decompression_bomb_is_refused_before_decoding() -> None:
    data = bomb_png(9_000)
    assert len(data) < 10_000
    with pytest.raises(ValidationError, match="9000×9000픽셀입니다"):
        images.clean(data)
    # Beyond Pillow's own hard limit too: refused as such, never decoded.
    with pytest.raises(ValidationError, match="픽셀 수가 너무 많습니다"):
        images.clean(bomb_png(50_000))


def test_a_truncated_image_is_refused() -> None:
    with pytest.raises(ValidationError, match="손상되었거나"):
        images.clean(jpeg_with_gps()[:400])


def test_gif_and_webp_are_accepted() -> None:
    for kind in ("GIF", "WEBP"):
        out = io.BytesIO()
        Image.new("RGB", (400, 300), (0, 128, 0)).save(out, kind)
        cleaned = images.clean(out.getvalue())
        assert (cleaned.width, cleaned.height) == (400, 300)


# -- the actions --------------------------------------------------------------------------


def test_add_image_stores_it_clean_and_audited(city, sim, author) -> None:
    facebook = connect(city, sim, "facebook")
    post = write(author, city, [facebook])
    image = actions.add_image(author, post, upload(jpeg_with_gps()), "순천만 갈대밭 풍경")
    image.refresh_from_db()
    assert (image.width, image.height, image.content_type) == (800, 600, "image/jpeg")
    assert image.alt_text == "순천만 갈대밭 풍경"
    stored = image.file.read()
    assert image.size == len(stored)
    assert Image.open(io.BytesIO(stored)).getexif().get_ifd(GPS_IFD) == {}
    assert not image.file.name.endswith("photo.jpg")  # the name uploaded is not trusted
    assert len(image.token) >= 40
    entry = AuditEntry.objects.get(action="post.image_add")
    assert entry.after["alt_text"] == "순천만 갈대밭 풍경"


def test_a_refused_upload_stores_nothing(city, sim, author, settings) -> None:
    facebook = connect(city, sim, "facebook")
    post = write(author, city, [facebook])
    pdf = upload(b"%PDF-1.4\n%%EOF\n", "poster.jpg")
    with pytest.raises(ValidationError) as caught:
        actions.add_image(author, post, pdf)
    assert "image" in caught.value.error_dict
    assert not PostImage.objects.exists()
    media = settings.MEDIA_ROOT
    assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))


def test_another_department_cannot_add_images(city, sim, author, make_staff) -> None:
    facebook = connect(city, sim, "facebook")
    post = write(author, city, [facebook])
    stranger = make_staff(city, Role.DEPARTMENT_AUTHOR, "traffic")
    with pytest.raises(PermissionDenied):
        actions.add_image(stranger, post, upload(png(), "a.png"))


def test_changing_images_of_an_approved_post_sends_it_back(
    city, sim, author, editor, django_capture_on_commit_callbacks
) -> None:
    facebook = connect(city, sim, "facebook")
    post = write(author, city, [facebook])
    approved_and_due(author, editor, post)
    post.refresh_from_db()
    assert post.status == PostStatus.APPROVED
    image = actions.add_image(author, post, upload(png(), "a.png"))
    assert post.status == PostStatus.IN_REVIEW
    actions.approve(editor, post)
    path = Path(image.file.path)
    assert path.is_file()
    with django_capture_on_commit_callbacks(execute=True):
        actions.remove_image(author, post, image)
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW
    assert not PostImage.objects.exists()
    assert AuditEntry.objects.filter(action="post.image_remove").count() == 1
    assert not path.exists()  # deleted once the removal is committed


def stored_files(settings) -> list[Path]:
    media = Path(settings.MEDIA_ROOT)
    return sorted(p for p in media.rglob("*") if p.is_file()) if media.exists() else []


def test_a_failure_after_the_file_is_written_leaves_no_file(
    city, sim, author, settings, monkeypatch
) -> None:
    facebook = connect(city, sim, "facebook")
    post = write(author, city, [facebook])
    for _number in range(actions.MAX_IMAGES_PER_POST):
        actions.add_image(author, post, upload(png(), "a.png"))
    assert len(stored_files(settings)) == actions.MAX_IMAGES_PER_POST
    # Refused once the file was written (the count is checked under the post's lock).
    with pytest.raises(ValidationError, match="10장까지"):
        actions.add_image(author, post, upload(png(), "b.png"))
    assert len(stored_files(settings)) == actions.MAX_IMAGES_PER_POST
    PostImage.objects.all().delete()
    for path in stored_files(settings):
        path.unlink()

    # Any failure after the row was written (here the audit) takes row and file with it.
    def broken(*args, **kwargs):
        raise RuntimeError("audit store down")

    monkeypatch.setattr(actions.audit, "record", broken)
    with pytest.raises(RuntimeError):
        actions.add_image(author, post, upload(png(), "c.png"))
    assert not PostImage.objects.exists()
    assert stored_files(settings) == []


def test_a_failure_inside_an_enclosing_transaction_leaves_no_file(
    city, sim, author, editor, settings
) -> None:
    """As on the compose page: more than the image in one transaction. The image's own
    block fails after writing its file; the enclosing one goes on and commits without it."""
    facebook = connect(city, sim, "facebook")
    post = write(author, city, [facebook])
    actions.submit(author, post)
    with transaction.atomic():
        actions.withdraw(editor, post, reason="행사 취소")
        with pytest.raises(ValidationError, match="바꿀 수 없습니다"):  # written, then refused
            actions.add_image(author, post, upload(png(), "b.png"))
    post.refresh_from_db()
    assert post.status == PostStatus.WITHDRAWN  # the enclosing transaction committed
    assert not PostImage.objects.exists()
    assert stored_files(settings) == []


def test_removing_an_image_in_a_rolled_back_transaction_keeps_its_file(
    city, sim, author, settings, django_capture_on_commit_callbacks
) -> None:
    facebook = connect(city, sim, "facebook")
    post = write(author, city, [facebook])
    image = actions.add_image(author, post, upload(png(), "a.png"))
    pk, path = image.pk, Path(image.file.path)

    @transaction.atomic
    def removed_then_failed() -> None:
        actions.remove_image(author, post, image)
        assert path.is_file()  # not before the commit
        raise RuntimeError("something after the removal failed")

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
        removed_then_failed()
    assert callbacks == []  # the deletion went with the rollback
    assert PostImage.objects.filter(pk=pk).exists()
    assert path.is_file()
    # Removed for real: the file goes once that is committed.
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        actions.remove_image(author, post, PostImage.objects.get(pk=pk))
        assert path.is_file()
    assert len(callbacks) == 1
    assert not path.exists()
    assert stored_files(settings) == []


def test_an_instagram_variant_fits_once_an_image_is_added(city, sim, author) -> None:
    instagram = connect(city, sim, "instagram")
    post = write(author, city, [instagram])
    variant = post.variants.get()
    assert actions.variant_fit(variant).problems == ("image_required",)
    with pytest.raises(ValidationError, match="순천시"):
        actions.submit(author, post)
    actions.add_image(author, post, upload(jpeg_with_gps()))
    assert actions.variant_fit(variant).fits
    actions.submit(author, post)
    assert post.status == PostStatus.IN_REVIEW


def test_band_posts_the_text_without_the_images(city, sim, author) -> None:
    band = connect(city, sim, "band")
    post = write(author, city, [band])
    actions.add_image(author, post, upload(png(), "a.png"))
    assert actions.variant_fit(post.variants.get()).fits


# -- the public address -------------------------------------------------------------------


def test_public_image_only_for_submitted_posts(client, city, sim, author) -> None:
    facebook = connect(city, sim, "facebook")
    post = write(author, city, [facebook])
    image = actions.add_image(author, post, upload(png(alpha=True), "logo.png"))
    url = reverse("images:public", kwargs={"token": image.token})
    assert client.get(url).status_code == 404  # a draft's image stays private
    actions.submit(author, post)
    response = client.get(url)  # no sign-in: the platforms fetch it
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert Image.open(io.BytesIO(response.content)).size == (640, 480)
    wrong = reverse("images:public", kwargs={"token": image.token[:-2] + "xx"})
    assert client.get(wrong).status_code == 404
    assert actions.image_url(image) == f"https://sotong.suncheon.go.kr/images/{image.token}/"


def test_staff_see_and_manage_images_on_the_post_page(client, city, sim, author) -> None:
    facebook = connect(city, sim, "facebook")
    post = write(author, city, [facebook])
    client.force_login(author.user)
    page = reverse("publishing:post", kwargs={"pk": post.pk})
    add = reverse("images:add", kwargs={"pk": post.pk})
    refused = client.post(add, {"image": upload(b"%PDF-1.4\n", "a.jpg"), "alt_text": "x"})
    assert refused.status_code == 400
    assert "실제 내용으로" in refused.content.decode()
    response = client.post(add, {"image": upload(jpeg_with_gps()), "alt_text": "갈대밭"})
    assert response.status_code == 302
    image = PostImage.objects.get()
    html = client.get(page).content.decode()
    assert f'src="{reverse("images:staff", kwargs={"pk": image.pk})}"' in html
    assert 'alt="갈대밭"' in html
    thumbnail = client.get(reverse("images:staff", kwargs={"pk": image.pk}))
    assert thumbnail["Content-Type"] == "image/jpeg"
    client.post(reverse("images:remove", kwargs={"pk": image.pk}))
    assert not PostImage.objects.exists()


def test_compose_with_an_image(client, city, sim, author) -> None:
    from sotong.conftest import department

    facebook = connect(city, sim, "facebook")
    client.force_login(author.user)
    data = {
        "department": department(city, "sewer").pk,
        "title": "갈대축제 안내",
        "body": "순천만에서 갈대축제가 열립니다.",
        "channels": [facebook.pk],
        "alt_text": "갈대밭",
    }
    bad = client.post(reverse("publishing:compose"), {**data, "image": upload(png(100, 100))})
    assert bad.status_code == 200
    assert "320픽셀 이상" in bad.content.decode()
    assert not PostImage.objects.exists()
    response = client.post(reverse("publishing:compose"), {**data, "image": upload(png())})
    assert response.status_code == 302
    assert PostImage.objects.get().alt_text == "갈대밭"


# -- dispatch -----------------------------------------------------------------------------


def params(request) -> dict[str, list[str]]:
    """A recorded Graph API call's parameters, from its query and its form body."""
    return {**request.query, **parse_qs(request.body.decode())}


def test_instagram_and_facebook_receive_the_image_url(city, sim, author, editor) -> None:
    instagram = connect(city, sim, "instagram")
    facebook = connect(city, sim, "facebook")
    sim.simulator["instagram"].processing_polls = 0
    post = write(author, city, [instagram, facebook])
    image = actions.add_image(author, post, upload(jpeg_with_gps()), "갈대밭")
    actions.submit(author, post, publish_at=None)
    actions.approve(editor, post)
    result = dispatch.dispatch_due()
    assert result.published == 2
    url = f"https://sotong.suncheon.go.kr/images/{image.token}/"
    containers = [params(r) for r in sim.simulator.recorded("instagram", "POST", "/media")]
    assert [c["image_url"] for c in containers if "image_url" in c] == [[url]]
    photos = [params(r) for r in sim.simulator.recorded("facebook", "POST", "/photos")]
    assert [p["url"] for p in photos] == [[url]]
    assert set(post.publications().values_list("state", flat=True)) == {PublicationState.PUBLISHED}


# -- sweeping files no row refers to --------------------------------------------------------


def test_sweep_removes_only_day_old_files_no_image_refers_to(
    city, sim, author, settings, capsys
) -> None:
    import json
    import os
    import time

    from django.utils import translation

    from sotong import cli

    facebook = connect(city, sim, "facebook")
    post = write(author, city, [facebook])
    kept = actions.add_image(author, post, upload(png(), "a.png"))
    media = Path(settings.MEDIA_ROOT)
    orphan = media / "post-images" / str(city.pk) / "left-by-a-rollback.jpg"
    fresh = media / "post-images" / str(city.pk) / "upload-in-progress.jpg"
    for path in (orphan, fresh):
        path.write_bytes(b"\xff\xd8 not committed")
    day_old = time.time() - images.ORPHAN_AGE.total_seconds() - 60
    os.utime(orphan, (day_old, day_old))
    os.utime(kept.file.path, (day_old, day_old))  # old, but a post has it

    with translation.override("ko"):  # the command picks the operator's language
        cli.main(["images", "sweep", "--dry-run"])
    report = json.loads(capsys.readouterr().out)
    assert report == {
        "dry_run": True,
        "orphans": [f"post-images/{city.pk}/left-by-a-rollback.jpg"],
        "removed": 0,
    }
    assert orphan.exists()  # only listed

    with translation.override("ko"):
        cli.main(["images", "sweep"])
    assert json.loads(capsys.readouterr().out)["removed"] == 1
    assert not orphan.exists()
    assert fresh.exists()  # may be a transaction still open: a day's grace
    assert Path(kept.file.path).exists()
    assert images.sweep_orphans() == []
    os.utime(fresh, (day_old, day_old))  # a day on, the daily task takes it
    assert tasks.sweep_orphan_images.call() == {"deleted": 1}
    assert not fresh.exists()
    assert Path(kept.file.path).exists()


def test_sweep_with_nothing_ever_uploaded(settings) -> None:
    assert not Path(settings.MEDIA_ROOT).exists()
    assert images.sweep_orphans(dry_run=True) == []
