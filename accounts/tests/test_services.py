import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage

from accounts import services
from accounts.models import User
from accounts.signals import sessions_ended
from accounts.tests.factories import TEST_PASSWORD
from chatproject.tests.factories import image_bytes, upload


@pytest.fixture
def ended_sids():
    """The sids each `sessions_ended` signal named, in order."""
    seen = []

    def receiver(sender, user, sids, **kwargs):
        seen.append({str(sid) for sid in sids})

    sessions_ended.connect(receiver)
    yield seen
    sessions_ended.disconnect(receiver)


def sid_of(tokens) -> str:
    from rest_framework_simplejwt.tokens import AccessToken

    return AccessToken(tokens["access"])["sid"]


def test_register_applies_the_models_rules_to_any_caller(db):
    with pytest.raises(ValidationError) as error:
        services.user_register(username="no spaces", email="x@example.com", password="Pw-1234567")
    assert "username" in error.value.message_dict


def test_deactivation_names_every_open_session_once(alice, ended_sids):
    first, second = services.session_start(user=alice), services.session_start(user=alice)
    services.user_deactivate(user=alice)
    services.user_deactivate(user=alice)
    assert ended_sids == [{sid_of(first), sid_of(second)}]


def test_a_password_change_ends_the_old_sessions_only(alice, ended_sids):
    old = services.session_start(user=alice)
    new = services.user_change_password(
        user=alice, old_password=TEST_PASSWORD, new_password="a-brand-new-long-password"
    )
    assert ended_sids == [{sid_of(old)}]
    assert services.session_refresh(refresh=new["refresh"])


def test_deleting_a_user_removes_the_avatar_file(alice, django_capture_on_commit_callbacks):
    services.user_set_avatar(user=alice, upload=upload(image_bytes()))
    name = alice.avatar
    assert default_storage.exists(name)
    with django_capture_on_commit_callbacks(execute=True):
        services.user_delete(user=alice, password=TEST_PASSWORD)
    assert not default_storage.exists(name)
    assert not User.objects.filter(username="alice").exists()


def test_profile_changes_refuse_fields_that_are_not_the_profile(alice):
    with pytest.raises(ValueError):
        services.user_update_profile(user=alice, changes={"is_staff": True})
