"""Calls to the brand's own webhook receivers: which URLs are safe, signing, one POST."""
