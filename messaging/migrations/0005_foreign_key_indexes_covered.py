"""Drop the indexes Django gave these foreign keys: another index leads with each one's
column (see the models), and every insert paid for one index more."""

import django.db.models.deletion
from django.db import migrations, models

from chatproject.migration_operations import drop_foreign_key_index


class Migration(migrations.Migration):
    dependencies = [
        ("chats", "0002_foreign_key_indexes_covered"),
        ("messaging", "0004_message_search_index_no_pending_list"),
    ]

    operations = [
        drop_foreign_key_index(
            "message",
            "chat",
            models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="messages",
                to="chats.chat",
            ),
            table="messaging_message",
            index="messaging_message_chat_id_fe8aa54c",
        ),
        drop_foreign_key_index(
            "reaction",
            "message",
            models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="reactions",
                to="messaging.message",
            ),
            table="messaging_reaction",
            index="messaging_reaction_message_id_1de96d13",
        ),
        drop_foreign_key_index(
            "report",
            "message",
            models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="reports",
                to="messaging.message",
            ),
            table="messaging_report",
            index="messaging_report_message_id_b9a1f063",
        ),
    ]
