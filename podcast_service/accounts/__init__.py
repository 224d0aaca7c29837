"""People: producers, their sessions, show membership, API tokens, and private shows' subscribers.

- service.py: users, sign-in sessions, members and tokens;
- subscribers.py: personal feed URLs for private shows.
"""
