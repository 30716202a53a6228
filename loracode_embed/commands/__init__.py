"""Subcommands of the ``loracode`` command line, one module each."""
