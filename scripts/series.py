#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""
make patches: vramsim as a patch series against Linux 7.3, in upstream
layout, written by git format-patch into build/patches/.

The series is built in a git repository, build/series/linux, whose first
commit is Debian's linux-source-7.3 tree as it comes (v7.3.x: see
docs/patches.md), tagged "base".  Each run resets the branch to it and
commits, in order:

  1 mm/huge_memory zap fix               patches/0001-*.patch
  2 mm/huge_memory migration entry fix   patches/0002-*.patch
  3 mm/migrate_device anon_vma fix       patches/0003-*.patch
  4 mm/migrate_device by-pfn THP split   patches/0004-*.patch
  5 mm/hmm device-private PMD pfns       patches/0005-*.patch
  6 mm/hmm other owner's PMD not error   patches/0006-*.patch
  7 drm/vramsim: the driver              drivers/gpu/drm/vramsim with its
                                         KUnit tests, uapi, Kconfig and
                                         Makefile hooks, docs, MAINTAINERS
  8 selftests/drivers/gpu/vramsim        tools/testing/vramsim's suites
  9 mm/memremap init fix                 patches/variants/fix/0001 and
                                         the reproducer's expectation
 10 mm/migrate_device walk fix           .../fix/0002 and the reproducer's
 11 mm/memremap zone_device_folio_reset  .../fix/0003
 12 drm/vramsim: use it                  the driver's own reset goes

The DRM core fixes in patches/drm/ are not part of it: each is formatted
on the base alone, into build/patches/drm/, to be posted to dri-devel on
its own.  So are test_hmm's fixes and hmm-tests' reproducers in
patches/hmm/ (build/patches/hmm/), a series of their own for linux-mm.

Author and Signed-off-by of every patch are the identity of whoever runs
it (git config user.name, user.email): it stops without one.

The driver is this repository's, turned into in-tree form: the
Makefile's conftests go, and the compile-time adaptations to the kernel
(#ifdef VRAMSIM_...) are resolved for what the kernel is at that point
of the series.  Commit messages not taken from a queue patch are in
patches/series/.

Usage: series.py REPO
"""

import os
import re
import shutil
import subprocess
import sys

REPO = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else '.')
BUILD = os.path.join(REPO, 'build')
WORK = os.path.join(BUILD, 'series')
TREE = os.path.join(WORK, 'linux')
OUT = os.path.join(BUILD, 'patches')
SERIES = os.path.join(REPO, 'patches', 'series')

# The queue patches' own sign-off, which the series replaces by that of
# whoever runs it: a Signed-off-by is a person's, and only theirs to give.
PLACEHOLDER = 'vramsim developers <vramsim@localhost>'


def identity():
    """git config user.name and user.email of the repository, or stop."""
    vals = []
    for key in ('user.name', 'user.email'):
        r = subprocess.run(['git', 'config', key], cwd=REPO, capture_output=True,
                           text=True)
        vals.append(r.stdout.strip())
    if not all(vals) or vals[1] == 'vramsim@localhost':
        die('the series is signed off by you: set git config user.name and '
            'user.email (your real name and address; see '
            'Documentation/process/submitting-patches.rst, "Sign your work")')
    return vals


AUTHOR, EMAIL = None, None
# Fixed, so that the series is the same file for file on every run.
DATE = '2026-11-27T00:00:00+00:00'

# What the kernel does with a freed device folio, at each point of the
# series: the macros the out-of-tree Makefile's conftests would define.
# VRAMSIM_PFN_SPLIT (patches/0004) is there from before the driver on.
STATE_MACROS = [
    {'VRAMSIM_PFN_SPLIT'},
    {'VRAMSIM_PFN_SPLIT', 'VRAMSIM_INIT_RESETS'},
    {'VRAMSIM_PFN_SPLIT', 'VRAMSIM_INIT_RESETS', 'VRAMSIM_WALK_HELD'},
    {'VRAMSIM_PFN_SPLIT', 'VRAMSIM_INIT_RESETS', 'VRAMSIM_WALK_HELD',
     'VRAMSIM_FOLIO_RESET'},
]
ALL_MACROS = {'VRAMSIM_CORE_PREPARES', 'VRAMSIM_INIT_RESETS', 'VRAMSIM_WALK_HELD',
              'VRAMSIM_FOLIO_RESET', 'VRAMSIM_SOURCES_UNKNOWN', 'VRAMSIM_PFN_SPLIT'}

# The selftests: the kselftest-harness suites of tools/testing/vramsim.
SELFTESTS = ['vramsim_migrate_test', 'vramsim_mm_test', 'vramsim_race_test',
             'vramsim_evict_test', 'vramsim_peer_test', 'vramsim_fault_test']


def die(msg):
    sys.stderr.write('series: %s\n' % msg)
    sys.exit(1)


def run(*args, cwd=TREE, **kw):
    env = dict(os.environ,
               GIT_AUTHOR_NAME=AUTHOR, GIT_AUTHOR_EMAIL=EMAIL, GIT_AUTHOR_DATE=DATE,
               GIT_COMMITTER_NAME=AUTHOR, GIT_COMMITTER_EMAIL=EMAIL,
               GIT_COMMITTER_DATE=DATE)
    return subprocess.run(args, cwd=cwd, env=env, check=True, **kw)


def git(*args, **kw):
    return run('git', '-c', 'core.autocrlf=false', *args, **kw)


def unifdef(text, defined):
    """Resolve #ifdef/#ifndef/#else/#endif of the VRAMSIM_ macros."""
    out = []
    # Stack of (macro or None, keeping this branch?) per open conditional.
    stack = []

    def live():
        return all(keep for _, keep in stack)

    for line in text.splitlines(keepends=True):
        m = re.match(r'#\s*(ifdef|ifndef)\s+(\w+)\s*$', line)
        if m and m.group(2) in ALL_MACROS:
            want = (m.group(2) in defined) == (m.group(1) == 'ifdef')
            stack.append((m.group(2), want))
            continue
        if re.match(r'#\s*if', line):
            stack.append((None, True))
        elif re.match(r'#\s*else', line) and stack and stack[-1][0]:
            stack[-1] = (stack[-1][0], not stack[-1][1])
            continue
        elif re.match(r'#\s*endif', line) and stack:
            macro, _ = stack.pop()
            if macro:
                continue
        if live():
            out.append(line)
    if stack:
        die('unbalanced conditionals')
    return ''.join(out)


# Words of this repository the series has no use for: its make variables
# and documents.  Each pattern must match where listed, so that a change
# to the driver's comments shows here rather than in the series.
REWRITES = [
    ('vramsim_vram.h', re.compile(
        r'/\*\n \* What the kernel vramsim is built against does.*?\*/\n', re.S),
     '/*\n'
     ' * What the kernel does with a freed device folio, for the policies and\n'
     ' * the KUnit reproducers:\n'
     ' *  VRAMSIM_HAS_CORE_PREPARE: the core resets it before ->folio_free,\n'
     ' *\twhich takes the order\n'
     ' *  VRAMSIM_HAS_INIT_RESET: zone_device_page_init() resets every page it\n'
     ' *\thands out as if used for the first time\n'
     ' *  VRAMSIM_HAS_WALK_FIX: migrate_device_range() skips pfns only by the\n'
     ' *\tfolios it holds\n'
     ' */\n'),
    ('*', re.compile(r' \(VARIANT=\w+\)'), ''),
    ('*', re.compile(r'; update docs/debate\.md'), ''),
    ('vramsim_vram.h', re.compile(r'\(the placements of docs/debate\.md\)'),
     '(Documentation/gpu/vramsim.rst)'),
    ('vramsim_drv.c', re.compile(r' \(VARIANT=core does\)'), ''),
]


def driver_files():
    """(path in the repository, path in the tree) of the driver's sources."""
    src = os.path.join(REPO, 'drivers/gpu/drm/vramsim')
    files = []
    for root, _, names in os.walk(src):
        for n in sorted(names):
            if n.endswith(('.c', '.h')) or n in ('Kconfig', 'Makefile'):
                p = os.path.join(root, n)
                files.append((p, os.path.relpath(p, REPO)))
    return files


def intree_makefile(text):
    """The driver's Makefile without the out-of-tree block and conftests."""
    start = text.index('# Out-of-tree builds')
    end = text.index('vramsim-y :=')
    return text[:start] + text[end:]


# Which REWRITES matched, over the driver and its tests.
USED = {pat: False for _, pat, _ in REWRITES}


def write_driver(state, tests):
    """Write the driver (tests: its KUnit tests instead) for a state."""
    used = USED
    for path, rel in driver_files():
        in_tests = '/tests/' in rel
        if in_tests != tests:
            continue
        with open(path) as f:
            text = f.read()
        if rel == 'drivers/gpu/drm/vramsim/Makefile':
            text = intree_makefile(text)
        text = unifdef(text, STATE_MACROS[state])
        for name, pat, repl in REWRITES:
            if name in ('*', os.path.basename(rel)):
                text, n = pat.subn(repl, text)
                used[pat] |= n > 0
        for word in ('VARIANT', 'docs/', 'VRAMSIM_SOURCES_UNKNOWN', 'KBUILD_EXTMOD'):
            if word in text:
                die('%s still says %s in the series' % (rel, word))
        dst = os.path.join(TREE, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        with open(dst, 'w') as f:
            f.write(text)


def check_rewrites():
    for name, pat, _ in REWRITES:
        if not USED[pat]:
            die('rewrite %r for %s matched nothing: update scripts/series.py'
                % (pat.pattern[:40], name))


def edit(rel, fn):
    p = os.path.join(TREE, rel)
    with open(p) as f:
        text = f.read()
    new = fn(text)
    if new == text:
        die('%s: nothing changed' % rel)
    with open(p, 'w') as f:
        f.write(new)


def insert_after(text, anchor, line):
    i = text.index(anchor) + len(anchor)
    return text[:i] + line + text[i:]


def maintainers_entry(text):
    """Add the entry in MAINTAINERS' alphabetical order."""
    with open(os.path.join(SERIES, 'MAINTAINERS')) as f:
        entry = f.read()
    title = entry.splitlines()[0]
    # Entries are blocks after the header; each starts with a title line.
    blocks = text.split('\n\n')
    for i, b in enumerate(blocks):
        first = b.split('\n', 1)[0]
        if i > 0 and re.match(r'^[0-9A-Z]', first) and \
                first.startswith('DRM DRIVER') and first > title:
            blocks.insert(i, entry.rstrip('\n'))
            return '\n\n'.join(blocks)
    die('no place for the MAINTAINERS entry')


# Debian's top-level .gitignore ignores every top-level entry ("/*"): new
# files are added by name, with -f.
NEW_PATHS = ['drivers/gpu/drm/vramsim', 'include/uapi/drm/vramsim_drm.h',
             'Documentation/gpu/vramsim.rst',
             'tools/testing/selftests/drivers/gpu/vramsim']


def add_all():
    git('add', '-u')
    git('add', '-f', *[p for p in NEW_PATHS if os.path.exists(os.path.join(TREE, p))])


def commit(msgfile):
    add_all()
    git('commit', '-q', '-s', '-F', os.path.join(SERIES, msgfile))


def step_driver():
    # With its KUnit tests: checkpatch asks for a MAINTAINERS update in
    # every patch that adds files, and the entry covers both.
    write_driver(0, tests=False)
    write_driver(0, tests=True)
    shutil.copy(os.path.join(REPO, 'include/uapi/drm/vramsim_drm.h'),
                os.path.join(TREE, 'include/uapi/drm/vramsim_drm.h'))
    shutil.copy(os.path.join(SERIES, 'vramsim.rst'),
                os.path.join(TREE, 'Documentation/gpu/vramsim.rst'))
    edit('drivers/gpu/drm/Kconfig', lambda t: insert_after(
        t, 'source "drivers/gpu/drm/vgem/Kconfig"\n',
        '\nsource "drivers/gpu/drm/vramsim/Kconfig"\n'))
    edit('drivers/gpu/drm/Makefile', lambda t: insert_after(
        t, 'obj-$(CONFIG_DRM_VGEM)\t+= vgem/\n', 'obj-$(CONFIG_DRM_VRAMSIM)\t+= vramsim/\n'))
    edit('Documentation/gpu/drivers.rst', lambda t: insert_after(
        t, '   vkms\n', '   vramsim\n'))
    edit('MAINTAINERS', maintainers_entry)
    commit('0003-drm-vramsim.msg')


def step_selftests():
    src = os.path.join(REPO, 'tools/testing/vramsim')
    dst = os.path.join(TREE, 'tools/testing/selftests/drivers/gpu/vramsim')
    os.makedirs(dst, exist_ok=True)
    for name in [t + '.c' for t in SELFTESTS] + ['vramsim_lib.h']:
        with open(os.path.join(src, name)) as f:
            text = f.read()
        # kselftest builds against the installed uapi headers, <drm/...>.
        text = text.replace('#include "vramsim_drm.h"', '#include <drm/vramsim_drm.h>')
        with open(os.path.join(dst, name), 'w') as f:
            f.write(text)
    for name in ('Makefile', 'config', 'settings', 'vramsim.sh'):
        shutil.copy(os.path.join(SERIES, 'selftests', name), os.path.join(dst, name))
    os.chmod(os.path.join(dst, 'vramsim.sh'), 0o755)
    edit('tools/testing/selftests/Makefile', lambda t: insert_after(
        t, 'TARGETS += drivers/dma-buf\n', 'TARGETS += drivers/gpu/vramsim\n'))
    edit('MAINTAINERS', lambda t: insert_after(
        t, 'F:\tinclude/uapi/drm/vramsim_drm.h\n',
        'F:\ttools/testing/selftests/drivers/gpu/vramsim/\n'))
    commit('0004-selftests-vramsim.msg')


def step_am(patch, state=None):
    """Apply a queue patch; with state, the reproducers expect its fix."""
    git('am', '-q', '--keep-cr', os.path.join(REPO, patch))
    msg = subprocess.run(['git', 'log', '-1', '--format=%B'], cwd=TREE, check=True,
                         capture_output=True, text=True).stdout
    mine = 'Signed-off-by: %s <%s>' % (AUTHOR, EMAIL)
    msg = msg.replace('Signed-off-by: ' + PLACEHOLDER, mine)
    if mine not in msg:
        die('%s has no sign-off line to make yours' % patch)
    run('git', 'commit', '-q', '--amend', '--reset-author', '-F', '-',
        input=msg.encode())
    if state is not None:
        write_driver(state, tests=False)
        write_driver(state, tests=True)
        add_all()
        git('commit', '-q', '--amend', '--no-edit')


def step_state(state, msgfile):
    write_driver(state, tests=False)
    write_driver(state, tests=True)
    commit(msgfile)


def base():
    """build/series/linux: Debian's tree in git, tagged base, made once."""
    if os.path.isdir(os.path.join(TREE, '.git')) and \
            subprocess.run(['git', 'rev-parse', '-q', '--verify', 'refs/tags/base'],
                           cwd=TREE, capture_output=True).returncode == 0:
        return
    print('==> Making the series tree %s (once: a git repository of the 7.3 tree)' % TREE)
    shutil.rmtree(TREE, ignore_errors=True)
    run(os.path.join(REPO, 'scripts/fetch-kernel.sh'), TREE, cwd=REPO)
    git('init', '-q')
    git('add', '-A', '-f')
    ver = subprocess.run(['make', '-s', 'kernelversion'], cwd=TREE, check=True,
                         capture_output=True, text=True).stdout.strip()
    git('commit', '-q', '-m', 'Linux %s (Debian linux-source-7.3)' % ver)
    git('tag', 'base')


def main():
    global AUTHOR, EMAIL
    AUTHOR, EMAIL = identity()
    os.makedirs(WORK, exist_ok=True)
    base()
    git('checkout', '-q', '-f', '-B', 'vramsim', 'base')
    git('clean', '-q', '-f', '-d', '-x')
    # The mm patches every kernel vramsim builds carries.
    mm_fixes = sorted(p for p in os.listdir(os.path.join(REPO, 'patches'))
                      if p.endswith('.patch'))
    if len(mm_fixes) != 6:
        die('patches/ holds %d patches; the series knows 6' % len(mm_fixes))
    for p in mm_fixes:
        step_am('patches/' + p)
    step_driver()
    step_selftests()
    fix = 'patches/variants/fix/'
    queue = sorted(os.listdir(os.path.join(REPO, fix)))
    if len(queue) != 3:
        die('patches/variants/fix holds %d patches; the series knows 3' % len(queue))
    step_am(fix + queue[0], state=1)
    step_am(fix + queue[1], state=2)
    step_am(fix + queue[2])
    step_state(3, '0008-drm-vramsim-reset.msg')
    check_rewrites()

    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    git('format-patch', '-q', '--cover-letter', '--base=base', '-o', OUT, 'base..vramsim')
    # The cover letter's subject and blurb.
    cover = os.path.join(OUT, '0000-cover-letter.patch')
    with open(cover) as f:
        text = f.read()
    with open(os.path.join(SERIES, '0000-cover-letter.txt')) as f:
        subject, blurb = f.read().split('\n\n', 1)
    text = text.replace('*** SUBJECT HERE ***', subject.strip())
    text = text.replace('*** BLURB HERE ***', blurb.rstrip('\n'))
    with open(cover, 'w') as f:
        f.write(text)
    n = len([p for p in os.listdir(OUT) if p.endswith('.patch')]) - 1
    print('==> %d patches and a cover letter in %s' % (n, OUT))
    n = post_alone('drm')
    if n:
        print('==> %d DRM core fix(es), each to post on its own, in %s/drm' % (n, OUT))
    n = post_alone('hmm')
    if n:
        print('==> %d test_hmm/hmm-tests patch(es), a series of their own for linux-mm, '
              'in %s/hmm' % (n, OUT))


def post_alone(name):
    """
    A queue posted on its own, patches/<name>/*.patch, on the base alone,
    signed off: the DRM core fixes (drm), test_hmm's fixes and hmm-tests'
    reproducers (hmm, patches/hmm/README).
    """
    fixes = sorted(p for p in os.listdir(os.path.join(REPO, 'patches', name))
                   if p.endswith('.patch'))
    if not fixes:
        return 0
    git('checkout', '-q', '-f', '-B', name + '-queue', 'base')
    for p in fixes:
        step_am('patches/%s/%s' % (name, p))
    git('format-patch', '-q', '--base=base', '-o', os.path.join(OUT, name),
        'base..%s-queue' % name)
    git('checkout', '-q', '-f', 'vramsim')
    return len(fixes)


if __name__ == '__main__':
    main()
