"""What the public may fetch, and how it is sent fast: the machinery behind the feed and media routes.

- lookups.py: which episodes and files the public may see;
- media_links.py, feed_files.py: the files nginx sends alone, left per ten-second window;
- recent.py, replay.py: each process's short memory of media answers, and the
  middleware that answers repeated enclosure requests from it;
- nginx_log.py: the requests nginx answered alone, read from its log and counted;
- private_objects.py: with a public bucket, what the public may not see kept under its private/ prefix.
The design is in docs/architecture.md (nginx publication).
"""
