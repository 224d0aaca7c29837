"""The command line (`flask --app podcast_service ...`): an interface like the admin and the API.

- commands.py: operators' commands (import, storage, backup, worker) and `register(app)`;
- producers.py: accounts and episodes for scripts, printing what the API returns.
"""
