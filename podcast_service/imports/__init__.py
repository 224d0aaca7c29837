"""Bringing podcasts in from elsewhere, through one guarded fetcher.

- folders.py: episode source folders (`episodes/`), `flask import-episodes`;
- run.py: one import of another host's feed (`flask import-feed`, or the admin's);
- feed.py: the feed read and stored, item by item; items.py: the items spooled to disk;
- podcasting.py: the Podcasting 2.0 tags feedparser drops; text.py: HTML made Markdown;
- fetcher.py: the one way the service fetches a URL from elsewhere;
- background.py: admin imports on the job queue; progress.py: what a terminal shows.
"""
