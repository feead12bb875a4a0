"""HTTP: one blueprint per area, the auth/validation/rendering frame in `routing`, the OpenAPI document."""
