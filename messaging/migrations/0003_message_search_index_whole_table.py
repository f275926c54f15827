"""The search index over every message, not only those not deleted. PostgreSQL's planner
ignores the statistics of a partial index's expression: it took every word for a rare one
(0.5 % of the rows) and, for a common one, gathered and sorted all its matches (0.2 to 0.4 s
on a million messages). A deleted message's content is empty: it adds nothing to the index.

The new index is built CONCURRENTLY beside the old one and then takes its name, so sends
are never blocked while it builds (hence a migration outside a transaction). The table is
analyzed at the end: a new index's expression has no statistics until then, and autovacuum
analyzes only after a tenth of the table has changed.
"""

import importlib

from django.db import migrations

partial = importlib.import_module("messaging.migrations.0002_message_search_index")
on_postgresql = partial.run_on_postgresql

EXPRESSION = "ON messaging_message USING gin (to_tsvector('simple', content))"
BUILD = f"CREATE INDEX CONCURRENTLY IF NOT EXISTS message_content_search_all {EXPRESSION}"
BUILD_PARTIAL = (
    f"CREATE INDEX CONCURRENTLY IF NOT EXISTS message_content_search {EXPRESSION} "
    "WHERE NOT is_deleted"
)
DROP_NEW = "DROP INDEX CONCURRENTLY IF EXISTS message_content_search_all"
DROP_OLD = "DROP INDEX CONCURRENTLY IF EXISTS message_content_search"
TAKE_NAME = "ALTER INDEX IF EXISTS message_content_search_all RENAME TO message_content_search"
GIVE_NAME = "ALTER INDEX IF EXISTS message_content_search RENAME TO message_content_search_all"
ANALYZE = "ANALYZE messaging_message"


class Migration(migrations.Migration):
    atomic = False  # CREATE and DROP INDEX CONCURRENTLY refuse to run in a transaction
    dependencies = [("messaging", "0002_message_search_index")]

    operations = [
        # A build that failed half-way leaves an invalid index behind: start from scratch.
        migrations.RunPython(on_postgresql(DROP_NEW), migrations.RunPython.noop),
        migrations.RunPython(on_postgresql(BUILD), on_postgresql(DROP_NEW)),
        migrations.RunPython(on_postgresql(DROP_OLD), on_postgresql(BUILD_PARTIAL)),
        migrations.RunPython(on_postgresql(TAKE_NAME), on_postgresql(GIVE_NAME)),
        migrations.RunPython(on_postgresql(ANALYZE), migrations.RunPython.noop),
    ]
