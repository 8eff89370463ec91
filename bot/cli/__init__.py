"""The command line's subcommands (`python -m bot ...`, parsed in bot/__main__.py): shared pieces (common), the
pictures (images), following a task (follow), paid submits in the ledger (paid), the Discord token (discord_token)."""
