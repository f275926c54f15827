"""The full-text search index: PostgreSQL only (SQLite searches with a plain scan)."""

from django.db import migrations

CREATE = (
    "CREATE INDEX IF NOT EXISTS message_content_search ON messaging_message "
    "USING gin (to_tsvector('simple', content)) WHERE NOT is_deleted"
)
DROP = "DROP INDEX IF EXISTS message_content_search"


def run_on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("messaging", "0001_initial")]

    operations = [migrations.RunPython(run_on_postgresql(CREATE), run_on_postgresql(DROP))]
