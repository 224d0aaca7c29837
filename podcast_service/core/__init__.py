"""Plumbing every capability shares; it imports nothing of the capabilities or the interfaces.

- settings.py: the typed settings, read once (`settings()` is the one accessor);
- extensions.py: the database, migrations, CSRF and sign-in objects;
- errors.py: the root exception, mapped to HTTP in one place;
- i18n.py, urls.py, markup.py, xmltext.py, pagination.py, json_output.py: languages,
  absolute URLs, show notes, XML-safe text, pages of lists, JSON responses;
- uploads.py, spools.py: request bodies streamed to spool files on disk;
- locks.py, db_watchdog.py, revision.py: the database helpers (run locks, the
  watchdog for a frozen server, the migration revision check).
"""
