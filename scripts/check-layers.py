#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""
check-layers.py [--objects DIR]: the driver's files depend on one another in
one direction only.

The order of the layers is the order of the objects in `vramsim-y :=` of
drivers/gpu/drm/vramsim/Makefile, bottom first.  Each of them is a layer,
and a file of a layer may include the headers of, and call, only the layers
below it or itself:

  - includes: every `#include "vramsim_*.h"` of drivers/gpu/drm/vramsim/*.[ch].
    vramsim_X.h belongs to the layer of vramsim_X.c.  A header without a .c
    of its own (vramsim_trace.h, vramsim_device.h) holds types or
    tracepoints, no layer: its includes count as those of every file that
    includes it.
  - calls and data (--objects DIR, a directory the driver was built in):
    `nm` of each vramsim_X.o; every symbol it leaves undefined that another
    of the driver's objects defines must be defined below it.  This sees
    what the preprocessor made of the sources (inline functions, macros,
    configuration), which reading the sources would not.

Also: every .c is an object of the Makefile, and exactly one defines the
tracepoints (CREATE_TRACE_POINTS).

Prints nothing and exits 0 if all holds; else says what does not, exit 1.
"""

import os
import re
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DRIVER = os.path.join(REPO, 'drivers/gpu/drm/vramsim')
INCLUDE = re.compile(r'^\s*#\s*include\s+"(vramsim_\w+\.h)"', re.M)
SYMBOL = re.compile(r'^\s*(?:[0-9a-fA-F]+\s+)?([A-Za-z])\s+(\S+)$')

problems = []


def layers():
    """The objects of vramsim-y, bottom first, as names without .o."""
    with open(os.path.join(DRIVER, 'Makefile')) as f:
        text = f.read()
    m = re.search(r'^vramsim-y\s*:=((?:.*\\\n)*.*)$', text, re.M)
    if not m:
        sys.exit('check-layers: no vramsim-y in %s/Makefile' % DRIVER)
    objs = m.group(1).replace('\\\n', ' ').split()
    return [o[:-2] for o in objs if o.endswith('.o')]


def read(name):
    with open(os.path.join(DRIVER, name)) as f:
        return f.read()


def includes(name):
    return INCLUDE.findall(read(name))


def effective_includes(name, layer_of, seen=None):
    """The headers of a layer that @name includes, through headers of none."""
    seen = set() if seen is None else seen
    out = []
    for h in includes(name):
        if h in seen:
            continue
        seen.add(h)
        if not os.path.exists(os.path.join(DRIVER, h)):
            problems.append('%s includes %s, which does not exist' % (name, h))
        elif h[:-2] in layer_of:
            out.append(h)
        else:
            out.extend(effective_includes(h, layer_of, seen))
    return out


def check_includes(order):
    layer_of = {name: i for i, name in enumerate(order)}
    names = sorted(n for n in os.listdir(DRIVER) if n.endswith(('.c', '.h')))
    for n in names:
        if n.endswith('.c') and n[:-2] not in layer_of:
            problems.append('%s is not an object of vramsim-y in the Makefile' % n)
    for n in names:
        base = n[:-2]
        if base not in layer_of:
            continue
        for h in effective_includes(n, layer_of):
            if layer_of[h[:-2]] > layer_of[base]:
                problems.append('%s includes %s, of a layer above it (%s)'
                                % (n, h, h[:-2] + '.o'))
    trace = [n for n in names if n.endswith('.c') and
             re.search(r'^\s*#\s*define\s+CREATE_TRACE_POINTS\b', read(n), re.M)]
    if len(trace) != 1:
        problems.append('CREATE_TRACE_POINTS is defined in %d files (%s), not one'
                        % (len(trace), ', '.join(trace) or 'none'))


def nm(path):
    """(defined, undefined): the global symbols of an object."""
    out = subprocess.run(['nm', path], capture_output=True, text=True,
                         check=True).stdout
    defined, undefined = set(), set()
    for line in out.splitlines():
        m = SYMBOL.match(line)
        if not m:
            continue
        kind, sym = m.groups()
        if kind == 'U':
            undefined.add(sym)
        elif kind.isupper() and kind not in 'WVA':
            # Weak and absolute symbols (kCFI's type ids, for one) may be
            # in several objects: only strong definitions place a symbol.
            defined.add(sym)
    return defined, undefined


def check_symbols(order, objdir):
    defs, undefs = {}, {}
    for name in order:
        path = os.path.join(objdir, name + '.o')
        if not os.path.exists(path):
            problems.append('%s: not built' % path)
            return
        defs[name], undefs[name] = nm(path)
    owner = {}
    for name in order:
        for sym in defs[name]:
            if sym in owner:
                problems.append('%s is defined in %s.o and %s.o'
                                % (sym, owner[sym], name))
            owner.setdefault(sym, name)
    layer_of = {name: i for i, name in enumerate(order)}
    for name in order:
        for sym in sorted(undefs[name]):
            o = owner.get(sym)
            if o is not None and layer_of[o] > layer_of[name]:
                problems.append('%s.o uses %s of %s.o, a layer above it'
                                % (name, sym, o))


def main():
    args = sys.argv[1:]
    objdir = None
    if args[:1] == ['--objects'] and len(args) == 2:
        objdir = args[1]
    elif args:
        sys.exit('usage: check-layers.py [--objects DIR]')
    order = layers()
    check_includes(order)
    if objdir:
        check_symbols(order, objdir)
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
