#!/usr/bin/env python3
"""Compares gossipchain's canonical JSON writer with python3's json module, file by file.

Issue 9: the canonical JSON writer "must equal what python3 would produce". For every file of the
given directories (or the files given), this reads the file as JSON twice:

  * gossipchain: tests/fuzz/canonical_json_cli (ParseJson, then CanonicalJson and CompactJson);
  * Python: json.loads of the bytes decoded as strict UTF-8 (a leading BOM dropped, as json.loads
    of bytes and Flask's request.get_json drop it), then json.dumps(obj, sort_keys=True) -- the
    tutorial's block hash input: ", " and ": " separators, ensure_ascii -- and the same with
    separators=(",", ":") for Flask's jsonify(sort_keys).

and classifies each file:

  equal            both accept and the bytes are identical (both forms)
  both reject      neither accepts the text
  design           Python accepts and gossipchain refuses, for a reason gossipchain refuses on
                   purpose (the input is named by what Python saw while reading it):
                     duplicate-key        Python keeps the last value; gossipchain refuses, since
                                          a duplicate could hide a field from one of two readers
                     nan-or-infinity      NaN, Infinity, -Infinity literals (not JSON)
                     float-overflow       a number beyond the double range (Python: Infinity)
                     integer-beyond-64-bits  Python keeps big integers exact; a C++ node cannot,
                                          and writing them as floats would change the value
                     lone-surrogate       a \\uD800-\\uDFFF escape without its pair: not Unicode, so
                                          not UTF-8, so nothing a block could carry
                     deeper-than-64       nesting beyond MAX_JSON_DEPTH (src/primitives/json_reader.h)
  MISMATCH         both accept and the bytes differ: a bug in the writer (or the reader)
  UNEXPLAINED      one side accepts and the other refuses for no reason listed above

Exit status 1 when any file is MISMATCH or UNEXPLAINED, else 0. Python's bytes path also decodes
UTF-16/32 and lets UTF-8-encoded surrogates through ("surrogatepass"); gossipchain reads strict
UTF-8 only, so the reference here is the strict UTF-8 reading.

Usage: tools/check_canonical_json.py --cli PATH [--verbose] DIR_OR_FILE...
"""

import argparse
import json
import math
import os
import subprocess
import sys

# Deepest nesting gossipchain's ParseJson accepts (MAX_JSON_DEPTH in src/primitives/json_reader.h).
MAX_JSON_DEPTH = 64
# Files per canonical_json_cli run, far below any argument-length limit.
BATCH_FILES = 500


def python_reading(data):
    """(canonical, compact, flags) as Python reads `data`, or (None, reason, flags)."""
    flags = set()

    def pairs(items):
        if len({key for key, _ in items}) != len(items):
            flags.add("duplicate-key")
        return dict(items)

    def constant(name):
        flags.add("nan-or-infinity")
        return float(name)

    def parse_float(text):
        value = float(text)
        if math.isinf(value):
            flags.add("float-overflow")
        return value

    def parse_int(text):
        value = int(text)
        if not -(2**63) <= value < 2**64:
            flags.add("integer-beyond-64-bits")
        return value

    try:
        text = data.decode("utf-8-sig")
        value = json.loads(
            text,
            object_pairs_hook=pairs,
            parse_constant=constant,
            parse_float=parse_float,
            parse_int=parse_int,
        )
    except UnicodeDecodeError:
        return None, "invalid UTF-8", flags
    except RecursionError:
        return None, "nested deeper than Python's recursion limit", flags
    except ValueError as e:  # JSONDecodeError, or an integer over Python's digit limit
        return None, str(e), flags
    if nesting_depth(value) > MAX_JSON_DEPTH:
        flags.add("deeper-than-64")
    if has_lone_surrogate(value):
        flags.add("lone-surrogate")
    canonical = json.dumps(value, sort_keys=True)
    compact = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return canonical, compact, flags


def nesting_depth(value):
    """Nesting depth in arrays and objects (a scalar is 0), without recursion."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (list, dict)):
            depth += 1
            deepest = max(deepest, depth)
            stack.extend((child, depth) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def has_lone_surrogate(value):
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if any(0xD800 <= ord(c) <= 0xDFFF for c in item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def gossipchain_readings(cli, paths):
    """[(canonical, compact) or (None, error)] for `paths`, in order."""
    out = []
    for start in range(0, len(paths), BATCH_FILES):
        batch = paths[start : start + BATCH_FILES]
        result = subprocess.run([cli, *batch], capture_output=True, check=True)
        lines = result.stdout.decode("ascii").split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        if len(lines) != len(batch):
            raise RuntimeError(f"{cli} printed {len(lines)} lines for {len(batch)} files")
        for line in lines:
            kind, _, rest = line.partition("\t")
            if kind == "ok":
                canonical, _, compact = rest.partition("\t")
                out.append((canonical, compact))
            else:
                out.append((None, json.loads(rest)))
    return out


def input_files(args):
    files = []
    for arg in args:
        if os.path.isdir(arg):
            for root, _, names in sorted(os.walk(arg)):
                files.extend(os.path.join(root, name) for name in sorted(names))
        else:
            files.append(arg)
    return files


def classify(ours, theirs):
    """(class, detail) for one file."""
    our_canonical, our_other = ours
    py_canonical, py_other, flags = theirs
    if our_canonical is not None and py_canonical is not None:
        if (our_canonical, our_other) == (py_canonical, py_other):
            return "equal", ""
        which = "canonical" if our_canonical != py_canonical else "compact"
        ours_text, py_text = (
            (our_canonical, py_canonical) if which == "canonical" else (our_other, py_other)
        )
        at = next((i for i, (a, b) in enumerate(zip(ours_text, py_text)) if a != b), None)
        at = min(len(ours_text), len(py_text)) if at is None else at
        return "MISMATCH", (
            f"{which} differs at byte {at}: ours {ours_text[max(0, at - 20) : at + 40]!r}, "
            f"python {py_text[max(0, at - 20) : at + 40]!r}"
        )
    if our_canonical is None and py_canonical is None:
        return "both reject", ""
    if our_canonical is None:
        if flags:
            return "design", ",".join(sorted(flags))
        return "UNEXPLAINED", f"python accepts, gossipchain refuses: {our_other}"
    return "UNEXPLAINED", f"gossipchain accepts, python refuses: {py_other}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cli", required=True, help="path to canonical_json_cli")
    parser.add_argument("--verbose", action="store_true", help="print every file's class")
    parser.add_argument("inputs", nargs="+", help="corpus directories or files")
    args = parser.parse_args()

    files = input_files(args.inputs)
    ours = gossipchain_readings(args.cli, files)
    counts, design, failures = {}, {}, []
    for path, our_reading in zip(files, ours):
        with open(path, "rb") as f:
            theirs = python_reading(f.read())
        kind, detail = classify(our_reading, theirs)
        counts[kind] = counts.get(kind, 0) + 1
        if kind == "design":
            design[detail] = design.get(detail, 0) + 1
        if kind in ("MISMATCH", "UNEXPLAINED"):
            failures.append(f"{kind} {path}: {detail}")
        elif args.verbose:
            print(f"{kind} {path} {detail}".rstrip())
    for failure in failures:
        print(failure)
    summary = ", ".join(
        f"{counts.get(kind, 0)} {kind}"
        for kind in ("equal", "both reject", "design", "MISMATCH", "UNEXPLAINED")
    )
    print(f"check_canonical_json: {len(files)} files: {summary}")
    for reason, count in sorted(design.items()):
        print(f"  python accepts, gossipchain refuses by design ({reason}): {count}")
    return 1 if failures or not files else 0


if __name__ == "__main__":
    sys.exit(main())
