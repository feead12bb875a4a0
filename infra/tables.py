"""The DynamoDB tables, declared for CloudFormation. They must match the pynamodb models in
`chalicelib/store/` exactly; `tests/infra/test_tables.py` fails on any drift between the two."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Index:
    name: str
    hash_key: tuple[str, str]
    range_key: tuple[str, str] | None = None
    projection: str = "KEYS_ONLY"


@dataclass(frozen=True)
class TableSpec:
    """A table by its short name (deployed as `vip-<stage>-<name>`); key types S (string) or N (number)."""

    name: str
    hash_key: tuple[str, str]
    range_key: tuple[str, str] | None = None
    indexes: tuple[Index, ...] = field(default_factory=tuple)
    ttl_attribute: str | None = None
    # DynamoDB Stream view type (the outbox feeds delivery), or None.
    stream: str | None = None


TABLES: tuple[TableSpec, ...] = (
    TableSpec("api-keys", ("key_id", "S")),
    TableSpec("catalog", ("kind", "S"), ("item_id", "S")),
    TableSpec("idempotency", ("key", "S"), ttl_attribute="expires_at"),
    TableSpec(
        "members",
        ("customer_ref", "S"),
        indexes=(
            Index("by-stripe-customer", ("stripe_customer_id", "S")),
            Index("by-reconcile-at", ("reconcile_shard", "S"), ("reconcile_at", "N")),
        ),
    ),
    TableSpec(
        "ledger",
        ("entry_id", "S"),
        indexes=(Index("by-cause-listing", ("listing", "S"), ("listing_order", "S"), "ALL"),),
    ),
    TableSpec("orders", ("order_id", "S"), ("record", "S")),
    TableSpec("donation_totals", ("scope", "S"), ("key", "S")),
    TableSpec("program", ("scope", "S"), ("key", "S")),
    TableSpec("giving", ("scope", "S"), ("key", "S")),
    TableSpec(
        "events",
        ("event_id", "S"),
        indexes=(
            Index("by-day", ("day", "S"), ("event_id", "S"), "ALL"),
            Index("by-customer", ("customer_ref", "S"), ("event_id", "S"), "ALL"),
        ),
        ttl_attribute="expires_at",
        stream="NEW_IMAGE",
    ),
    TableSpec("webhook-endpoints", ("endpoint_id", "S")),
    TableSpec("webhook-deliveries", ("endpoint_id", "S"), ("event_id", "S"), ttl_attribute="expires_at"),
)
