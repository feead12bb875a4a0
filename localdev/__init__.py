"""Local development only, never deployed: the `make dev` runner, the Stripe emulator, seed data."""
