"""Text that XML 1.0 can carry: the one definition shared by the input rules and the feed builder.

A control character such as U+0001 (common in ID3 tags written by old
tools) cannot appear in an XML 1.0 document at all, escaped or not: lxml
refuses it and the feed would answer 500. Inputs drop such characters
before they are stored; the feed builder drops them again from whatever a
row holds (written by an older version, or straight into the database), so
no stored row can take a feed down.
"""

from __future__ import annotations

import re
from typing import Any

# Everything outside XML 1.0's Char production: C0 controls but tab, LF and CR; surrogates; U+FFFE and U+FFFF.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def clean(text: str) -> str:
    """`text` without the characters XML 1.0 cannot carry."""
    return _NOT_XML.sub("", text)


def clean_all(value: Any) -> Any:
    """`value` with every string in it cleaned, through lists, tuples (named ones too) and dicts."""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return type(value)(*(clean_all(v) for v in value))
    if isinstance(value, (list, tuple)):
        return type(value)(clean_all(v) for v in value)
    if isinstance(value, dict):
        return {clean_all(k): clean_all(v) for k, v in value.items()}
    return value
