"""Migration operations the apps share."""

from django.db import migrations


def drop_foreign_key_index(model_name: str, name: str, field, *, table: str, index: str):
    """Drop the index Django gave the foreign key `name` of `model_name` (now `field`, with
    `db_index=False`) because another index leads with its column.

    Only the index goes. AlterField would also drop the foreign key constraint and add it
    back, which on PostgreSQL checks every row while it holds a lock on the table."""
    return migrations.RunSQL(
        f'DROP INDEX IF EXISTS "{index}"',
        f'CREATE INDEX IF NOT EXISTS "{index}" ON "{table}" ("{name}_id")',
        state_operations=[migrations.AlterField(model_name, name, field)],
    )
