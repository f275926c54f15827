import pytest

from accounts.models import User
from accounts.tests.factories import TEST_PASSWORD, UserFactory

CHANGELIST = "/admin/accounts/user/"


@pytest.fixture
def moderator(db, client):
    user = UserFactory(username="mod", is_staff=True, is_superuser=True)
    client.force_login(user)
    return client


def act(moderator, action, *users):
    body = {"action": action, "_selected_action": [str(user.pk) for user in users]}
    return moderator.post(CHANGELIST, body)


def test_the_changelist_searches_and_filters(moderator, alice, bob):
    response = moderator.get(CHANGELIST, {"q": "ali", "is_active__exact": "1"})
    assert response.status_code == 200
    assert b"alice" in response.content
    assert b"bob@example.com" not in response.content


def test_the_online_filter_lists_users_with_a_live_socket(moderator, alice, bob, mark_online):
    mark_online(alice)
    online = moderator.get(CHANGELIST, {"online": "yes"}).content
    offline = moderator.get(CHANGELIST, {"online": "no"}).content
    assert b"alice@example.com" in online and b"bob@example.com" not in online
    assert b"bob@example.com" in offline and b"alice@example.com" not in offline


def test_the_changelist_keeps_its_query_count(moderator, django_assert_max_num_queries):
    UserFactory.create_batch(3)
    with django_assert_max_num_queries(12) as few:
        moderator.get(CHANGELIST)
    UserFactory.create_batch(30)
    with django_assert_max_num_queries(len(few.captured_queries)):
        moderator.get(CHANGELIST)


def test_deactivate_ends_the_users_sessions(moderator, alice, client_for):
    api = client_for(alice)
    assert act(moderator, "deactivate", alice).status_code == 302
    alice.refresh_from_db()
    assert alice.is_active is False
    assert api.get("/api/v1/users/me").status_code == 401


def test_reactivate_lets_the_user_log_in_again(moderator, api):
    gone = UserFactory(username="gone", is_active=False)
    act(moderator, "reactivate", gone)
    login = {"username": "gone", "password": TEST_PASSWORD}
    assert api.post("/api/v1/auth/login", login, format="json").status_code == 200


def test_force_logout_ends_every_session_but_keeps_the_account(moderator, alice, client_for):
    first, second = client_for(alice), client_for(alice)
    act(moderator, "force_logout", alice)
    assert first.get("/api/v1/users/me").status_code == 401
    assert second.get("/api/v1/users/me").status_code == 401
    alice.refresh_from_db()
    assert alice.is_active is True


def test_a_password_set_in_the_admin_ends_the_users_sessions(moderator, alice, client_for):
    api = client_for(alice)
    new = "set-by-a-moderator-42"
    response = moderator.post(
        f"/admin/accounts/user/{alice.pk}/password/",
        {"password1": new, "password2": new, "usable_password": "true"},
    )
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password(new)
    assert api.get("/api/v1/users/me").status_code == 401


def test_a_moderator_can_add_a_user(moderator):
    password = "a-fine-long-password"
    response = moderator.post(
        "/admin/accounts/user/add/",
        {
            "username": "erin",
            "email": "erin@example.com",
            "full_name": "Erin",
            "usable_password": "true",
            "password1": password,
            "password2": password,
        },
    )
    assert response.status_code == 302
    assert User.objects.get(username="erin").check_password(password)


def test_adding_a_username_taken_in_another_case_is_refused(moderator, alice):
    response = moderator.post(
        "/admin/accounts/user/add/",
        {"username": "ALICE", "email": "other@example.com", "usable_password": "false"},
    )
    assert response.status_code == 200
    assert User.objects.filter(username__iexact="alice").count() == 1


def test_the_change_page_renders_without_name_fields(moderator, alice):
    response = moderator.get(f"/admin/accounts/user/{alice.pk}/change/")
    assert response.status_code == 200
    assert b"first_name" not in response.content


def test_users_are_not_deleted_in_the_admin(moderator, alice):
    response = moderator.post(f"/admin/accounts/user/{alice.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert User.objects.filter(pk=alice.pk).exists()
