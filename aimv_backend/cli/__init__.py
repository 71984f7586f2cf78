"""The ``aimv`` command line. One module per subcommand (``<name>_cmd.py``)."""
