"""One module per Stripe object: its parameter specs, its operations and its routes (`ROUTES`)."""
