"""Images of posts: the public address the platforms fetch an image from, the staff's own
view of any image of their posts, and adding and removing images on the post page. Thin:
the actions check permissions and the images themselves."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from sotong.core.roles import Capability as Permission
from sotong.publishing import actions, forms, selectors
from sotong.publishing.models import PostImage, PostStatus, PublicationState
from sotong.publishing.views import _add_errors, _render_post, _staff
from sotong.web.decorators import staff_required

# The platforms fetch an image when the post is approved and published, and may fetch it
# again later (link previews, re-scrapes). A draft's images stay private.
PUBLIC_STATUSES = (PostStatus.IN_REVIEW, PostStatus.APPROVED)


def _serve(image: PostImage, *, public: bool, download: bool = False) -> HttpResponse:
    # At most 8 MB (publishing.images): read whole, no file handle left open.
    try:
        with image.file.open("rb") as handle:
            content = handle.read()
    except FileNotFoundError:
        raise Http404 from None
    response = HttpResponse(content, content_type=image.content_type)
    filename = image.original_name or (image.file.name or "").rsplit("/", 1)[-1]
    disposition = content_disposition_header(download, filename)
    if disposition:
        response["Content-Disposition"] = disposition
    # Only ever an image: browsers must not guess otherwise, nor run anything in it.
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "public, max-age=300" if public else "private, max-age=300"
    return response


@require_GET
def public_image(request: HttpRequest, token: str) -> HttpResponse:
    """The image at its unguessable address, without sign-in (the platforms fetch it), for
    posts that were submitted: awaiting approval, approved, or already published."""
    image = get_object_or_404(
        PostImage.objects.select_related("post")
        .filter(
            Q(post__status__in=PUBLIC_STATUSES)
            | Q(post__variants__publication__state=PublicationState.PUBLISHED)
        )
        .distinct(),
        token=token,
    )
    return _serve(image, public=True)


@require_GET
@staff_required()
def staff_image(request: HttpRequest, pk: int) -> HttpResponse:
    """Any image of a post the staff member can see, drafts included (thumbnails, and the
    by-hand task's download with ``?download=1``)."""
    image = get_object_or_404(PostImage.objects.for_staff(_staff(request)), pk=pk)
    return _serve(image, public=False, download=request.GET.get("download") == "1")


@require_POST
@staff_required(Permission.DRAFT_POSTS)
def add_image(request: HttpRequest, pk: int) -> HttpResponse:
    staff = _staff(request)
    post = get_object_or_404(selectors.posts(staff), pk=pk)
    form = forms.ImageForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            actions.add_image(
                staff, post, form.cleaned_data["image"], form.cleaned_data["alt_text"]
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("The image is added."))
            return redirect(reverse("publishing:post", kwargs={"pk": post.pk}) + "#images")
    return _render_post(request, post, status=400, image_form=form)


@require_POST
@staff_required(Permission.DRAFT_POSTS)
def remove_image(request: HttpRequest, pk: int) -> HttpResponse:
    staff = _staff(request)
    image = get_object_or_404(PostImage.objects.for_staff(staff).select_related("post"), pk=pk)
    try:
        actions.remove_image(staff, image.post, image)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The image is removed."))
    return redirect(reverse("publishing:post", kwargs={"pk": image.post_id}) + "#images")
