"""The search index over every message, not only those not deleted. PostgreSQL's planner
ignores the statistics of a partial index's expression: it took every word for a rare one
(0.5 % of the rows) and, for a common one, gathered and sorted all its matches (0.2 to 0.4 s
on a million messages). A deleted message's content is empty: it adds nothing to the index.
The table is analyzed at once: a new index's expression has no statistics until then, and
autovacuum analyzes only after a tenth of the table has changed.
"""

import importlib

from django.db import migrations

partial = importlib.import_module("messaging.migrations.0002_message_search_index")

WHOLE_TABLE = (
    "CREATE INDEX IF NOT EXISTS message_content_search ON messaging_message "
    "USING gin (to_tsvector('simple', content)); ANALYZE messaging_message"
)


class Migration(migrations.Migration):
    dependencies = [("messaging", "0002_message_search_index")]

    operations = [
        migrations.RunPython(
            partial.run_on_postgresql(partial.DROP), partial.run_on_postgresql(partial.CREATE)
        ),
        migrations.RunPython(
            partial.run_on_postgresql(WHOLE_TABLE), partial.run_on_postgresql(partial.DROP)
        ),
    ]
