"""An approval chain of two steps: any of two department heads, then all of two PR editors.
The post is approved only after the last step, each step by its own approvers; changes
requested end the round, and a change after approval starts the chain again."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from sotong.conftest import SYSTEM, department
from sotong.core.models import AuditEntry
from sotong.core.roles import Role
from sotong.publishing import actions
from sotong.publishing.models import (
    ApprovalRule,
    ApprovalStep,
    PostStatus,
    Review,
    ReviewDecision,
)
from sotong.publishing.tests.test_views import add_channel, as_, page, write


@pytest.fixture
def facebook(city):
    return add_channel(city, "facebook", "순천시 페이스북")


@pytest.fixture
def people(city, make_staff):
    return {
        "author": make_staff(city, Role.DEPARTMENT_AUTHOR, "sewer"),
        # Both can see the sewer division's posts: its own head and its bureau's head.
        "head1": make_staff(city, Role.DEPARTMENT_AUTHOR, "sewer"),
        "head2": make_staff(city, Role.DEPARTMENT_AUTHOR, "construction"),
        "pr1": make_staff(city, Role.PR_EDITOR, "pr"),
        "pr2": make_staff(city, Role.PR_EDITOR, "pr"),
        "admin": make_staff(city, Role.ADMIN),
    }


@pytest.fixture
def chain(city, people):
    first = actions.add_approval_step(
        people["admin"],
        city,
        name="부서장 검토",
        rule=ApprovalRule.ANY,
        approvers=[people["head1"], people["head2"]],
    )
    second = actions.add_approval_step(
        people["admin"],
        city,
        name="홍보담당관 승인",
        rule=ApprovalRule.ALL,
        approvers=[people["pr1"], people["pr2"]],
    )
    return first, second


def submitted(city, people, facebook):
    post = write(people["author"], city, [facebook])
    return actions.submit(people["author"], post, publish_at=timezone.now() + dt.timedelta(hours=2))


def current_step(post):
    return next((s.step for s in actions.approval_chain(post) if s.current), None)


def test_the_post_goes_through_the_steps_in_order(city, people, facebook, chain) -> None:
    first, second = chain
    post = submitted(city, people, facebook)
    assert current_step(post) == first
    # A PR editor may not skip ahead, even though they approve posts.
    with pytest.raises(PermissionDenied):
        actions.approve(people["pr1"], post)
    post = actions.approve(people["head2"], post, comment="확인")
    assert post.status == PostStatus.IN_REVIEW
    assert current_step(post) == second
    # Step 1 is over: a head is no longer an approver of the current step.
    with pytest.raises(PermissionDenied):
        actions.approve(people["head1"], post)
    post = actions.approve(people["pr1"], post)
    assert post.status == PostStatus.IN_REVIEW, "rule all needs both PR editors"
    with pytest.raises(ValidationError):
        actions.approve(people["pr1"], post)  # the same person twice does not count twice
    post = actions.approve(people["pr2"], post)
    assert post.status == PostStatus.APPROVED
    assert current_step(post) is None
    steps = list(
        Review.objects.filter(post=post, decision=ReviewDecision.APPROVED).values_list(
            "step__name", "by_label"
        )
    )
    assert steps == [
        ("부서장 검토", people["head2"].display_name),
        ("홍보담당관 승인", people["pr1"].display_name),
        ("홍보담당관 승인", people["pr2"].display_name),
    ]
    audited = list(
        AuditEntry.objects.filter(target_id=str(post.pk), action__startswith="post.")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert audited.count("post.step_approved") == 3
    assert audited[-1] == "post.approved"


def test_a_department_head_of_another_department_is_not_an_approver(
    city, people, facebook, chain, make_staff
) -> None:
    first, _second = chain
    roads_head = make_staff(city, Role.DEPARTMENT_AUTHOR, "roads")
    actions.change_approval_step(
        people["admin"],
        first,
        name=first.name,
        rule=first.rule,
        approvers=[people["head1"], roads_head],
    )
    post = submitted(city, people, facebook)
    state = actions.approval_chain(post)[0]
    assert [s.pk for s in state.approvers] == [people["head1"].pk]
    with pytest.raises(PermissionDenied):
        actions.approve(roads_head, post)


def test_an_administrator_approves_for_a_whole_step(city, people, facebook, chain) -> None:
    _first, second = chain
    post = submitted(city, people, facebook)
    post = actions.approve(people["head1"], post)
    post = actions.approve(people["admin"], post, comment="대리 승인")
    assert post.status == PostStatus.APPROVED
    assert Review.objects.get(post=post, step=second).for_step is True


def test_changes_requested_in_step_two_end_the_round_and_resubmit_starts_at_step_one(
    city, people, facebook, chain
) -> None:
    first, second = chain
    post = submitted(city, people, facebook)
    post = actions.approve(people["head1"], post)
    with pytest.raises(PermissionDenied):
        actions.request_changes(people["head1"], post, comment="다시")  # no longer current
    post = actions.request_changes(people["pr2"], post, comment="사진을 바꿔 주세요")
    assert post.status == PostStatus.CHANGES_REQUESTED
    review = Review.objects.filter(post=post).last()
    assert review is not None
    assert review.step == second
    assert AuditEntry.objects.filter(action="post.changes_requested").last().after["step"] == (
        "홍보담당관 승인"
    )
    post = actions.submit(people["author"], post)
    assert current_step(post) == first
    with pytest.raises(PermissionDenied):
        actions.approve(people["pr1"], post)


def test_reject_only_by_the_current_steps_approvers(city, people, facebook, chain) -> None:
    post = submitted(city, people, facebook)
    with pytest.raises(PermissionDenied):
        actions.reject(people["pr1"], post, comment="안 됩니다")
    post = actions.reject(people["head1"], post, comment="부서 의견과 다릅니다")
    assert post.status == PostStatus.REJECTED


def test_editing_an_approved_post_starts_the_chain_again(city, people, facebook, chain) -> None:
    first, _second = chain
    post = submitted(city, people, facebook)
    for who in ("head1", "pr1", "pr2"):
        post = actions.approve(people[who], post)
    assert post.status == PostStatus.APPROVED
    actions.edit_variant(people["author"], post.variants.get(), "고친 문구입니다 #순천")
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW
    assert current_step(post) == first
    with pytest.raises(PermissionDenied):
        actions.approve(people["pr1"], post)
    # An image added midway through the chain restarts it too: step 1 saw another post.
    post = actions.approve(people["head2"], post)
    buffer = io.BytesIO()
    Image.new("RGB", (400, 300), "green").save(buffer, "PNG")
    actions.add_image(
        people["author"], post, SimpleUploadedFile("a.png", buffer.getvalue(), "image/png")
    )
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW
    assert current_step(post) == first


def test_without_a_chain_one_approval_is_enough(city, people, facebook) -> None:
    post = submitted(city, people, facebook)
    assert actions.approval_chain(post) == []
    with pytest.raises(PermissionDenied):
        actions.approve(people["head1"], post)  # department authors do not approve
    post = actions.approve(people["pr1"], post)
    assert post.status == PostStatus.APPROVED
    assert Review.objects.filter(post=post, step__isnull=False).count() == 0


def test_the_system_and_a_series_approver_go_through_every_step(
    city, people, facebook, chain
) -> None:
    post = submitted(city, people, facebook)
    post = actions.approve(people["pr1"], post, all_steps=True)
    assert post.status == PostStatus.APPROVED
    assert Review.objects.filter(post=post, for_step=True).count() == 2
    other = submitted(city, people, facebook)
    with pytest.raises(PermissionDenied):
        actions.approve(people["head1"], other, all_steps=True)  # heads cannot pre-approve
    assert actions.approve(SYSTEM, other).status == PostStatus.IN_REVIEW  # one step


# -- pages ----------------------------------------------------------------------------------


def test_post_page_and_approvals_page_follow_the_chain(
    client, city, people, facebook, chain
) -> None:
    post = submitted(city, people, facebook)
    html = page(as_(client, people["head1"]).get(reverse("publishing:post", args=[post.pk])))
    assert "부서장 검토" in html
    assert "홍보담당관 승인" in html
    assert 'aria-current="step"' in html
    assert people["pr2"].display_name in html
    assert 'id="decision-form"' in html
    queue = page(client.get(reverse("publishing:approvals")))
    assert post.title in queue
    # The PR editors' step has not come: nothing waits for them, and they cannot decide.
    as_(client, people["pr1"])
    assert post.title not in page(client.get(reverse("publishing:approvals")))
    html = page(client.get(reverse("publishing:post", args=[post.pk])))
    assert 'id="decision-form"' not in html
    response = client.post(reverse("publishing:post_action", args=[post.pk, "approve"]))
    assert response.status_code == 403
    # The head approves from the page; now it waits for the PR editors.
    as_(client, people["head1"])
    response = client.post(reverse("publishing:post_action", args=[post.pk, "approve"]))
    assert response.status_code == 302
    assert post.title not in page(client.get(reverse("publishing:approvals")))
    as_(client, people["pr1"])
    assert post.title in page(client.get(reverse("publishing:approvals")))
    as_(client, people["admin"])
    assert post.title in page(client.get(reverse("publishing:approvals")))
    # Authors still see no queue.
    as_(client, people["author"])
    assert post.title not in page(client.get(reverse("publishing:approvals")))


def test_settings_page_adds_changes_and_removes_steps(client, city, people) -> None:
    as_(client, people["admin"])
    url = reverse("approval:chain")
    empty = client.get(url)
    assert empty.status_code == 200
    assert 'id="step-form"' in page(empty)
    response = client.post(url, {"name": "", "rule": "any", "approvers": []})
    assert response.status_code == 400
    assert ApprovalStep.objects.count() == 0
    response = client.post(
        url,
        {
            "name": "부서장 검토",
            "rule": "all",
            "approvers": [people["head1"].pk, people["head2"].pk],
        },
    )
    assert response.status_code == 302
    step = ApprovalStep.objects.get()
    assert step.rule == ApprovalRule.ALL
    assert set(step.approvers.values_list("pk", flat=True)) == {
        people["head1"].pk,
        people["head2"].pk,
    }
    assert "부서장 검토" in page(client.get(url))
    response = client.post(
        reverse("approval:step_edit", args=[step.pk]),
        {"name": "부서장 확인", "rule": "any", "approvers": [people["head1"].pk]},
    )
    assert response.status_code == 302
    step.refresh_from_db()
    assert (step.name, step.rule) == ("부서장 확인", ApprovalRule.ANY)
    response = client.post(reverse("approval:step_remove", args=[step.pk]))
    assert response.status_code == 302
    assert ApprovalStep.objects.count() == 0
    assert list(
        AuditEntry.objects.filter(action__startswith="approval_step.")
        .order_by("id")
        .values_list("action", flat=True)
    ) == ["approval_step.add", "approval_step.change", "approval_step.remove"]


def test_settings_page_is_for_administrators_and_this_city_only(
    client, city, other_city, people, make_staff
) -> None:
    as_(client, people["pr1"])
    assert client.get(reverse("approval:chain")).status_code == 403
    stranger = make_staff(other_city, Role.ADMIN)
    with pytest.raises(ValidationError):
        actions.add_approval_step(
            people["admin"], city, name="검토", rule="any", approvers=[stranger]
        )
    with pytest.raises(PermissionDenied):
        actions.add_approval_step(
            people["pr1"], city, name="검토", rule="any", approvers=[people["pr2"]]
        )
    as_(client, people["admin"])
    # Another city's staff are not offered: choosing one is a form error.
    response = client.post(
        reverse("approval:chain"), {"name": "검토", "rule": "any", "approvers": [stranger.pk]}
    )
    assert response.status_code == 400
    assert department(city, "pr")  # the fixture city is intact


def test_steps_are_reordered_and_a_waiting_post_follows_the_new_order(
    client, city, people, facebook, chain
) -> None:
    first, second = chain
    post = submitted(city, people, facebook)
    assert current_step(post) == first
    as_(client, people["admin"])
    response = client.post(reverse("approval:step_move", args=[second.pk, "up"]))
    assert response.status_code == 302
    assert response["Location"].endswith(f"#step-{second.pk}")
    assert list(ApprovalStep.objects.order_by("order").values_list("pk", flat=True)) == [
        second.pk,
        first.pk,
    ]
    assert current_step(post) == second  # the PR office now decides first
    # Already first: nothing moves; last cannot go down.
    client.post(reverse("approval:step_move", args=[second.pk, "up"]))
    client.post(reverse("approval:step_move", args=[first.pk, "down"]))
    assert list(ApprovalStep.objects.order_by("order").values_list("pk", flat=True)) == [
        second.pk,
        first.pk,
    ]
    assert AuditEntry.objects.filter(action="approval_step.move").count() == 1
    page_text = page(client.get(reverse("approval:chain")))
    assert page_text.index("홍보담당관 승인") < page_text.index("부서장 검토")
    # Only administrators reorder, and an unknown direction is no page.
    assert client.post(f"/settings/approval/{first.pk}/sideways/").status_code == 404
    as_(client, people["pr1"])
    assert client.post(reverse("approval:step_move", args=[first.pk, "up"])).status_code == 403
