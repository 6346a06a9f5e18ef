"""The ``airspace`` command."""
