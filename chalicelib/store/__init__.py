"""pynamodb models and every read, write and transaction on them. Nothing else touches DynamoDB."""
