"""The only package that imports stripe (lazily, so a cold start that never calls Stripe never loads it)."""
