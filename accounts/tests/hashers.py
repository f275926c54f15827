"""A password hasher that counts its hashing work: refusals must cost what success costs."""

from django.contrib.auth.hashers import MD5PasswordHasher


class CountingHasher(MD5PasswordHasher):
    algorithm = "counting"
    runs = 0

    def encode(self, password, salt):
        CountingHasher.runs += 1  # make_password and every check_password come through here
        return super().encode(password, salt)

    @classmethod
    def take(cls) -> int:
        """The runs since the last call."""
        runs, cls.runs = cls.runs, 0
        return runs
