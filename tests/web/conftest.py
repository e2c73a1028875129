"""Web tests use the shared, per-request isolated ``client`` of tests/conftest.py."""
