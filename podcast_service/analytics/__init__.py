"""Downloads counted by the IAB Tech Lab Podcast Measurement Guidelines (v2.2), keeping no personal data.

- recorder.py: every GET and HEAD of an enclosure becomes a `media_requests`
  row, buffered in the process and written in batches by a thread, so
  delivery never waits on it;
- listeners.py: the listener key, a keyed hash of the address (IPv6 cut to
  its /64) and the user agent under a salt that lives one UTC day;
- agents.py: which app, browser, library or bot asked (the Open Podcast
  Analytics Working Group's patterns, vendored, then crawlerdetect);
- counting.py: the rules (GET only, no `bytes=0-1` probes, ranges that
  together cover the first minute, once per listener, episode and UTC day,
  no bots) and the daily rollup that turns a finished day's rows into
  `daily_downloads` and deletes them with the day's salt;
- reports.py and charts.py: the figures the dashboard, the CSV and the API
  show, and the SVG chart.
"""
