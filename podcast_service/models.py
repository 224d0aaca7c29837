"""The domain's tables.

Facts about a file (size, checksum, duration...) are measured once when it is
stored and kept on its MediaFile row; publication status is derived from
`published_at` (and `withdrawn_at` for an unpublished episode), so a scheduled
episode goes live at its time without any job having to flip a flag.
"""

from __future__ import annotations

import enum
import secrets
import uuid
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ColumnElement,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    and_,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql.schema import Table

from .core.extensions import db

if TYPE_CHECKING:  # Flask-SQLAlchemy's db.Model is made at run time; type checkers see its base
    from .core.extensions import Base as Model
else:
    Model = db.Model


def utcnow() -> datetime:
    return datetime.now(UTC)


def table_of(model: type[Model]) -> Table:
    """A model's table, typed as one: for core INSERT, UPDATE and DELETE statements."""
    return cast(Table, model.__table__)


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes on every database.

    SQLite drops time zones; storing naive UTC and re-attaching UTC on the way
    out keeps comparisons and feed dates (feedgen refuses naive ones) correct.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware one")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Status(enum.StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    PUBLISHED = "published"
    UNPUBLISHED = "unpublished"


def status_at(episode: Any, now: datetime) -> Status:
    """An episode's status at `now`, from its `published_at` and `withdrawn_at`: of a model or of a row
    that has those columns (the admin's list reads plain rows)."""
    if episode.withdrawn_at is not None:
        return Status.UNPUBLISHED
    if episode.published_at is None:
        return Status.DRAFT
    return Status.PUBLISHED if episode.published_at <= now else Status.SCHEDULED


EPISODE_TYPES = ("full", "trailer", "bonus")
SHOW_TYPES = ("episodic", "serial")
# podcast:medium values that fit a show of audio episodes.
MEDIUMS = ("podcast", "music", "audiobook", "newsletter", "blog")


class MediaFile(Model):
    """One stored object: audio, image or transcript. Keys are generated and never reused."""

    __tablename__ = "media_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=lambda: uuid.uuid4().hex)
    backend: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(512), unique=True)
    size: Mapped[int] = mapped_column(BigInteger)
    mime_type: Mapped[str] = mapped_column(String(100))
    extension: Mapped[str] = mapped_column(String(10))
    sha256: Mapped[str] = mapped_column(String(64))
    original_filename: Mapped[str | None] = mapped_column(String(255))
    # Audio facts, measured once by media.probe.
    duration: Mapped[float | None] = mapped_column(Float)
    bitrate: Mapped[int | None] = mapped_column(Integer)
    sample_rate: Mapped[int | None] = mapped_column(Integer)
    channels: Mapped[int | None] = mapped_column(Integer)
    # Integrated loudness (LUFS) and true peak (dBTP), measured by the audio job (media/audio/process.py).
    loudness: Mapped[float | None] = mapped_column(Float)
    true_peak: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def etag(self) -> str:
        return web_etag(self.created_at, self.size)


def web_etag(created_at: datetime, size: int) -> str:
    """A file's validator, as nginx makes it from the file's mtime and size ("5f1c2d3e-2625a00").

    nginx sends public audio alone with its own ETag (delivery/media_links.py sets
    the file's mtime to `created_at`), so the service gives the same one: an
    app's If-Range or If-None-Match holds whichever of the two answered it.
    A key is never reused (a replaced file gets a new URL), so time and size
    tell files apart as well as a hash of their bytes would.
    """
    return f"{int(created_at.timestamp()):x}-{size:x}"


class Show(Model):
    __tablename__ = "shows"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(20), default="en")
    author: Mapped[str] = mapped_column(String(255), default="")
    owner_name: Mapped[str] = mapped_column(String(255), default="")
    owner_email: Mapped[str] = mapped_column(String(255), default="")
    copyright: Mapped[str | None] = mapped_column(String(255))
    website_url: Mapped[str | None] = mapped_column(String(1000))
    # [[category, subcategory or null], ...] from Apple's list.
    categories: Mapped[list] = mapped_column(JSON, default=list)
    explicit: Mapped[bool] = mapped_column(default=False)
    show_type: Mapped[str] = mapped_column(String(10), default="episodic")
    image_id: Mapped[int | None] = mapped_column(ForeignKey("media_files.id"), index=True)
    # podcast:guid; set once, never recomputed, so moving the feed keeps the show's identity.
    podcast_guid: Mapped[str | None] = mapped_column(String(36))
    # False for a guid an import took from a feed without proof that the producer owns it: another show
    # whose import proves it (imports/feed.py) takes the guid over.
    guid_proven: Mapped[bool] = mapped_column(default=True)
    # Apple's itunes:block / itunes:complete.
    block: Mapped[bool] = mapped_column(default=False)
    complete: Mapped[bool] = mapped_column(default=False)
    # Set when the show moved to another host: the feed says so (itunes:new-feed-url) and 301s there.
    new_feed_url: Mapped[str | None] = mapped_column(String(1000))
    # A private show is served only through subscribers' personal feed URLs.
    private: Mapped[bool] = mapped_column(default=False)
    # Podcasting 2.0 channel facts (podcast_ns.py). Lists hold plain JSON, validated in catalogue/inputs.py.
    locked: Mapped[bool] = mapped_column(default=True)
    medium: Mapped[str] = mapped_column(String(20), default="podcast")
    funding: Mapped[list] = mapped_column(JSON, default=list)  # [[url, text], ...]
    location_name: Mapped[str | None] = mapped_column(String(128))
    location_geo: Mapped[str | None] = mapped_column(String(100))  # "geo:50.8467,4.3524"
    location_osm: Mapped[str | None] = mapped_column(String(30))  # "R54094"
    license: Mapped[str | None] = mapped_column(String(128))  # an SPDX identifier or a name
    license_url: Mapped[str | None] = mapped_column(String(1000))
    update_frequency: Mapped[str | None] = mapped_column(String(128))  # an RFC 5545 RRULE
    update_frequency_text: Mapped[str | None] = mapped_column(String(128))
    txt: Mapped[list] = mapped_column(JSON, default=list)  # [[text, purpose or null], ...]
    podroll: Mapped[list] = mapped_column(JSON, default=list)  # [[feed guid, feed url or null], ...]
    season_names: Mapped[dict] = mapped_column(JSON, default=dict)  # {"1": "2021"}
    # Shows sharing a group are one programme in several languages (catalogue/languages.py).
    version_group: Mapped[str | None] = mapped_column(String(36), index=True)
    # The show's pages in podcast apps and directories, for the show page's subscribe buttons:
    # {"apple": "https://podcasts.apple.com/...", ...}, keys from inputs.SUBSCRIBE_APPS.
    subscribe_links: Mapped[dict] = mapped_column(JSON, default=dict)
    # An external measurement service's prefix (OP3's https://op3.dev/e/, say) put before the enclosure
    # URLs in the feed; empty: none.
    measurement_prefix: Mapped[str] = mapped_column(String(200), default="")
    # The renditions made from masters (media/audio/process.py): MP3 bitrate (Opus gets half), mono or stereo,
    # and whether to bring them to the loudness target. MP3 and AAC uploads are served as they are unless
    # `normalize_compressed` asks for them to be encoded again.
    audio_bitrate: Mapped[int] = mapped_column(Integer, default=64)
    audio_channels: Mapped[int] = mapped_column(Integer, default=1)
    normalize_masters: Mapped[bool] = mapped_column(default=True)
    normalize_compressed: Mapped[bool] = mapped_column(default=False)
    source_fingerprint: Mapped[str | None] = mapped_column(String(64))
    # The feed URL (or file) import-feed made this show from; a later import writes only into its own show.
    import_source: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    image: Mapped[MediaFile | None] = relationship()
    episodes: Mapped[list[Episode]] = relationship(back_populates="show", cascade="all, delete-orphan")
    credits: Mapped[list[Credit]] = relationship(
        back_populates="show", cascade="all, delete-orphan", order_by="Credit.position"
    )
    subscribers: Mapped[list[Subscriber]] = relationship(
        back_populates="show", cascade="all, delete-orphan", order_by="Subscriber.id"
    )

    __table_args__ = (
        CheckConstraint(show_type.in_(SHOW_TYPES), name="show_type"),
        CheckConstraint(medium.in_(MEDIUMS), name="medium"),
    )


class Episode(Model):
    __tablename__ = "episodes"

    id: Mapped[int] = mapped_column(primary_key=True)
    show_id: Mapped[int] = mapped_column(ForeignKey("shows.id", ondelete="CASCADE"), index=True)
    slug: Mapped[str] = mapped_column(String(150))
    # The RSS guid: assigned at creation and never changed, even when the audio is replaced.
    guid: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(255))
    summary: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")  # Markdown
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    season: Mapped[int | None] = mapped_column(Integer)
    number: Mapped[int | None] = mapped_column(Integer)
    episode_type: Mapped[str] = mapped_column(String(10), default="full")
    explicit: Mapped[bool] = mapped_column(default=False)
    # Indexed: the media route finds a file's episode by them.
    audio_id: Mapped[int] = mapped_column(ForeignKey("media_files.id"), index=True)
    image_id: Mapped[int | None] = mapped_column(ForeignKey("media_files.id"), index=True)
    transcript_id: Mapped[int | None] = mapped_column(ForeignKey("media_files.id"), index=True)
    # The producer's upload where the served audio was made from it (a WAV or FLAC master): kept,
    # never served, so renditions can be made again.
    master_id: Mapped[int | None] = mapped_column(ForeignKey("media_files.id"), index=True)
    # Peaks of the audio for the player to draw (audiowaveform's JSON layout).
    waveform_id: Mapped[int | None] = mapped_column(ForeignKey("media_files.id"), index=True)
    # False while the audio job makes the files apps play: the episode reaches listeners only after.
    audio_ready: Mapped[bool] = mapped_column(default=True)
    # podcast:soundbite: [[start, duration, title or null], ...] in seconds.
    soundbites: Mapped[list] = mapped_column(JSON, default=list)
    # Episodes sharing a group are one episode in its show's language versions (catalogue/languages.py).
    version_group: Mapped[str | None] = mapped_column(String(36), index=True)
    # The show notes as HTML, rendered from `notes` when they are saved, so a feed build renders nothing.
    notes_html: Mapped[str] = mapped_column(Text, default="")
    # Set when a producer takes a published episode down; published_at is kept for a re-publish.
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The secret part of the private preview link of an unpublished episode.
    preview_key: Mapped[str] = mapped_column(String(43), unique=True, default=lambda: secrets.token_urlsafe(32))
    # Whether one of its renditions is an MP3 or M4A, which Apple Podcasts needs; kept with the files so
    # a show's warnings are one indexed query, not a look at every episode's files.
    apple_playable: Mapped[bool] = mapped_column(default=True)
    # The Idempotency-Key of the API request that created it: a retried request finds this episode.
    idempotency_key: Mapped[str | None] = mapped_column(String(64))
    source_fingerprint: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    show: Mapped[Show] = relationship(back_populates="episodes")
    audio: Mapped[MediaFile] = relationship(foreign_keys=[audio_id])
    image: Mapped[MediaFile | None] = relationship(foreign_keys=[image_id])
    transcript: Mapped[MediaFile | None] = relationship(foreign_keys=[transcript_id])
    master: Mapped[MediaFile | None] = relationship(foreign_keys=[master_id])
    waveform: Mapped[MediaFile | None] = relationship(foreign_keys=[waveform_id])
    audio_job: Mapped[AudioJob | None] = relationship(back_populates="episode", cascade="all, delete-orphan")
    chapters: Mapped[list[Chapter]] = relationship(
        back_populates="episode", cascade="all, delete-orphan", order_by="Chapter.start"
    )
    links: Mapped[list[Link]] = relationship(
        back_populates="episode", cascade="all, delete-orphan", order_by="Link.position"
    )
    credits: Mapped[list[Credit]] = relationship(
        back_populates="episode", cascade="all, delete-orphan", order_by="Credit.position"
    )
    alternates: Mapped[list[AlternateFile]] = relationship(
        back_populates="episode", cascade="all, delete-orphan", order_by="AlternateFile.position"
    )
    cues_row: Mapped[TranscriptCues | None] = relationship(cascade="all, delete-orphan")

    __table_args__ = (
        UniqueConstraint("show_id", "slug"),
        UniqueConstraint("show_id", "guid"),
        UniqueConstraint("show_id", "idempotency_key"),
        # The orders lists are read in, so a page is read from the index, never sorted from every row.
        Index("ix_episodes_show_id_published_at", "show_id", "published_at", "id"),
        Index("ix_episodes_show_id_created_at", "show_id", "created_at", "id"),
        Index("ix_episodes_show_id_apple_playable", "show_id", "apple_playable"),
        CheckConstraint(episode_type.in_(EPISODE_TYPES), name="episode_type"),
    )

    def status_at(self, now: datetime) -> Status:
        return status_at(self, now)

    @property
    def status(self) -> Status:
        return self.status_at(utcnow())

    @classmethod
    def public_at(cls, now: datetime) -> ColumnElement[bool]:
        """The SQL condition of `visible_at(now)`: what listeners and visitors may see."""
        return and_(
            cls.withdrawn_at.is_(None),
            cls.published_at.is_not(None),
            cls.published_at <= now,
            cls.audio_ready.is_(True),
        )

    def visible_at(self, now: datetime) -> bool:
        """Published, and its audio made: an episode published while its master is encoded waits for it."""
        return self.status_at(now) is Status.PUBLISHED and self.audio_ready

    @property
    def transcript_cues(self) -> list | None:
        """The transcript's cues, [[start, end, text], ...], parsed once when it was stored."""
        return None if self.cues_row is None else self.cues_row.cues

    @transcript_cues.setter
    def transcript_cues(self, cues: list | None) -> None:
        if cues is None:
            self.cues_row = None
        elif self.cues_row is None:
            self.cues_row = TranscriptCues(cues=cues)
        else:
            self.cues_row.cues = cues

    def media_files(self) -> list[MediaFile]:
        files = [self.audio, self.image, self.transcript, *(a.media for a in self.alternates)]
        if self.master is not self.audio:
            files.append(self.master)
        files.append(self.waveform)
        return [m for m in files if m is not None]

    def audio_files(self) -> list[MediaFile]:
        """The main audio, then the alternates: every rendition a listener could download."""
        return [self.audio, *(a.media for a in self.alternates)]


class TranscriptCues(Model):
    """An episode's transcript as parsed cues, so pages and derived formats never fetch and parse the file.

    A table of its own: a long transcript is large, and in SQLite every read
    of an episode row's later columns would otherwise walk past it.
    """

    __tablename__ = "transcript_cues"

    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id", ondelete="CASCADE"), primary_key=True)
    cues: Mapped[list] = mapped_column(JSON)


class AlternateFile(Model):
    """Another rendition of an episode's audio (Opus beside MP3, say): a podcast:alternateEnclosure."""

    __tablename__ = "alternate_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id", ondelete="CASCADE"), index=True)
    media_id: Mapped[int] = mapped_column(ForeignKey("media_files.id"), unique=True)
    title: Mapped[str | None] = mapped_column(String(32))
    position: Mapped[int] = mapped_column(Integer, default=0)
    # Made by the audio job from the master (replaced when it runs again), not uploaded by the producer.
    generated: Mapped[bool] = mapped_column(default=False)

    episode: Mapped[Episode] = relationship(back_populates="alternates")
    media: Mapped[MediaFile] = relationship()


JOB_STATES = ("queued", "running", "done", "failed")


class AudioJob(Model):
    """The work on an episode's uploaded audio: measure it, and make renditions where it is a master.

    The queue (jobs.py) only carries the job's id; this row is the truth. A
    worker claims it with a lease it renews as it reports progress, so a
    worker that dies mid-way loses it and another takes over (the sweep), and
    a finished job's results are written only under the lease that made them.
    """

    __tablename__ = "audio_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id", ondelete="CASCADE"), unique=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("media_files.id"), index=True)
    encode: Mapped[bool] = mapped_column(default=False)  # make MP3 and Opus renditions, or only measure
    state: Mapped[str] = mapped_column(String(10), default="queued", index=True)
    progress: Mapped[float] = mapped_column(Float, default=0.0)  # 0 to 1
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_token: Mapped[str | None] = mapped_column(String(32))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    gain: Mapped[float | None] = mapped_column(Float)  # dB applied by normalisation
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    episode: Mapped[Episode] = relationship(back_populates="audio_job")
    source: Mapped[MediaFile] = relationship()

    __table_args__ = (CheckConstraint(state.in_(JOB_STATES), name="job_state"),)


class Credit(Model):
    """A person's role on a show or on one episode (podcast:person's name, role, group, link and picture).

    The person's details live on the credit itself, not in a table shared by
    every show: what one show's producer writes about a person can never
    change another show's pages or feed.
    """

    __tablename__ = "credits"

    id: Mapped[int] = mapped_column(primary_key=True)
    show_id: Mapped[int | None] = mapped_column(ForeignKey("shows.id", ondelete="CASCADE"), index=True)
    episode_id: Mapped[int | None] = mapped_column(ForeignKey("episodes.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    href: Mapped[str | None] = mapped_column(String(1000))
    img: Mapped[str | None] = mapped_column(String(1000))
    role: Mapped[str] = mapped_column(String(50), default="guest")
    group: Mapped[str] = mapped_column(String(50), default="cast")
    title: Mapped[str | None] = mapped_column(String(255))  # e.g. "Prime Minister of Belgium"
    position: Mapped[int] = mapped_column(Integer, default=0)

    show: Mapped[Show | None] = relationship(back_populates="credits")
    episode: Mapped[Episode | None] = relationship(back_populates="credits")

    __table_args__ = (CheckConstraint("(show_id IS NULL) <> (episode_id IS NULL)", name="one_owner"),)


class Link(Model):
    __tablename__ = "links"

    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(255))
    url: Mapped[str] = mapped_column(String(1000))
    # "report" marks the document the episode belongs to; pages give it prominence.
    rel: Mapped[str | None] = mapped_column(String(30))
    position: Mapped[int] = mapped_column(Integer, default=0)

    episode: Mapped[Episode] = relationship(back_populates="links")


class Chapter(Model):
    __tablename__ = "chapters"

    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id", ondelete="CASCADE"), index=True)
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float | None] = mapped_column(Float)
    title: Mapped[str] = mapped_column(String(255))
    url: Mapped[str | None] = mapped_column(String(1000))

    episode: Mapped[Episode] = relationship(back_populates="chapters")


ROLES = ("owner", "editor")


class User(Model):
    """A producer's account. Admins run the instance; others act on the shows they are members of."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    language: Mapped[str | None] = mapped_column(String(8))  # of the admin; None: the browser's (core/i18n.py)

    memberships: Mapped[list[ShowMember]] = relationship(back_populates="user", cascade="all, delete-orphan")
    tokens: Mapped[list[ApiToken]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by="ApiToken.id"
    )

    # Flask-Login's user protocol. The id it keeps in the cookie names the sign-in's UserSession.
    is_authenticated = True
    is_active = True
    is_anonymous = False
    session_key = None  # type: str | None  # the key of the UserSession this request runs in, set when loaded

    def get_id(self) -> str | None:
        return self.session_key

    def role_in(self, show: Show) -> str | None:
        """'owner', 'editor' or None; an admin counts as owner of every show."""
        if self.is_admin:
            return "owner"
        return next((m.role for m in self.memberships if m.show_id == show.id), None)


class UserSession(Model):
    """One sign-in, from the login form until logout, a password change or an expiry ends it.

    The cookie holds the random key; only its SHA-256 is kept. Ending the row
    ends the session on the server, so a copied cookie stops working too.
    """

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The last request it was used for, to the minute (accounts/service.py: LAST_USE_RESOLUTION).
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()


class ShowMember(Model):
    """A role on one show: an owner manages the show and its members, an editor its episodes.

    Owners add members by e-mail address whether or not it has an account
    yet (`user_id` is then empty until one is created with it), so adding a
    member never tells an owner which addresses have accounts.
    """

    __tablename__ = "show_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    show_id: Mapped[int] = mapped_column(ForeignKey("shows.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(255), index=True)
    role: Mapped[str] = mapped_column(String(10))

    user: Mapped[User | None] = relationship(back_populates="memberships")
    show: Mapped[Show] = relationship()

    __table_args__ = (
        UniqueConstraint("user_id", "show_id"),
        UniqueConstraint("show_id", "email"),
        CheckConstraint(role.in_(ROLES), name="role"),
    )


SCOPES = ("read", "write")


class ApiToken(Model):
    """A bearer token for the JSON API. Only its SHA-256 is kept; the token is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters, so a producer can tell tokens apart in lists.
    prefix: Mapped[str] = mapped_column(String(12))
    scopes: Mapped[list] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(back_populates="tokens")


class LoginFailure(Model):
    """A failed sign-in, kept for the throttling window only.

    `subject` is a keyed hash of the e-mail address or the client address, so
    the table holds no personal data in clear.
    """

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class Subscriber(Model):
    """A listener's personal feed of a private show. Only the token's SHA-256 is kept."""

    __tablename__ = "subscribers"

    id: Mapped[int] = mapped_column(primary_key=True)
    show_id: Mapped[int] = mapped_column(ForeignKey("shows.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    show: Mapped[Show] = relationship(back_populates="subscribers")


class CachedFeed(Model):
    """A show's built feed, shared by every app process.

    Any change to the show or its episodes marks it stale in the same
    transaction and bumps `generation` (feed/cache.py); a build stores its
    bytes only if the generation it started from is still current, so a
    change made during a build is never hidden. Fresh until `valid_until`,
    the moment the next scheduled episode goes live.
    """

    __tablename__ = "cached_feeds"

    show_id: Mapped[int] = mapped_column(ForeignKey("shows.id", ondelete="CASCADE"), primary_key=True)
    generation: Mapped[int] = mapped_column(Integer, default=0)
    stale: Mapped[bool] = mapped_column(default=True)
    etag: Mapped[str | None] = mapped_column(String(64))
    last_modified: Mapped[datetime | None] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # How many episodes the built feed lists: the home page shows it without counting every episode.
    item_count: Mapped[int | None] = mapped_column(Integer)
    # The bytes' sizes: with `last_modified`, the ETags nginx gives the files it sends (delivery/feed_files.py).
    size: Mapped[int | None] = mapped_column(Integer)
    gzipped_size: Mapped[int | None] = mapped_column(Integer)
    # Where a private feed's bytes hold a subscriber's token: random, never shown (cache.py).
    token_slot: Mapped[str] = mapped_column(String(32), default=lambda: secrets.token_hex(16))
    # Last, so reading the small columns above never walks the large values' pages (SQLite stores a
    # row's columns in order).
    body: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    gzipped: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)

    def fresh_at(self, now: datetime) -> bool:
        """Current, and built with its sizes (a process of an older release may store a build without them)."""
        return (
            not self.stale
            and self.etag is not None
            and self.size is not None
            and (self.valid_until is None or now < self.valid_until)
        )


class Announcement(Model):
    """A pending notice to WebSub hubs and directories that a show's feed changed.

    Written in the transaction that changes the feed (or for the time a
    scheduled episode goes live) and sent by a background worker with
    retries, so a producer never waits for a hub.
    """

    __tablename__ = "announcements"

    id: Mapped[int] = mapped_column(primary_key=True)
    show_id: Mapped[int] = mapped_column(ForeignKey("shows.id", ondelete="CASCADE"), index=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    lease_token: Mapped[str | None] = mapped_column(String(32), index=True)  # core/leases.py
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RunLock(Model):
    """A command that must not run twice at once (import-episodes, storage-migrate, backup), while it runs.

    `holder` is "host:pid", so a lock left by a process that died can be
    recognised and taken over on the same host.
    """

    __tablename__ = "run_locks"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    holder: Mapped[str] = mapped_column(String(255))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MediaRequest(Model):
    """One request for an enclosure, kept only until its day is counted (analytics/counting.py).

    No address is kept: `listener` is a keyed hash of the address (IPv6 cut to
    its /64) and the user agent, under a salt that lives one day.
    """

    __tablename__ = "media_requests"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id", ondelete="CASCADE"))
    media_id: Mapped[int] = mapped_column(Integer)  # the file asked for (the enclosure or a rendition)
    day: Mapped[date] = mapped_column(Date)  # UTC: the counting window
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    listener: Mapped[str] = mapped_column(String(32))
    method: Mapped[str] = mapped_column(String(4))
    # The bytes asked for, resolved against the file's size: [range_start, range_end], inclusive.
    range_start: Mapped[int] = mapped_column(BigInteger)
    range_end: Mapped[int] = mapped_column(BigInteger)
    file_size: Mapped[int] = mapped_column(BigInteger)
    # What the first minute is for this file: bytes of tags before the audio plus a minute at its bitrate.
    threshold: Mapped[int] = mapped_column(BigInteger)
    user_agent: Mapped[str] = mapped_column(String(300))
    app: Mapped[str] = mapped_column(String(80))  # "Apple Podcasts", "Overcast", "Chrome", "Unknown"...
    bot: Mapped[bool] = mapped_column(default=False)
    source: Mapped[str] = mapped_column(String(10))  # feed, web (the episode page), embed, private
    referrer: Mapped[str | None] = mapped_column(String(255))  # the referring host, never its path
    country: Mapped[str] = mapped_column(String(2), default="")  # ISO code when a GeoIP database is configured

    __table_args__ = (
        Index("ix_media_requests_day_episode_listener", "day", "episode_id", "listener"),
        Index("ix_media_requests_episode_id", "episode_id"),
    )


class DailyDownloads(Model):
    """Downloads counted by the IAB rules, one row per episode, UTC day, app, source and country."""

    __tablename__ = "daily_downloads"

    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    app: Mapped[str] = mapped_column(String(80), primary_key=True)
    source: Mapped[str] = mapped_column(String(10), primary_key=True)
    country: Mapped[str] = mapped_column(String(2), primary_key=True, default="")  # "" unknown or not looked up
    show_id: Mapped[int] = mapped_column(ForeignKey("shows.id", ondelete="CASCADE"))
    downloads: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("ix_daily_downloads_show_day", "show_id", "day"),)


class AnalyticsSalt(Model):
    """The random part of the day's listener salt, shared by every web process (keyed by `secret_key`, which is
    not in the database, before use: analytics/listeners.py); deleted once its day is counted."""

    __tablename__ = "analytics_salts"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    salt: Mapped[bytes] = mapped_column(LargeBinary(32))


class FeedImport(Model):
    """A feed import a producer started from the admin, run by a worker (imports/background.py).

    The row is what the progress page shows: counts as the worker goes, and
    what failed or was left out. A worker that dies leaves it `running` with
    an `updated_at` that stops moving; the producer can start it again, and
    it goes on from where it stopped (episodes already here are skipped).
    """

    __tablename__ = "feed_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(2048))
    slug: Mapped[str | None] = mapped_column(String(100))
    # What the producer puts in the source feed as <podcast:txt purpose="verify"> to prove it is theirs.
    verify_code: Mapped[str] = mapped_column(String(64), default="")
    owner_email: Mapped[str | None] = mapped_column(String(254))
    show_id: Mapped[int | None] = mapped_column(ForeignKey("shows.id", ondelete="SET NULL"))
    state: Mapped[str] = mapped_column(String(10), default="queued")
    lease_token: Mapped[str | None] = mapped_column(String(32), index=True)  # core/leases.py
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    items_total: Mapped[int] = mapped_column(Integer, default=0)
    imported: Mapped[int] = mapped_column(Integer, default=0)
    present: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    bytes_fetched: Mapped[int] = mapped_column(BigInteger, default=0)
    message: Mapped[str] = mapped_column(Text, default="")  # the outcome, or why it stopped
    remarks: Mapped[list] = mapped_column(JSON, default=list)  # [[title, what failed or was left out], ...]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    show: Mapped[Show | None] = relationship()

    __table_args__ = (CheckConstraint(state.in_(JOB_STATES), name="import_state"),)

    @property
    def items_done(self) -> int:
        return self.imported + self.present + self.failed
