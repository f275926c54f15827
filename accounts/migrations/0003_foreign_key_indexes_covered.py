"""Drop the indexes Django gave these foreign keys: another index leads with each one's
column (see the models), and every insert paid for one index more."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from chatproject.migration_operations import drop_foreign_key_index


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_constraint_messages"),
    ]

    operations = [
        drop_foreign_key_index(
            "session",
            "user",
            models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="sessions",
                to=settings.AUTH_USER_MODEL,
            ),
            table="accounts_session",
            index="accounts_session_user_id_d5aaed01",
        ),
    ]
