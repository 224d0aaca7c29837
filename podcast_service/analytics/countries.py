"""Listeners' countries, only where a local GeoIP database is configured (none is shipped).

`analytics_geoip_database` names a MaxMind DB file (GeoLite2 Country or
City, DB-IP's free country database...), read with `maxminddb`: the lookup
happens in the request, and only the two-letter country code is kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import maxminddb


@dataclass
class Countries:
    reader: Any = None

    @classmethod
    def load(cls, path: str) -> Countries:
        return cls(maxminddb.open_database(path) if path else None)

    def of(self, address: str) -> str:
        """The ISO 3166 code of the address's country; '' when unknown or when no database is configured."""
        if self.reader is None:
            return ""
        try:
            found = self.reader.get(address)
        except ValueError:  # not an address
            return ""
        country = (found or {}).get("country") or (found or {}).get("registered_country") or {}
        code = country.get("iso_code") if isinstance(country, dict) else None
        return code if isinstance(code, str) and len(code) == 2 else ""
