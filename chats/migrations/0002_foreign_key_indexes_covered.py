"""Drop the indexes Django gave these foreign keys: another index leads with each one's
column (see the models), and every insert paid for one index more."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from chatproject.migration_operations import drop_foreign_key_index


class Migration(migrations.Migration):
    dependencies = [
        ("chats", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        drop_foreign_key_index(
            "membership",
            "chat",
            models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="memberships",
                to="chats.chat",
            ),
            table="chats_membership",
            index="chats_membership_chat_id_b3b0f7f8",
        ),
        drop_foreign_key_index(
            "membership",
            "user",
            models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="memberships",
                to=settings.AUTH_USER_MODEL,
            ),
            table="chats_membership",
            index="chats_membership_user_id_203626af",
        ),
        drop_foreign_key_index(
            "readmark",
            "chat",
            models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="chats.chat",
            ),
            table="chats_readmark",
            index="chats_readmark_chat_id_ac6d4008",
        ),
    ]
