"""Fuzzing the gateway from its own OpenAPI description with schemathesis: a bounded, deterministic
profile in the suite (test_fuzz.py) and a longer one as a command (``python -m tests.fuzz``)."""
