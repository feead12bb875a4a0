"""Patterns that mean the same to Python's `re` (msgspec's decoder) and to ECMA-262 (JSON Schema).

Python's `$` also matches just before a trailing newline (`"abc\n"` passes `^abc$`); ECMA-262's does not.
So every whole-string pattern ends in `(?!\n)$`, which both dialects read as "the very end". Classes
avoid `\\s`, `\\S` and `\\d`, which differ between the two.
"""

from __future__ import annotations


def whole(body: str) -> str:
    """A pattern that the entire string must match, trailing newline included, in both dialects."""
    return rf"^{body}(?!\n)$"
