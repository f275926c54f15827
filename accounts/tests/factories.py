import functools

import factory
from django.contrib.auth.hashers import make_password

from accounts.models import User

TEST_PASSWORD = "correct-horse-battery-staple"


@functools.cache
def test_password_hash() -> str:
    """TEST_PASSWORD hashed once: Argon2 per user would make batches of users slow."""
    return make_password(TEST_PASSWORD)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    full_name = factory.LazyAttribute(lambda user: user.username.title())
    password = factory.LazyFunction(test_password_hash)
