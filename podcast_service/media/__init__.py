"""Media bytes: reading and making audio, and keeping files in a store.

- audio/: probe, MPEG scan, encode, loudness, waveform, ID3 (mutagen and PyAV live here only);
- storage/: the storage interface and its backends (local folder, S3), moving
  media between them and checking them against the database.
"""
