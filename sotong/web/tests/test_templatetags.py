from types import SimpleNamespace

from sotong.web.templatetags.sotong import audit_changes


def test_update_lists_only_changed_fields() -> None:
    entry = SimpleNamespace(
        before={"role": "viewer", "name": "김"}, after={"role": "admin", "name": "김"}
    )
    assert audit_changes(entry) == [("role", "viewer", "admin")]


def test_creation_and_removal_list_every_field() -> None:
    assert audit_changes(SimpleNamespace(before=None, after={"name": "하수도과"})) == [
        ("name", None, "하수도과")
    ]
    assert audit_changes(SimpleNamespace(before={"date": "2026-12-31"}, after=None)) == [
        ("date", "2026-12-31", None)
    ]
