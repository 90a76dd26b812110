#!/usr/bin/env python3
"""Count a C/C++ function's lines as a reader would: the lines from its
signature to its closing brace that are neither blank nor only a comment
(// or /* */ lines; a code line with a trailing comment counts).
Usage: issue17_loc.py FILE FUNCTION..."""
import re
import sys


def count(text, fn):
    m = re.search(r'^[^\n;{}]*\b' + re.escape(fn) + r'\s*\([^;{]*\)\s*\n\{', text, re.M)
    if m is None:
        return None
    lines, depth, n, in_comment = text[m.start():].split('\n'), 0, 0, False
    for line in lines:
        s = line.strip()
        if in_comment:
            in_comment = '*/' not in s
            continue
        if s.startswith('/*'):
            in_comment = '*/' not in s
            continue
        if s == '' or s.startswith('//'):
            continue
        n += 1
        depth += s.count('{') - s.count('}')
        if depth == 0 and '}' in s:
            return n
    return None


text = open(sys.argv[1]).read()
for fn in sys.argv[2:]:
    print(f'{fn}: {count(text, fn)}')
