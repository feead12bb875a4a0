"""Operator and brand-team commands, run against local or a deployed stage (`--stage`)."""
