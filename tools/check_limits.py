#!/usr/bin/env python3
"""Checks that every named limit in src/ is documented in protocol/SPEC.md with the code's value.

Issue 9: "Every limit gets a named constant and a line in the limits table of protocol/SPEC.md."
This script is that rule's test (ctest `check_limits`).

What counts as a limit constant (the rule, applied to names declared `constexpr` in src/**/*.h and
src/**/*.cpp, namespace scope or not):
  * a name with MAX_ at its start or after an underscore: MAX_FRAME_BYTES, DEFAULT_MAX_INBOUND,
    DEFAULT_MEMPOOL_MAX_TXS, DEFAULT_RECONNECT_MAX_MS, MAX_CONTROL_MESSAGES_BURST;
  * a DEFAULT_ name ending in _TIMEOUT_MS (how long a peer or client may take);
  * a DEFAULT_ name ending in _BYTES (a buffer or queue size).
Other constants (DEFAULT_PORT, DEFAULT_PING_INTERVAL_MS, BAN_SCORE, ...) may be documented too;
when they are, their names and values are checked the same way.

Where a constant is documented:
  * a row of the table in SPEC §13 "Limits" whose first cell is exactly `NAME` and whose second
    cell is the value;
  * or, for the rate limits that SPEC §12 "Misbehaviour and bans" keeps next to the rules they
    serve, a mention in §12 of the form "`NAME` VALUE", "`NAME` (VALUE)" or "VALUE (`NAME`)".

Checks, each a failure:
  1. a limit constant of src/ is documented nowhere;
  2. a documented name is declared nowhere in src/;
  3. a documented value differs from the code's value, where the code's value is a literal
     expression this script can evaluate (integers, floats, + - * / << >>, other constants,
     std::uint64_t{1}-style casts; digit separators and u/l suffixes dropped). Values the script
     cannot evaluate (MAGIC's byte array, strings) are only checked for presence;
  4. a documented value the script cannot read.
A value in SPEC is read from the start of its cell: a number with optional thin-space thousands
groups ("16 384"), optionally followed by KiB, MiB or GiB, or 2^N with an optional "− M"; text
after it ("per peer", "(canonical JSON)") is commentary. Units are those of the constant's name
(_MS milliseconds, _BYTES bytes, _SECONDS seconds).

Usage: tools/check_limits.py [--list] [REPO_ROOT]   (default root: the repository holding this
script; --list prints every value that was checked and found equal)
Exit status 0 when everything matches, 1 otherwise (each problem printed on its own line).
"""

import ast
import os
import re
import sys

LIMIT_NAME = re.compile(r"(^|_)MAX_|^DEFAULT_\w*_TIMEOUT_MS$|^DEFAULT_\w*_BYTES$")

# `constexpr <type> NAME = value;` or `constexpr <type> NAME{value};`. Arrays (NAME[]) and
# lowercase names are not constants in the style of the code base.
DECLARATION = re.compile(r"\bconstexpr\b[^;=(){}]*?\b([A-Z][A-Z0-9_]+)\s*(=|\{)")

UNITS = {"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}
NUMBER = r"\d{1,3}(?: \d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
SPEC_VALUE = re.compile(
    r"^\s*(?:(?P<pow>2\^(?P<exp>\d+))(?:\s*[−-]\s*(?P<minus>\d+))?"
    r"|(?P<num>" + NUMBER + r")(?:\s*(?P<unit>KiB|MiB|GiB)\b)?)"
)


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def declaration_value(text, start, opener):
    """The initializer text from `start` (just after '=' or '{') to the end of the declaration."""
    depth = 0
    for i in range(start, len(text)):
        c = text[i]
        if c in "([{":
            depth += 1
        elif c in ")]}":
            if depth == 0:
                return text[start:i]  # the closing brace of NAME{value}
            depth -= 1
        elif c == ";" and depth == 0:
            return text[start:i]
    return text[start:]


def read_constants(src_dir):
    """{name: [(path, line, initializer text)]} for every constexpr constant in src_dir."""
    constants = {}
    for root, _, files in sorted(os.walk(src_dir)):
        for name in sorted(files):
            if not name.endswith((".h", ".cpp")):
                continue
            path = os.path.join(root, name)
            with open(path, encoding="utf-8") as f:
                text = strip_comments(f.read())
            for match in DECLARATION.finditer(text):
                value = declaration_value(text, match.end(), match.group(2)).strip()
                line = text.count("\n", 0, match.start()) + 1
                constants.setdefault(match.group(1), []).append((path, line, value))
    return constants


class Unevaluable(Exception):
    pass


def cpp_to_python(expr):
    """A C++ constant expression as Python source, or raise Unevaluable."""
    expr = re.sub(r"(?<=\d)'(?=\d)", "", expr)  # 1'000
    expr = re.sub(r"\bstd::u?int(?:8|16|32|64)_t\{([^{}]*)\}", r"(\1)", expr)
    expr = re.sub(r"\bstd::size_t\{([^{}]*)\}", r"(\1)", expr)
    expr = re.sub(r"\b(\d+(?:\.\d+)?)(?:[uU][lL]{0,2}|[lL]{1,2}[uU]?)\b", r"\1", expr)
    expr = re.sub(r"\b(?:[a-z_]+::)+(?=[A-Z])", "", expr)  # net::MAX_FRAME_BYTES
    if re.search(r"[\"{}\[\]]|::", expr):
        raise Unevaluable(expr)
    return expr


def evaluate(name, constants, seen=()):
    """The numeric value of constant `name`, or raise Unevaluable."""
    if name in seen or name not in constants:
        raise Unevaluable(name)
    source = cpp_to_python(constants[name][0][2])
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as e:
        raise Unevaluable(source) from e

    def walk(node):
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return node.value
        if isinstance(node, ast.Name):
            return evaluate(node.id, constants, seen + (name,))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -walk(node.operand)
        if isinstance(node, ast.BinOp):
            a, b = walk(node.left), walk(node.right)
            ops = {
                ast.Add: lambda: a + b,
                ast.Sub: lambda: a - b,
                ast.Mult: lambda: a * b,
                ast.Div: lambda: a // b if isinstance(a, int) and isinstance(b, int) else a / b,
                ast.LShift: lambda: a << b,
                ast.RShift: lambda: a >> b,
            }
            if type(node.op) in ops:
                return ops[type(node.op)]()
        raise Unevaluable(source)

    return walk(tree)


def spec_number(text):
    """The value a SPEC cell starts with, or None."""
    match = SPEC_VALUE.match(text.replace("`", ""))
    if not match:
        return None
    if match.group("pow"):
        return 2 ** int(match.group("exp")) - int(match.group("minus") or 0)
    number = float(match.group("num").replace(" ", ""))
    number *= UNITS.get(match.group("unit"), 1)
    return int(number) if number.is_integer() else number


def sections(spec):
    """{section number: text} for the level-2 headings "## N. Title"."""
    out = {}
    parts = re.split(r"^## (\d+)\. [^\n]*\n", spec, flags=re.M)
    for i in range(1, len(parts) - 1, 2):
        out[int(parts[i])] = parts[i + 1]
    return out


def documented(spec):
    """[(name, value text or None, where)] for every constant SPEC §13 and §12 document."""
    found = []
    by_number = sections(spec)
    for line in by_number.get(13, "").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.lstrip().startswith("|") and len(cells) >= 2:
            name = re.fullmatch(r"`([A-Z][A-Z0-9_]+)`", cells[0])
            if name:
                found.append((name.group(1), cells[1], "§13 table"))
    rate = by_number.get(12, "")
    for match in re.finditer(r"`([A-Z][A-Z0-9_]+)`\s*\(?\s*((?:" + NUMBER + r")[^|\n`]*)", rate):
        found.append((match.group(1), match.group(2), "§12"))
    for match in re.finditer(r"((?:" + NUMBER + r"))\s*\(`([A-Z][A-Z0-9_]+)`\)", rate):
        found.append((match.group(2), match.group(1), "§12"))
    for line in rate.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.lstrip().startswith("|") and len(cells) == 2:
            name = re.fullmatch(r"`([A-Z][A-Z0-9_]+)`", cells[0])
            if name:
                found.append((name.group(1), cells[1], "§12 table"))
    return found


def check(root):
    constants = read_constants(os.path.join(root, "src"))
    spec_path = os.path.join(root, "protocol", "SPEC.md")
    with open(spec_path, encoding="utf-8") as f:
        docs = documented(f.read())
    problems = []
    documented_names = {name for name, _, _ in docs}

    for name in sorted(constants):
        if LIMIT_NAME.search(name) and name not in documented_names:
            path, line, value = constants[name][0]
            problems.append(
                f"{os.path.relpath(path, root)}:{line}: limit {name} = {value} has no row in the "
                f"limits table of protocol/SPEC.md §13"
            )
    for name in sorted(constants):
        values = {value for _, _, value in constants[name]}
        if (LIMIT_NAME.search(name) or name in documented_names) and len(values) > 1:
            where = ", ".join(f"{os.path.relpath(p, root)}:{n}" for p, n, _ in constants[name])
            problems.append(f"{name} is declared with different values: {where}")

    checked = []
    for name, text, where in docs:
        if name not in constants:
            problems.append(f"protocol/SPEC.md {where}: {name} is not declared in src/")
            continue
        try:
            code_value = evaluate(name, constants)
        except Unevaluable:
            continue  # not a literal (MAGIC's bytes): presence is all that is checked
        spec_value = spec_number(text)
        if spec_value is None:
            problems.append(
                f"protocol/SPEC.md {where}: cannot read a value for {name} from {text!r} "
                f"(the code says {code_value})"
            )
        elif spec_value != code_value:
            path, line, value = constants[name][0]
            problems.append(
                f"protocol/SPEC.md {where}: {name} is {text!r} = {spec_value}, but "
                f"{os.path.relpath(path, root)}:{line} says {value} = {code_value}"
            )
        else:
            checked.append((name, where, text, code_value))
    return problems, len(documented_names), checked


def main(argv):
    args = [a for a in argv[1:] if a != "--list"]
    root = args[0] if args else os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    problems, names, checked = check(root)
    if "--list" in argv:
        for name, where, text, value in checked:
            print(f"ok {name:34s} {where:10s} {text[:40]!r:44s} = {value}")
    for problem in problems:
        print(problem)
    print(
        f"check_limits: {names} documented constants, {len(checked)} documented values equal "
        f"the code's, {len(problems)} problems"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
