"""Bringing podcasts in from elsewhere: another host's RSS feed, through one guarded fetcher."""
