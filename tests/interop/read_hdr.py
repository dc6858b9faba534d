#!/usr/bin/env python3
"""Read a probebench run directory back with the HdrHistogram Python package (PyPI
`hdrhistogram`), independently of probebench's Rust code, and print what it finds as JSON
on stdout for tests/hdr_interop.rs to compare:

  - every interval of every `intervals.hlog` (HistogramLogReader, V2 payloads decoded by
    HdrHistogram.decode): per tag, the count of each interval, the merged histogram's
    recorded (value, count) pairs, total count, max and percentiles;
  - every `.hgrm` file checked row by row against the Python package's merged histogram
    of the same tag: the row's TotalCount must be the package's count of values at or
    below the row's value, and the package's value at the row's percentile must not lie
    beyond it. (The package's own output_percentile_distribution steps its percentile
    levels differently from Java's and Rust's iterator, so its rows are not compared line
    for line; its rank rule also differs — it rounds p·N half up where Java and Rust take
    the ceiling — which the Rust side accounts for.)

Usage: read_hdr.py RUN_DIR   (exit 2: bad usage or no summary.json; 3: hdrh not installed)
"""

import json
import os
import sys

try:
    from hdrh.histogram import HdrHistogram
    from hdrh.log import HistogramLogReader
except ImportError:
    print("hdrhistogram (PyPI) is not installed: pip install hdrhistogram", file=sys.stderr)
    sys.exit(3)

# The bounds probebench records with: 1 ns to one hour, 3 significant digits.
LOWEST, HIGHEST, SIGFIG = 1, 3_600_000_000_000, 3
PERCENTILES = [50.0, 90.0, 99.0, 99.9, 100.0]


def parse_hgrm_rows(text):
    """[value, percentile, total count] of each data row of `.hgrm` text."""
    rows = []
    for line in text.splitlines():
        f = line.split()
        if len(f) in (3, 4) and not line.lstrip().startswith(("#", "Value")):
            rows.append([float(f[0]), float(f[1]), int(f[2])])
    return rows


def recorded(h):
    """(value, count) of every non-empty bucket, values as the bucket's lowest value."""
    out = []
    for index in range(h.counts_len):
        c = h.get_count_at_index(index)
        if c:
            out.append([h.get_value_from_index(index), c])
    return out


def count_at_or_below(h, value):
    total = 0
    for index in range(h.counts_len):
        if h.get_value_from_index(index) > value:
            break
        total += h.get_count_at_index(index)
    return total


def check_hgrm_rows(rows, h):
    """Rows of a .hgrm (values in µs) that the package's histogram `h` (ns) disagrees with."""
    bad = []
    n = h.get_total_count()
    for value_us, quantile, total_count in rows:
        value_ns = round(value_us * 1000)
        have = count_at_or_below(h, value_ns)
        if have != total_count:
            bad.append(f"value {value_us}: TotalCount {total_count}, the package counts {have}")
        elif n and total_count < quantile * n - 1e-9:
            bad.append(f"value {value_us}: TotalCount {total_count} does not reach percentile {quantile}")
        elif quantile < 1.0 and h.get_value_at_percentile(quantile * 100.0) > value_ns:
            bad.append(f"value {value_us}: the package puts percentile {quantile} beyond it")
    return bad


def read_hlog(path):
    reader = HistogramLogReader(path, HdrHistogram(LOWEST, HIGHEST, SIGFIG))
    tags = {}
    while True:
        h = reader.get_next_interval_histogram()
        if h is None:
            break
        tag = h.get_tag()
        t = tags.setdefault(tag, {"interval_counts": [], "merged": HdrHistogram(LOWEST, HIGHEST, SIGFIG)})
        t["interval_counts"].append(h.get_total_count())
        t["merged"].add(h)
    reader.close()
    return tags


def version():
    try:
        from importlib.metadata import version as v  # pylint: disable=import-outside-toplevel
        return v("hdrhistogram")
    except Exception:  # pylint: disable=broad-except
        return "unknown"


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    run = sys.argv[1]
    try:
        with open(os.path.join(run, "summary.json"), encoding="utf-8") as f:
            summary = json.load(f)
    except OSError as e:
        print(f"{run}: not a run directory: {e}", file=sys.stderr)
        sys.exit(2)
    multi = len(summary["phases"]) > 1
    out = {"hdrh_version": version(), "phases": [], "hgrm": {}}
    for phase in summary["phases"]:
        prefix = phase["name"] + "." if multi else ""
        hlog = os.path.join(run, prefix + "intervals.hlog")
        if not os.path.exists(hlog):
            continue
        tags = read_hlog(hlog)
        entry = {"name": phase["name"], "hlog": os.path.basename(hlog), "tags": {}}
        for tag, t in sorted(tags.items()):
            m = t["merged"]
            entry["tags"][tag] = {
                "interval_counts": t["interval_counts"],
                "total_count": m.get_total_count(),
                "max": m.get_max_value(),
                "percentiles": {str(p): m.get_value_at_percentile(p) for p in PERCENTILES},
                "recorded": recorded(m),
            }
            hgrm = os.path.join(run, f"{prefix}{tag}.hgrm")
            if os.path.exists(hgrm):
                with open(hgrm, encoding="utf-8") as f:
                    rows = parse_hgrm_rows(f.read())
                out["hgrm"][os.path.basename(hgrm)] = {
                    "tag": tag,
                    "phase": phase["name"],
                    "rows": len(rows),
                    "file_total_count": rows[-1][2] if rows else 0,
                    "python_total_count": m.get_total_count(),
                    "mismatches": check_hgrm_rows(rows, m),
                }
        out["phases"].append(entry)
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
