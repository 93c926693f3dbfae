"""One exception type for problems a user can act on.

Tasks catch it and print its message without a traceback; the message says what is wrong and
what to do about it (which key, which value, which command installs the missing tool).
"""
from __future__ import annotations


class SetupError(Exception):
    """A problem the user can fix; the message says how."""
