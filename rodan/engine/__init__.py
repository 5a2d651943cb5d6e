"""The workflow engine: validation, run expansion, scheduling, execution, reaping."""
