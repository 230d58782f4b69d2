"""Test doubles that only tests need: the demo's fake servers (`evidence.demo`) extended with
fault injection, and validation of what they serve against the vendors' own schemas (GitHub's
OpenAPI description with jsonschema, the Admin SDK discovery document)."""
