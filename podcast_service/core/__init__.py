"""Plumbing every capability shares; it imports nothing of the capabilities or the interfaces.

- settings.py: each setting defined once, read once; `current_settings()` is the one accessor;
- extensions.py: the database, migrations, CSRF and sign-in objects;
- errors.py: the root exception, mapped to HTTP in one place;
- i18n.py, urls.py, markup.py, xmltext.py, pagination.py, json_output.py: languages,
  absolute URLs, show notes, XML-safe text, pages of lists, JSON responses;
- uploads.py, spools.py: request bodies streamed to spool files on disk;
- locks.py, db_watchdog.py, revision.py: the database helpers (run locks, the
  watchdog for a frozen server, the migration revision check);
- leases.py: how a worker holds the rows of a durable job (claim, renew, release);
- changes.py: what each transaction changed, told to whoever keeps something in step;
- background.py: threads the app runs beside its requests, started the same under any server;
- addresses.py: a client's address as one client (IPv6 by its /64), for counting and throttling;
- private_files.py: files and folders with secrets, readable by the service's user alone.
"""
