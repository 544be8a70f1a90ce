"""Supervision of module processes: see supervisor.py (the loop), restart.py (restart policy
and backoff), give_up.py (give-up intensity), instance.py (the running process)."""
