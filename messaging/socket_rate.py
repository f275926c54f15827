import time

from rest_framework.throttling import SimpleRateThrottle


class TokenBucket:
    """A per-socket frame budget: `rate` per second on average, bursts of twice that."""

    def __init__(self, per_second: float):
        self.per_second = per_second
        self.capacity = 2 * per_second
        self.tokens = self.capacity
        self.updated = time.monotonic()

    @classmethod
    def from_rate(cls, rate: str) -> "TokenBucket":
        """From DRF's rate form: `20/s`, `600/min`."""
        count, seconds = SimpleRateThrottle.parse_rate(None, rate)
        return cls(count / seconds)

    def take(self) -> float | None:
        """Spend one token; None if there was one, else the seconds until there is."""
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.per_second)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return None
        return round((1 - self.tokens) / self.per_second, 3)
