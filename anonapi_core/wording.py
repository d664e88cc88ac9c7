"""Counted nouns for messages, so the CLI and the dashboard say `1 job` and `2 jobs` alike."""

from __future__ import annotations


def plural(count: int, word: str = "job") -> str:
    """`1 job`, `3 jobs`, `0 folders`: the count and the noun, with an `s` unless it is one."""
    return f"{count} {word}{'' if count == 1 else 's'}"
