"""Shows and episodes: the one path every interface takes to read and change them.

- service.py: save, delete and read shows and episodes (the rules apply here);
- inputs.py: what a producer gives, with its rules; coercion.py: loose form,
  JSON and CLI values turned into those inputs;
- lists.py: a page of episodes as plain rows; serialize.py: their JSON shape;
- categories.py, chapters.py, transcripts.py, images.py: the parts an episode carries;
- apple.py: what a show must fix for Apple Podcasts to list it;
- languages.py: a programme's versions in other languages;
- search.py: the full-text index, kept in step with every change;
- audio_jobs.py: the job that measures an upload and makes the files apps play.
"""
