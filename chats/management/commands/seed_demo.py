"""Fill the database with demo or benchmark data: users, direct chats, groups and a long
message history.

This is the one documented exception to "every write goes through services.py": a bulk
loader for benchmarks and demos. Calling the services per message would take hours for a
million messages (a lock, a read-pointer move and an event each), so this command writes
rows with `bulk_create` in batches, each batch in its own transaction, and sets the
counters exactly as the services would have left them: `seq` gapless per chat from 1,
`version` = `seq` for every seeded message, the chat's `last_seq` = `version` = its number
of messages, `last_activity_at` = its last message's time, every member's read pointer at
or below `last_seq` (with a ReadMark for it), and the password hashed once for everyone.
Nothing is published: no socket is open for data that did not exist a moment ago.
"""

import itertools
import random
import time
from datetime import timedelta

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User
from chats.models import Chat, Membership, ReadMark
from messaging.models import Message

DEFAULT_PASSWORD = "demo-password-123"
HISTORY_DAYS = 90
VOCABULARY = (
    "hello meeting tomorrow lunch project deadline review coffee weekend release "
    "deploy ticket budget design draft photo video call later thanks great sounds good "
    "agenda report client server database socket latency cache bug fix test merge "
    "branch plan train flight hotel dinner birthday party music movie game match score "
    "team office"
)
SYLLABLES = ("ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "ze", "po", "da", "fi")
# Common words first, then made-up ones: drawn with Zipf weights (1/rank), as words in real
# text are, so a search term matches anywhere from most messages to a handful.
WORDS = VOCABULARY.split() + [a + b + c for a in SYLLABLES for b in SYLLABLES for c in SYLLABLES]
WORD_WEIGHTS = list(itertools.accumulate(1 / rank for rank in range(1, len(WORDS) + 1)))


class Command(BaseCommand):
    help = (
        "Create demo/benchmark data fast: users (one shared password, hashed once), direct "
        "chats and groups, memberships and a message history with consistent seq/version "
        "counters. Bulk inserts, bypassing services.py (nothing is published). "
        "Example: manage.py seed_demo --users 1000 --chats 2000 --messages 1000000 "
        "--chat-for-user demo000000 --user-chats 500"
    )

    def add_arguments(self, parser):
        parser.add_argument("--users", type=int, default=100, help="users to create")
        parser.add_argument("--chats", type=int, default=200, help="chats among them")
        parser.add_argument("--messages", type=int, default=10_000, help="messages in all")
        parser.add_argument(
            "--members-per-group", type=int, default=8, help="members of each group (≤ 100)"
        )
        parser.add_argument(
            "--group-share", type=float, default=0.5, help="share of the chats that are groups"
        )
        parser.add_argument(
            "--big-chat-messages",
            type=int,
            default=0,
            help="put this many of --messages into one group named 'big' (history benchmarks)",
        )
        parser.add_argument(
            "--chat-for-user",
            metavar="USERNAME",
            help="also make this user (created if absent) a member of --user-chats groups",
        )
        parser.add_argument("--user-chats", type=int, default=500)
        parser.add_argument("--prefix", default="demo", help="usernames are <prefix>000000…")
        parser.add_argument("--password", default=DEFAULT_PASSWORD)
        parser.add_argument("--batch", type=int, default=5000, help="rows per INSERT batch")
        parser.add_argument("--seed", type=int, default=1, help="random seed (repeatable data)")

    def handle(self, *args, **options):
        if not 2 <= options["members_per_group"] <= 100:
            raise CommandError("--members-per-group must be from 2 to 100.")
        if options["users"] < 2 or options["users"] < options["members_per_group"]:
            raise CommandError("--users must be ≥ 2 and ≥ --members-per-group.")
        if options["big_chat_messages"] > options["messages"]:
            raise CommandError("--big-chat-messages is part of --messages.")
        self.random = random.Random(options["seed"])  # noqa: S311 (demo data)
        self.batch = options["batch"]
        self.started = time.monotonic()
        users = self.create_users(options)
        chats = self.create_chats(users, options)
        self.create_messages(chats, options)
        self.analyze()
        self.say(
            f"done: {len(users)} users, {len(chats)} chats, {options['messages']} messages "
            f"in {time.monotonic() - self.started:.1f} s"
        )

    def analyze(self) -> None:
        """Fresh planner statistics: after a bulk load PostgreSQL still believes the tables
        are tiny and picks plans (a full sort of every search match) that are 10x slower."""
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                for model in (User, Chat, Membership, Message, ReadMark):
                    cursor.execute(f"ANALYZE {model._meta.db_table}")
            self.say("analyzed")

    def say(self, text: str) -> None:
        self.stdout.write(f"[{time.monotonic() - self.started:7.1f} s] {text}")
        self.stdout.flush()

    # --- Users ----------------------------------------------------------------------------

    def create_users(self, options) -> list[User]:
        password = make_password(options["password"])  # Argon2 once, not once per user
        prefix = options["prefix"]
        names = [f"{prefix}{i:06d}" for i in range(options["users"])]
        if options["chat_for_user"] and options["chat_for_user"] not in names:
            names.append(options["chat_for_user"])
        existing = set(User.objects.filter(username__in=names).values_list("username", flat=True))
        new = [
            User(
                username=name,
                email=f"{name}@example.com",
                full_name=name.title(),
                password=password,
            )
            for name in names
            if name not in existing
        ]
        self.insert(User, new, "users")
        return list(User.objects.filter(username__in=names).order_by("username"))

    # --- Chats and memberships ------------------------------------------------------------

    def create_chats(self, users: list[User], options) -> list[Chat]:
        """Chats with their members; each chat carries `seed_members` (user ids)."""
        now = timezone.now()
        start = now - timedelta(days=HISTORY_DAYS)
        groups = round(options["chats"] * options["group_share"])
        chats = [self.group(users, options["members_per_group"], start) for _ in range(groups)]
        chats += self.directs(users, options["chats"] - groups, start)
        if options["big_chat_messages"]:
            big = self.group(users, options["members_per_group"], start, name="big")
            chats.append(big)
        if options["chat_for_user"]:
            owner = next(u for u in users if u.username == options["chat_for_user"])
            for chat in [
                self.group(users, options["members_per_group"], start, owner=owner)
                for _ in range(options["user_chats"])
            ]:
                chats.append(chat)
            if options["big_chat_messages"] and owner.pk not in big.seed_members:
                big.seed_members[-1] = owner.pk
        self.insert(Chat, chats, "chats")
        memberships = [
            Membership(
                chat=chat,
                user_id=user_id,
                role=Membership.Role.ADMIN if i == 0 and not chat.is_direct else "member",
                joined_at=chat.created_at,
            )
            for chat in chats
            for i, user_id in enumerate(chat.seed_members)
        ]
        self.insert(Membership, memberships, "memberships")
        return chats

    def group(self, users, size: int, start, *, name: str = "", owner=None) -> Chat:
        members = [u.pk for u in self.random.sample(users, size)]
        if owner is not None and owner.pk not in members:
            members[0] = owner.pk
        number = self.random.randrange(1_000_000)
        chat = Chat(
            type=Chat.Type.GROUP,
            name=name or f"{self.random.choice(WORDS).title()} group {number}",
            created_by_id=members[0],
            created_at=start,
            last_activity_at=start,
        )
        chat.seed_members = members
        return chat

    def directs(self, users, count: int, start) -> list[Chat]:
        pairs = set(Chat.objects.filter(type=Chat.Type.DIRECT).values_list("direct_key", flat=True))
        chats = []
        attempts = 0
        while len(chats) < count and attempts < count * 20:
            attempts += 1
            a, b = self.random.sample(users, 2)
            key = Chat.direct_key_for(a.pk, b.pk)
            if key in pairs:
                continue
            pairs.add(key)
            chat = Chat(
                type=Chat.Type.DIRECT,
                direct_key=key,
                created_by_id=a.pk,
                created_at=start,
                last_activity_at=start,
            )
            chat.seed_members = [a.pk, b.pk]
            chats.append(chat)
        return chats

    # --- Messages ---------------------------------------------------------------------------

    def create_messages(self, chats: list[Chat], options) -> None:
        counts = self.message_counts(chats, options)
        total = sum(counts)
        span = timedelta(days=HISTORY_DAYS).total_seconds()
        written = 0
        pending: list[Message] = []
        for chat, count in zip(chats, counts, strict=True):
            step = span / (count + 1)
            chat.seed_last_sender = None
            for seq in range(1, count + 1):
                chat.seed_last_sender = self.random.choice(chat.seed_members)
                pending.append(
                    Message(
                        chat=chat,
                        seq=seq,
                        version=seq,
                        sender_id=chat.seed_last_sender,
                        content=self.sentence(),
                        created_at=chat.created_at + timedelta(seconds=step * seq),
                    )
                )
                if len(pending) >= self.batch:
                    written += self.flush_messages(pending, written, total)
                    pending = []
            chat.last_seq = chat.version = count
            if count:
                chat.last_activity_at = chat.created_at + timedelta(seconds=step * count)
        written += self.flush_messages(pending, written, total)
        self.update_counters(chats)

    def message_counts(self, chats: list[Chat], options) -> list[int]:
        """How many messages each chat gets: `big` its share, the rest a skewed spread (a
        few busy chats, many quiet ones), as real traffic is."""
        rest = options["messages"] - options["big_chat_messages"]
        weights = [0 if chat.name == "big" else self.random.paretovariate(1.2) for chat in chats]
        scale = rest / sum(weights) if sum(weights) else 0
        counts = [int(w * scale) for w in weights]
        others = [i for i, chat in enumerate(chats) if chat.name != "big"]
        if rest and not others:
            raise CommandError("No chats to hold the messages outside the big one.")
        for i in range(rest - sum(counts)):
            counts[others[i % len(others)]] += 1
        for i, chat in enumerate(chats):
            if chat.name == "big":
                counts[i] = options["big_chat_messages"]
        return counts

    def sentence(self) -> str:
        words = self.random.choices(WORDS, cum_weights=WORD_WEIGHTS, k=self.random.randint(3, 14))
        return " ".join(words)

    def flush_messages(self, pending: list[Message], written: int, total: int) -> int:
        if pending:
            with transaction.atomic():
                Message.objects.bulk_create(pending, batch_size=self.batch)
            self.say(f"messages {written + len(pending):,}/{total:,}")
        return len(pending)

    def update_counters(self, chats: list[Chat]) -> None:
        """Chat counters, and read pointers as people leave them: most members read up to
        the end, some have a few unread, the last sender has read everything."""
        for start in range(0, len(chats), self.batch):
            part = chats[start : start + self.batch]
            with transaction.atomic():
                Chat.objects.bulk_update(part, ["last_seq", "version", "last_activity_at"])
        by_id = {chat.pk: chat for chat in chats}
        memberships = list(Membership.objects.filter(chat__in=chats))
        marks = []
        for membership in memberships:
            membership.chat = by_id[membership.chat_id]
            last_seq = membership.chat.last_seq
            unread = 0 if self.random.random() < 0.6 else self.random.randint(1, 30)
            if membership.user_id == membership.chat.seed_last_sender:
                unread = 0
            membership.last_read_seq = max(last_seq - unread, 0)
            if membership.last_read_seq:
                marks.append(
                    ReadMark(
                        chat_id=membership.chat_id,
                        user_id=membership.user_id,
                        seq=membership.last_read_seq,
                        at=membership.chat.last_activity_at,
                    )
                )
        with transaction.atomic():
            Membership.objects.bulk_update(memberships, ["last_read_seq"], batch_size=self.batch)
        self.insert(ReadMark, marks, "read marks")

    def insert(self, model, rows: list, label: str) -> None:
        for start in range(0, len(rows), self.batch):
            with transaction.atomic():
                model.objects.bulk_create(rows[start : start + self.batch])
        self.say(f"{label}: {len(rows):,}")
