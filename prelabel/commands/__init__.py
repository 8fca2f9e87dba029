"""Click commands of the CLI, one module per command (group)."""
