"""The smallest Flask app, run by bench/media.py under the same gunicorn settings as the service: the
baseline for what the media route's decision (lookup, recording, headers) costs beyond Flask itself."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    return "hello"
