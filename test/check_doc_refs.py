#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""References in the tree resolve inside the tree.

  check_doc_refs.py SOURCE_ROOT

Fails (exit 1, one line per problem) when:
- a "<doc>.md#<anchor>" cited anywhere (code comments, tests, docs) names a doc of
  docs/ or an anchor in it that does not exist: an explicit id="..." (the P-... IDs
  of docs/protocol.md) or the GitHub anchor of a heading;
- a relative Markdown link in README.md or docs/*.md points at a missing file;
- an anchor id is defined twice in one doc;
- a pointer to notes outside the repo is left ("facts B.7", "design fact 13",
  "facts file"), or a path of one machine (/work/..., /home/...).

It first checks itself on small trees that must fail, so it cannot pass by
finding nothing.
"""

import os
import re
import sys
import tempfile

TEXT_EXT = (".c", ".h", ".md", ".py", ".sh", ".build", ".txt", ".ini", ".in")
TEXT_NAMES = ("run", "VERSION")
SKIP_DIRS = {".git", "corpus", "__pycache__", "img"}

REF = re.compile(r"([A-Za-z0-9_-]+)\.md#([A-Za-z0-9_-]+)")
LINK = re.compile(r"\]\(([^)\s]+)\)")
EXPLICIT_ID = re.compile(r'id="([^"]+)"')
HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$")
FORBIDDEN = [
    (re.compile(r"\bfacts? [A-G](\.[0-9]+)?(?![A-Za-z])"), "pointer to notes outside the repo"),
    (re.compile(r"design facts? [0-9]", re.I), "pointer to notes outside the repo"),
    (re.compile(r"facts file", re.I), "pointer to notes outside the repo"),
    (re.compile(r"balloon-protocol-facts|release-cost\.md"), "pointer to notes outside the repo"),
    (re.compile(r"(?<![A-Za-z0-9_.])/(work|home)/"), "path of one machine"),
]


def slug(title):
    """GitHub's anchor for a heading."""
    title = re.sub(r"`", "", title).strip().lower()
    title = re.sub(r"[^\w\- ]", "", title)
    return title.replace(" ", "-")


def anchors_of(path):
    ids, dup, seen = set(), [], {}
    in_code = False
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("```"):
                in_code = not in_code
                continue
            for m in EXPLICIT_ID.finditer(line):
                if m.group(1) in ids:
                    dup.append(m.group(1))
                ids.add(m.group(1))
            h = HEADING.match(line)
            if h and not in_code:
                s = slug(h.group(1))
                n = seen.get(s, 0)
                seen[s] = n + 1
                ids.add(s if n == 0 else "%s-%d" % (s, n))
    return ids, dup


def text_files(root):
    for dirpath, dirnames, filenames in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        dirnames[:] = [d for d in dirnames
                       if d not in SKIP_DIRS and not (rel == "." and d.startswith("build"))]
        for name in filenames:
            if name.endswith(TEXT_EXT) or name in TEXT_NAMES:
                yield os.path.join(dirpath, name)


def check(root, self_path=None):
    problems = []
    docs = os.path.join(root, "docs")
    anchors = {}
    for name in sorted(os.listdir(docs)) if os.path.isdir(docs) else []:
        if name.endswith(".md"):
            ids, dup = anchors_of(os.path.join(docs, name))
            anchors[name[:-3]] = ids
            for d in dup:
                problems.append("docs/%s: anchor %s defined twice" % (name, d))
    nrefs = 0
    for path in text_files(root):
        rel = os.path.relpath(path, root)
        try:
            with open(path, encoding="utf-8") as f:
                lines = f.readlines()
        except UnicodeDecodeError:
            continue
        if path == self_path:
            continue
        for no, line in enumerate(lines, 1):
            for m in REF.finditer(line):
                doc, anchor = m.group(1), m.group(2)
                if doc not in anchors:
                    continue	# not one of docs/ (e.g. a file of another project)
                nrefs += 1
                if anchor not in anchors[doc]:
                    problems.append("%s:%d: %s.md#%s: no such anchor in docs/%s.md"
                                    % (rel, no, doc, anchor, doc))
            for rx, what in FORBIDDEN:
                if rx.search(line):
                    problems.append("%s:%d: %s: %s" % (rel, no, what, line.strip()[:80]))
            if rel.endswith(".md") and (rel == "README.md" or rel.startswith("docs" + os.sep)):
                for m in LINK.finditer(line):
                    target = m.group(1)
                    if re.match(r"[a-z]+:", target) or target.startswith("#"):
                        if target.startswith("#") and rel.startswith("docs" + os.sep):
                            doc = os.path.basename(rel)[:-3]
                            if target[1:] not in anchors.get(doc, set()):
                                problems.append("%s:%d: no anchor %s in this page"
                                                % (rel, no, target))
                        continue
                    file_part = target.split("#", 1)[0]
                    full = os.path.normpath(os.path.join(os.path.dirname(path), file_part))
                    if not os.path.exists(full):
                        problems.append("%s:%d: link to missing file %s" % (rel, no, target))
    return problems, nrefs


def make_tree(tmp, protocol, source):
    os.makedirs(os.path.join(tmp, "docs"))
    os.makedirs(os.path.join(tmp, "lib"))
    with open(os.path.join(tmp, "docs", "protocol.md"), "w", encoding="utf-8") as f:
        f.write(protocol)
    with open(os.path.join(tmp, "lib", "x.c"), "w", encoding="utf-8") as f:
        f.write(source)
    return tmp


def self_test():
    good_doc = '# P\n\n<a id="P-one"></a>\n**P-one: a fact.**\n\n## A heading\n'
    cases = [
        (good_doc, "/* (protocol.md#P-one), protocol.md#a-heading */\n", True),
        (good_doc, "/* (protocol.md#P-two) */\n", False),
        (good_doc, "/* QEMU rejects it (facts B.7) */\n", False),
        (good_doc, "/* design fact 13 */\n", False),
        (good_doc, "/* see /work/shared/notes.md */\n", False),
        (good_doc + '<a id="P-one"></a>\n', "/* protocol.md#P-one */\n", False),
    ]
    for i, (doc, src, ok) in enumerate(cases):
        with tempfile.TemporaryDirectory() as tmp:
            problems, nrefs = check(make_tree(tmp, doc, src))
            if (not problems) != ok or (ok and nrefs == 0):
                print("check-doc-refs: self-test case %d %s" %
                      (i, "failed on a good tree" if ok else "passed a bad tree"))
                return False
    return True


def main():
    if len(sys.argv) != 2:
        print("usage: check_doc_refs.py SOURCE_ROOT", file=sys.stderr)
        return 2
    if not self_test():
        return 1
    root = os.path.abspath(sys.argv[1])
    if not os.path.isfile(os.path.join(root, "docs", "protocol.md")):
        print("check-doc-refs: %s has no docs/protocol.md" % root)
        return 1
    problems, nrefs = check(root, os.path.abspath(__file__))
    for p in problems:
        print(p)
    if nrefs == 0:
        print("check-doc-refs: no doc references found under %s" % root)
        return 1
    print("check-doc-refs: %d references to docs/*.md#anchors, %d problems" %
          (nrefs, len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
