"""Point chalicelib at a stage's tables; call before anything imports chalicelib (settings load at import)."""

from __future__ import annotations

import os


def use_stage(stage: str) -> None:
    """`local` talks to `make dev`'s DynamoDB on 127.0.0.1:8001; other stages to AWS with your credentials."""
    os.environ["STAGE"] = stage
    os.environ.setdefault("TABLE_PREFIX", f"vip-{stage}")
    if stage == "local":
        os.environ.setdefault("DYNAMODB_HOST", "http://127.0.0.1:8001")
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
        os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
