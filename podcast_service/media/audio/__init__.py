"""Everything that reads or writes audio bytes.

probe.py identifies and measures an upload (mutagen; the only module that
imports it for reading), mpeg.py counts MPEG frames, tag_size.py bounds the
tags before mutagen parses them, and process.py decodes once to measure
loudness, draw the waveform and encode the renditions apps play (FFmpeg
through PyAV); id3.py writes the tags of the files the service makes.
"""
