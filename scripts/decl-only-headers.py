#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""
decl-only-headers.py PATCH...: the headers that PATCHes change only by
adding function declarations, one path a line.

A declaration of a function no object calls changes no object's code, so
an object built against the header before such a change is the object it
would be after.  scripts/variant-tree.sh keeps such a header's stock
modification time, and make does not rebuild the hundreds of objects that
include it (include/linux/memremap.h: half the kernel).  A header with any
other change (a removed line, a macro, a type, an inline function, a
changed declaration) is not printed, and make rebuilds its users as ever.
"""

import re
import sys

# "void f(struct a *a,", "		int b);", "extern int g(void);": a declaration
# of a function, on one line or several; nothing with a body or a macro.
DECL_START = re.compile(r'^(extern\s+)?[A-Za-z_][\w\s\*]*\b[A-Za-z_]\w*\s*\(')
DECL_END = re.compile(r'\)\s*;\s*$')


def decl_only(added, removed):
    """Are the added lines declarations and nothing removed?"""
    if removed:
        return False
    in_decl = False
    for line in added:
        text = line.strip()
        if not text:
            continue
        if not in_decl:
            if text.startswith('#') or '{' in text or not DECL_START.match(text):
                return False
            in_decl = True
        elif '{' in text or text.startswith('#'):
            return False
        if DECL_END.search(text):
            in_decl = False
    return not in_decl


def main():
    changes = {}
    for name in sys.argv[1:]:
        path = None
        with open(name, encoding='utf-8', errors='replace') as f:
            for line in f:
                if line == '-- \n':
                    path = None		# format-patch's signature
                elif line.startswith('diff --git '):
                    path = line.split()[-1][2:]
                    changes.setdefault(path, ([], []))
                elif path is None or line.startswith(('+++', '---')):
                    continue
                elif line.startswith('+'):
                    changes[path][0].append(line[1:])
                elif line.startswith('-'):
                    changes[path][1].append(line[1:])
    for path, (added, removed) in sorted(changes.items()):
        if path.endswith('.h') and decl_only(added, removed):
            print(path)


if __name__ == '__main__':
    main()
