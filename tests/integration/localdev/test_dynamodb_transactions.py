"""The local DynamoDB server's transactions: all or nothing, rolling back only the items they touched."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

TABLE = "local-transactions"


@pytest.fixture
def dynamodb(dynamodb_url: str) -> Any:
    client = boto3.client("dynamodb", endpoint_url=dynamodb_url, region_name="us-east-1")
    client.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    return client


def _key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def _put(pk: str, sk: str, **extra: Any) -> dict[str, Any]:
    return {"Put": {"TableName": TABLE, "Item": {**_key(pk, sk), **extra}}}


def _add(pk: str, sk: str, amount: int, *, at_most: int | None = None) -> dict[str, Any]:
    update: dict[str, Any] = {
        "TableName": TABLE,
        "Key": _key(pk, sk),
        "UpdateExpression": "ADD pledged :n",
        "ExpressionAttributeValues": {":n": {"N": str(amount)}},
    }
    if at_most is not None:
        update["ConditionExpression"] = "attribute_not_exists(pledged) OR pledged <= :max"
        update["ExpressionAttributeValues"][":max"] = {"N": str(at_most)}
    return {"Update": update}


def _items(dynamodb: Any) -> dict[tuple[str, str], dict[str, Any]]:
    rows = dynamodb.scan(TableName=TABLE)["Items"]
    return {(r["pk"]["S"], r["sk"]["S"]): r for r in rows}


def test_a_failed_condition_leaves_nothing_written_and_keeps_untouched_items(dynamodb: Any) -> None:
    dynamodb.transact_write_items(TransactItems=[_put("cause", "a"), _add("cause", "totals", 100)])
    dynamodb.put_item(TableName=TABLE, Item={**_key("other", "x"), "note": {"S": "written meanwhile"}})
    before = _items(dynamodb)

    with pytest.raises(ClientError) as failure:
        dynamodb.transact_write_items(
            TransactItems=[
                _put("cause", "b", amount={"N": "5"}),
                _add("cause", "totals", 5),
                _put("cause", "a", amount={"N": "1"}),
                {
                    "ConditionCheck": {
                        "TableName": TABLE,
                        "Key": _key("cause", "missing"),
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
            ]
        )

    assert failure.value.response["Error"]["Code"] == "TransactionCanceledException"
    reasons = [r["Code"] for r in failure.value.response["CancellationReasons"]]
    assert reasons == ["None", "None", "None", "ConditionalCheckFailed"]
    assert _items(dynamodb) == before


def test_a_failed_update_condition_rolls_back_the_items_written_before_it(dynamodb: Any) -> None:
    dynamodb.transact_write_items(TransactItems=[_add("cause", "totals", 100)])

    with pytest.raises(ClientError):
        dynamodb.transact_write_items(
            TransactItems=[_put("cause", "entry-1"), _add("cause", "totals", 50, at_most=10)]
        )

    items = _items(dynamodb)
    assert set(items) == {("cause", "totals")}
    assert items[("cause", "totals")]["pledged"] == {"N": "100"}


def test_a_successful_transaction_writes_every_item(dynamodb: Any) -> None:
    dynamodb.transact_write_items(
        TransactItems=[_put("cause", "entry-1"), _put("cause", "entry-2"), _add("cause", "totals", 7)]
    )

    items = _items(dynamodb)
    assert set(items) == {("cause", "entry-1"), ("cause", "entry-2"), ("cause", "totals")}
    assert items[("cause", "totals")]["pledged"] == {"N": "7"}


def test_two_operations_on_one_item_are_refused_and_nothing_is_written(dynamodb: Any) -> None:
    with pytest.raises(ClientError) as failure:
        dynamodb.transact_write_items(TransactItems=[_put("cause", "a"), _add("cause", "a", 1)])

    assert failure.value.response["Error"]["Code"] == "ValidationException"
    assert _items(dynamodb) == {}
