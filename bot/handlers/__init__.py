"""Use cases: each takes a neutral event and returns replies."""
