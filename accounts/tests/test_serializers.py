"""The written-out representations of <user> and <me> against DRF's generic ones."""

import pytest
from django.utils import timezone
from rest_framework import serializers

from accounts.serializers import MeSerializer, UserSerializer
from accounts.services import user_set_avatar
from chatproject.tests.factories import unstamped
from messaging.tests.test_commands import png


@pytest.mark.parametrize("serializer_class", [UserSerializer, MeSerializer])
def test_a_user_matches_the_declared_fields(serializer_class, alice, mark_online):
    user_set_avatar(user=alice, upload=png())
    alice.last_seen = timezone.now()
    for online in [False, True]:
        if online:
            mark_online(alice)
        serializer = serializer_class(alice)
        generic = serializers.ModelSerializer.to_representation(serializer, alice)
        assert unstamped(serializer.data) == unstamped(generic)
        assert serializer.data["is_online"] is online
