"""What a request leaves for Python's cyclic garbage collector."""

import gc
from collections import Counter
from contextlib import contextmanager

from django.db import models


@contextmanager
def left_for_the_collector():
    """Yields a list that, once the block ends, holds the objects the block left in
    reference cycles: freed by reference counting, they would be gone with their request.

    Held in a cycle, they pile up until a collection, and the collections cost the slowest
    requests their time (represent_each in chatproject/api.py)."""
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    left = []
    try:
        yield left
        gc.collect()
        left.extend(gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if enabled:
            gc.enable()


def models_left_for_the_collector(call) -> Counter:
    """Model instances, by class name, that `call()` leaves in reference cycles."""
    with left_for_the_collector() as left:
        call()
    return Counter(type(o).__name__ for o in left if isinstance(o, models.Model))
