"""Requests from data-centre address ranges (servers, not listeners), when a list is configured.

`analytics_datacenter_ranges` names a file of CIDR blocks, one a line (`#`
starts a comment), such as a cloud provider's published ranges. None is
shipped: such lists change weekly and their licences vary.
"""

from __future__ import annotations

import bisect
import ipaddress
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Datacenters:
    # Per IP version, sorted (first, last) integer bounds of the blocks, merged where they overlap.
    ranges: dict[int, tuple[list[int], list[int]]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: str) -> Datacenters:
        if not path:
            return cls()
        blocks: dict[int, list[tuple[int, int]]] = {4: [], 6: []}
        for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
            text = line.split("#", 1)[0].strip()
            if not text:
                continue
            try:
                net = ipaddress.ip_network(text, strict=False)
            except ValueError:
                raise ValueError(f"{path}, line {number}: {text!r} is not an address block") from None
            blocks[net.version].append((int(net.network_address), int(net.broadcast_address)))
        ranges = {}
        for version, spans in blocks.items():
            merged: list[list[int]] = []
            for first, last in sorted(spans):
                if merged and first <= merged[-1][1] + 1:
                    merged[-1][1] = max(merged[-1][1], last)
                else:
                    merged.append([first, last])
            ranges[version] = ([m[0] for m in merged], [m[1] for m in merged])
        return cls(ranges)

    def contains(self, address: str) -> bool:
        if not self.ranges:
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        starts, ends = self.ranges.get(ip.version, ([], []))
        i = bisect.bisect_right(starts, int(ip)) - 1
        return i >= 0 and int(ip) <= ends[i]
