"""Apple Podcasts' category list: the only categories a show may declare."""

from __future__ import annotations

from flask_babel import gettext as _

from ..core.errors import ValidationError

APPLE_CATEGORIES: dict[str, tuple[str, ...]] = {
    "Arts": ("Books", "Design", "Fashion & Beauty", "Food", "Performing Arts", "Visual Arts"),
    "Business": ("Careers", "Entrepreneurship", "Investing", "Management", "Marketing", "Non-Profit"),
    "Comedy": ("Comedy Interviews", "Improv", "Stand-Up"),
    "Education": ("Courses", "How To", "Language Learning", "Self-Improvement"),
    "Fiction": ("Comedy Fiction", "Drama", "Science Fiction"),
    "Government": (),
    "History": (),
    "Health & Fitness": ("Alternative Health", "Fitness", "Medicine", "Mental Health", "Nutrition", "Sexuality"),
    "Kids & Family": ("Education for Kids", "Parenting", "Pets & Animals", "Stories for Kids"),
    "Leisure": (
        "Animation & Manga",
        "Automotive",
        "Aviation",
        "Crafts",
        "Games",
        "Hobbies",
        "Home & Garden",
        "Video Games",
    ),
    "Music": ("Music Commentary", "Music History", "Music Interviews"),
    "News": (
        "Business News",
        "Daily News",
        "Entertainment News",
        "News Commentary",
        "Politics",
        "Sports News",
        "Tech News",
    ),
    "Religion & Spirituality": ("Buddhism", "Christianity", "Hinduism", "Islam", "Judaism", "Religion", "Spirituality"),
    "Science": (
        "Astronomy",
        "Chemistry",
        "Earth Sciences",
        "Life Sciences",
        "Mathematics",
        "Natural Sciences",
        "Nature",
        "Physics",
        "Social Sciences",
    ),
    "Society & Culture": ("Documentary", "Personal Journals", "Philosophy", "Places & Travel", "Relationships"),
    "Sports": (
        "Baseball",
        "Basketball",
        "Cricket",
        "Fantasy Sports",
        "Football",
        "Golf",
        "Hockey",
        "Rugby",
        "Running",
        "Soccer",
        "Swimming",
        "Tennis",
        "Volleyball",
        "Wilderness",
        "Wrestling",
    ),
    "Technology": (),
    "True Crime": (),
    "TV & Film": ("After Shows", "Film History", "Film Interviews", "Film Reviews", "TV Reviews"),
}


def parse_category(text: str) -> list[str | None]:
    """'News > Tech News' or 'Technology' -> [category, subcategory or None], checked against Apple's list."""
    parts = [p.strip() for p in text.split(">")]
    if len(parts) > 2 or not parts[0]:
        raise ValidationError(_("category %(text)s: write 'Category' or 'Category > Subcategory'", text=repr(text)))
    category, sub = parts[0], (parts[1] if len(parts) == 2 else None)
    if category not in APPLE_CATEGORIES:
        raise ValidationError(_("category %(category)s is not in Apple's list", category=repr(category)))
    if sub is not None and sub not in APPLE_CATEGORIES[category]:
        raise ValidationError(
            _("%(sub)s is not a subcategory of %(category)s in Apple's list", sub=repr(sub), category=repr(category))
        )
    return [category, sub]


def format_category(pair: list[str | None]) -> str:
    """The stored [category, subcategory] pair written back as 'Category > Subcategory'."""
    category, sub = pair
    return f"{category} > {sub}" if sub else str(category)


# Categories Apple retired in its 2019 revision, as older feeds still declare them, with the current
# category each became ("Category" or "Category > Subcategory" of a retired parent; a retired parent
# alone maps to its successor). Imports map them and say so.
RETIRED_CATEGORIES: dict[str, str] = {
    "Arts > Literature": "Arts > Books",
    "Business > Business News": "News > Business News",
    "Business > Management & Marketing": "Business > Management",
    "Business > Shopping": "Leisure",
    "Education > Educational Technology": "Education",
    "Education > Higher Education": "Education",
    "Education > K-12": "Education",
    "Education > Language Courses": "Education > Language Learning",
    "Education > Training": "Education > How To",
    "Games & Hobbies": "Leisure",
    "Games & Hobbies > Automotive": "Leisure > Automotive",
    "Games & Hobbies > Aviation": "Leisure > Aviation",
    "Games & Hobbies > Hobbies": "Leisure > Hobbies",
    "Games & Hobbies > Other Games": "Leisure > Games",
    "Games & Hobbies > Video Games": "Leisure > Video Games",
    "Government & Organizations": "Government",
    "Government & Organizations > Local": "Government",
    "Government & Organizations > National": "Government",
    "Government & Organizations > Non-Profit": "Business > Non-Profit",
    "Government & Organizations > Regional": "Government",
    "Health": "Health & Fitness",
    "Health > Alternative Health": "Health & Fitness > Alternative Health",
    "Health > Fitness & Nutrition": "Health & Fitness > Fitness",
    "Health > Self-Help": "Education > Self-Improvement",
    "Health > Sexuality": "Health & Fitness > Sexuality",
    "News & Politics": "News",
    "Religion & Spirituality > Other": "Religion & Spirituality",
    "Science & Medicine": "Science",
    "Science & Medicine > Medicine": "Health & Fitness > Medicine",
    "Science & Medicine > Natural Sciences": "Science > Natural Sciences",
    "Science & Medicine > Social Sciences": "Science > Social Sciences",
    "Society & Culture > History": "History",
    "Sports & Recreation": "Sports",
    "Sports & Recreation > Amateur": "Sports",
    "Sports & Recreation > College & High School": "Sports",
    "Sports & Recreation > Outdoor": "Sports > Wilderness",
    "Sports & Recreation > Professional": "Sports",
    "Technology > Gadgets": "Technology",
    "Technology > Podcasting": "Technology",
    "Technology > Software How-To": "Technology",
    "Technology > Tech News": "News > Tech News",
}
