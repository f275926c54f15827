"""Who is online, shared by every server process (Redis; local memory without it).

Being written with the WebSocket consumer; until then nobody is online.
"""


def online_among(user_ids) -> set[str]:
    """The ids (as strings) of those of `user_ids` who have a socket open now."""
    return set()
