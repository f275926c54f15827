"""Named reads of chats."""

from chats.selectors import memberships_shown
from chats.services import group_create


def test_memberships_shown_reads_afresh_at_each_call(db, alice, bob, charlie):
    """Every call copies the one queryset built once: results are never shared."""
    group_create(creator=alice, name="First", member_ids=[bob.pk])
    assert len(memberships_shown()) == 2
    group_create(creator=charlie, name="Second", member_ids=[alice.pk, bob.pk])
    shown = memberships_shown()
    assert len(shown) == 5
    assert sorted(membership.members_count for membership in shown) == [2, 2, 3, 3, 3]
