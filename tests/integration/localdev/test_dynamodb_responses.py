"""The local DynamoDB server's reads answer every attribute type exactly as it was written."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

TABLE = "local-responses"
ITEM = {
    "pk": {"S": "shop"},
    "sk": {"S": "a"},
    "text": {"S": "naïve #1"},
    "amount": {"N": "-12.5"},
    "flag": {"BOOL": True},
    "nothing": {"NULL": True},
    "list": {"L": [{"S": "x"}, {"N": "1"}, {"M": {"deep": {"SS": ["p", "q"]}}}]},
    "map": {"M": {"numbers": {"NS": ["1", "2"]}, "empty": {"M": {}}}},
}
BINARY = {"pk": {"S": "shop"}, "sk": {"S": "b"}, "blob": {"B": b"\x00\xffbytes"}, "blobs": {"BS": [b"\x01"]}}


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
    client.put_item(TableName=TABLE, Item=ITEM)
    client.put_item(TableName=TABLE, Item=BINARY)
    return client


def _key(item: dict[str, Any]) -> dict[str, Any]:
    return {"pk": item["pk"], "sk": item["sk"]}


def test_every_read_returns_items_as_written_binary_values_included(dynamodb: Any) -> None:
    for item in (ITEM, BINARY):
        assert dynamodb.get_item(TableName=TABLE, Key=_key(item), ConsistentRead=True)["Item"] == item
        batch = dynamodb.batch_get_item(RequestItems={TABLE: {"Keys": [_key(item)]}})
        assert batch["Responses"][TABLE] == [item]
        got = dynamodb.transact_get_items(TransactItems=[{"Get": {"TableName": TABLE, "Key": _key(item)}}])
        assert got["Responses"] == [{"Item": item}]
    query = dynamodb.query(
        TableName=TABLE, KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": {"S": "shop"}}
    )
    assert (query["Items"], query["Count"], query["ScannedCount"]) == ([ITEM, BINARY], 2, 2)
    page = dynamodb.scan(TableName=TABLE, Limit=1)
    assert (page["Items"], page["LastEvaluatedKey"]) == ([ITEM], _key(ITEM))
    assert dynamodb.scan(TableName=TABLE, ExclusiveStartKey=page["LastEvaluatedKey"])["Items"] == [BINARY]


def test_a_missing_item_answers_without_one(dynamodb: Any) -> None:
    answer = dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": "shop"}, "sk": {"S": "none"}})
    assert "Item" not in answer
    assert dynamodb.scan(TableName=TABLE, Limit=1, ExclusiveStartKey=_key(BINARY))["Items"] == []
