"""The demo storefront `make dev` serves on its own origin (http://localhost:3000/demo-store), built
with the kit alone, as a brand's store would be: products, a cart, sign-in as a demo shopper (this
server mints the shopper token with the storefront key, as a brand's server does), join through the
emulator's hosted checkout, an account page. Never deployed."""
