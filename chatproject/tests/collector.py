"""What a request leaves for Python's cyclic garbage collector."""

import gc
from collections import Counter

from django.db import models


def models_left_for_the_collector(call) -> Counter:
    """Model instances, by class name, that outlive `call()` in reference cycles.

    Freed by reference counting, a page's instances go with its response. Held in a cycle,
    they pile up until a collection, and the collections cost the slowest requests their
    time (represent_each in chatproject/api.py)."""
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        call()
        gc.collect()
        return Counter(type(o).__name__ for o in gc.garbage if isinstance(o, models.Model))
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if enabled:
            gc.enable()
