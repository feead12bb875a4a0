"""Use cases: each combines domain rules with the store and payments, and is called by one route."""
