"""The search index takes each message's words into its tree as the message is inserted
(GIN's `fastupdate` off).

With fast update on, PostgreSQL's default, new entries wait in a pending list, and the
insert that takes the list past `gin_pending_list_limit` (4 MB, about 20,000 messages) moves
all of it into the tree inside its own transaction: that send held its chat's lock for a
quarter of a second (234-278 ms in four runs of 20,000 sends in process; every other send's
slowest 10-12 ms), and every search until then scans the whole list. Inserting into the tree
costs no measurable PostgreSQL CPU per send (0.67-0.72 ms on; 0.69 ms off).

The ALTER commits at once (outside a transaction, so the index's lock is held only for it);
then what was pending moves into the tree.
"""

import importlib

from django.db import migrations

search_index = importlib.import_module("messaging.migrations.0002_message_search_index")
on_postgresql = search_index.run_on_postgresql

OFF = "ALTER INDEX message_content_search SET (fastupdate = off)"
ON = "ALTER INDEX message_content_search RESET (fastupdate)"
FLUSH = "SELECT gin_clean_pending_list('message_content_search'::regclass)"


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("messaging", "0003_message_search_index_whole_table")]

    operations = [
        migrations.RunPython(on_postgresql(OFF), on_postgresql(ON)),
        migrations.RunPython(on_postgresql(FLUSH), migrations.RunPython.noop),
    ]
