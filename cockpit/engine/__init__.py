"""Running a plan: step kinds as asyncio tasks, gates, operator commands, the journal, resume and the report."""
