# SPDX-License-Identifier: BSD-3-Clause
"""A strict parser of the OpenMetrics 1.0 text format, and a checker of the Prometheus text
format 0.0.4, written for the tests (no third-party package). Stricter than the spec where our
own conventions are stricter: every family has TYPE and HELP, names start with a prefix.

parse(text) -> {family: {"type", "unit", "help", "samples": [(name, labels, value)]}}
raises ParseError on the first violation, naming the line.
"""
import math
import re

NAME_RE = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
LABEL_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
TYPES = {"counter", "gauge", "histogram", "gaugehistogram", "stateset", "info", "summary",
         "unknown"}
RESERVED_SUFFIXES = ("_total", "_created", "_count", "_sum", "_bucket", "_gcount", "_gsum",
                     "_info")
NUMBER_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


class ParseError(Exception):
    pass


def _value(s, where):
    if s in ("NaN", "+Inf", "-Inf"):
        return float(s.replace("Inf", "inf").replace("NaN", "nan"))
    if not NUMBER_RE.match(s):
        raise ParseError("%s: bad value %r" % (where, s))
    return float(s)


def _labels(s, where):
    """The inside of {...}: name="value" pairs, escapes \\\\ \\" \\n only."""
    labels = {}
    i = 0
    while i < len(s):
        eq = s.find("=", i)
        if eq < 0:
            raise ParseError("%s: label without '='" % where)
        name = s[i:eq]
        if not LABEL_RE.match(name) or name.startswith("__"):
            raise ParseError("%s: bad label name %r" % (where, name))
        if name in labels:
            raise ParseError("%s: label %s twice" % (where, name))
        if eq + 1 >= len(s) or s[eq + 1] != '"':
            raise ParseError("%s: label value not quoted" % where)
        j = eq + 2
        val = []
        while True:
            if j >= len(s):
                raise ParseError("%s: unterminated label value" % where)
            c = s[j]
            if c == "\\":
                if j + 1 >= len(s) or s[j + 1] not in '\\"n':
                    raise ParseError("%s: bad escape in label value" % where)
                val.append({"\\": "\\", '"': '"', "n": "\n"}[s[j + 1]])
                j += 2
            elif c == '"':
                j += 1
                break
            elif c == "\n":
                raise ParseError("%s: newline in label value" % where)
            else:
                val.append(c)
                j += 1
        labels[name] = "".join(val)
        if j < len(s):
            if s[j] != ",":
                raise ParseError("%s: expected ',' between labels" % where)
            j += 1
            if j >= len(s):
                raise ParseError("%s: trailing ',' in labels" % where)
        i = j
    return labels


def _help_text(s, where):
    out = []
    i = 0
    while i < len(s):
        if s[i] == "\\":
            if i + 1 >= len(s) or s[i + 1] not in '\\"n':
                raise ParseError("%s: bad escape in HELP" % where)
            out.append({"\\": "\\", '"': '"', "n": "\n"}[s[i + 1]])
            i += 2
        else:
            out.append(s[i])
            i += 1
    return "".join(out)


def _sample(line, where):
    m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)", line)
    if not m:
        raise ParseError("%s: bad metric name" % where)
    name = m.group(1)
    rest = line[m.end():]
    labels = {}
    if rest.startswith("{"):
        # find the closing brace outside quotes
        j, inq = 1, False
        while j < len(rest):
            c = rest[j]
            if inq and c == "\\":
                j += 2
                continue
            if c == '"':
                inq = not inq
            elif c == "}" and not inq:
                break
            j += 1
        else:
            raise ParseError("%s: unterminated labels" % where)
        labels = _labels(rest[1:j], where)
        rest = rest[j + 1:]
    if not rest.startswith(" ") or rest.startswith("  "):
        raise ParseError("%s: expected one space before the value" % where)
    parts = rest[1:].split(" ")
    if len(parts) not in (1, 2) or "" in parts:
        raise ParseError("%s: expected 'value [timestamp]'" % where)
    value = _value(parts[0], where)
    if len(parts) == 2:
        _value(parts[1], where)
    return name, labels, value


def _family_of(sample_name, ftype, fam):
    """Whether a sample name belongs to family fam of type ftype."""
    allowed = {
        "counter": ("_total", "_created"),
        "gauge": ("",),
        "info": ("_info",),
        "stateset": ("",),
        "unknown": ("",),
        "histogram": ("_bucket", "_count", "_sum", "_created"),
        "gaugehistogram": ("_bucket", "_gcount", "_gsum"),
        "summary": ("", "_count", "_sum", "_created"),
    }[ftype]
    return any(sample_name == fam + sfx for sfx in allowed)


def parse(text, prefix="vhost_balloon_"):
    if not text.endswith("# EOF\n") and not text.endswith("# EOF"):
        raise ParseError("does not end with '# EOF'")
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    families = {}
    cur = None          # family whose samples may follow
    seen_samples = False
    for no, line in enumerate(lines, 1):
        where = "line %d" % no
        if line == "# EOF":
            if no != len(lines):
                raise ParseError("%s: '# EOF' before the end" % where)
            break
        if line == "":
            raise ParseError("%s: empty line" % where)
        if line.startswith("#"):
            m = re.match(r"^# (TYPE|UNIT|HELP) (\S+)(?: (.*))?$", line)
            if not m:
                raise ParseError("%s: a comment that is not TYPE, UNIT, HELP or EOF" % where)
            kind, fam, arg = m.group(1), m.group(2), m.group(3)
            if not NAME_RE.match(fam):
                raise ParseError("%s: bad family name %r" % (where, fam))
            if arg is None or (kind != "HELP" and arg == ""):
                raise ParseError("%s: %s without a value" % (where, kind))
            if cur is None or cur["name"] != fam:
                if fam in families:
                    raise ParseError("%s: family %s appears twice (interleaved)" % (where, fam))
                cur = {"name": fam, "type": None, "unit": None, "help": None, "samples": [],
                       "series": set()}
                families[fam] = cur
                seen_samples = False
            if seen_samples:
                raise ParseError("%s: %s after samples of %s" % (where, kind, fam))
            key = kind.lower()
            if cur[key] is not None:
                raise ParseError("%s: %s twice for %s" % (where, kind, fam))
            if kind == "TYPE":
                if arg not in TYPES:
                    raise ParseError("%s: unknown type %r" % (where, arg))
                cur["type"] = arg
            elif kind == "UNIT":
                if not re.match(r"^[a-zA-Z0-9_:]+$", arg):
                    raise ParseError("%s: bad unit %r" % (where, arg))
                if not fam.endswith("_" + arg):
                    raise ParseError("%s: family %s does not end with its unit _%s" %
                                     (where, fam, arg))
                cur["unit"] = arg
            else:
                cur["help"] = _help_text(arg, where)
            continue
        name, labels, value = _sample(line, where)
        if cur is None or not _family_of(name, cur["type"] or "unknown", cur["name"]):
            raise ParseError("%s: sample %s outside its family's block (TYPE first)" %
                             (where, name))
        seen_samples = True
        key = (name, tuple(sorted(labels.items())))
        if key in cur["series"]:
            raise ParseError("%s: duplicate series %s%s" % (where, name, labels))
        cur["series"].add(key)
        t = cur["type"]
        if t == "counter" and name.endswith("_total") and (value < 0 or math.isnan(value)):
            raise ParseError("%s: negative or NaN counter" % where)
        if t == "info" and value != 1:
            raise ParseError("%s: info value must be 1" % where)
        if t == "stateset":
            if cur["name"] not in labels:
                raise ParseError("%s: stateset sample without label %s" % (where, cur["name"]))
            if value not in (0, 1):
                raise ParseError("%s: stateset value must be 0 or 1" % where)
        cur["samples"].append((name, labels, value))
    else:
        raise ParseError("no '# EOF' line")
    # Whole-family checks, and our own conventions.
    for fam, f in families.items():
        if f["type"] is None or f["help"] is None:
            raise ParseError("family %s lacks TYPE or HELP" % fam)
        if fam.endswith(RESERVED_SUFFIXES):
            raise ParseError("family %s ends with a reserved suffix" % fam)
        if not fam.startswith(prefix):
            raise ParseError("family %s lacks the prefix %s" % (fam, prefix))
        for unit in ("bytes", "seconds", "ratio"):
            if fam.endswith("_" + unit) and f["unit"] != unit:
                raise ParseError("family %s: UNIT %s missing" % (fam, unit))
        if f["type"] == "stateset":
            per = {}
            for _, labels, v in f["samples"]:
                k = tuple(sorted((a, b) for a, b in labels.items() if a != fam))
                per[k] = per.get(k, 0) + v
            if any(n != 1 for n in per.values()):
                raise ParseError("stateset %s: not exactly one state set per series" % fam)
        del f["series"]
    return families


def check_prometheus_004(text, prefix="vhost_balloon_"):
    """The Prometheus text format 0.0.4 as node_exporter's textfile collector reads it:
    HELP/TYPE (counter or gauge) on the sample name, samples right after, no OpenMetrics-only
    lines. Returns {metric: [(labels, value)]}."""
    metrics = {}
    cur = None
    if "# EOF" in text or "# UNIT" in text:
        raise ParseError("OpenMetrics-only lines in 0.0.4 text")
    if not text.endswith("\n"):
        raise ParseError("does not end with a newline")
    for no, line in enumerate(text.split("\n")[:-1], 1):
        where = "line %d" % no
        m = re.match(r"^# (TYPE|HELP) (\S+) ?(.*)$", line)
        if m:
            if m.group(1) == "TYPE":
                if m.group(3) not in ("counter", "gauge"):
                    raise ParseError("%s: type %r" % (where, m.group(3)))
                if m.group(2) in metrics:
                    raise ParseError("%s: %s twice" % (where, m.group(2)))
                if m.group(3) == "counter" and not m.group(2).endswith("_total"):
                    raise ParseError("%s: counter %s without _total" % (where, m.group(2)))
                cur = m.group(2)
                metrics[cur] = []
            elif not m.group(2).startswith(prefix):
                raise ParseError("%s: HELP of %s" % (where, m.group(2)))
            continue
        if line.startswith("#") or line == "":
            raise ParseError("%s: unexpected %r" % (where, line))
        name, labels, value = _sample(line, where)
        if name != cur:
            raise ParseError("%s: sample %s is not the TYPE'd metric %s" % (where, name, cur))
        if any(labels == lab for lab, _ in metrics[cur]):
            raise ParseError("%s: duplicate series" % where)
        metrics[cur].append((labels, value))
    return metrics


# Broken texts the parser must refuse (test_ctl.py checks that it does: a parser that accepts
# anything would make the metrics checks meaningless).
BAD_EXAMPLES = [
    ("no EOF", "# TYPE vhost_balloon_a gauge\n# HELP vhost_balloon_a x\nvhost_balloon_a 1\n"),
    ("counter sample without _total",
     "# TYPE vhost_balloon_a counter\n# HELP vhost_balloon_a x\nvhost_balloon_a 1\n# EOF\n"),
    ("family named with _total",
     "# TYPE vhost_balloon_a_total counter\n# HELP vhost_balloon_a_total x\n"
     "vhost_balloon_a_total_total 1\n# EOF\n"),
    ("unit not a suffix", "# TYPE vhost_balloon_a gauge\n# UNIT vhost_balloon_a bytes\n"
     "# HELP vhost_balloon_a x\nvhost_balloon_a 1\n# EOF\n"),
    ("_bytes without UNIT",
     "# TYPE vhost_balloon_a_bytes gauge\n# HELP vhost_balloon_a_bytes x\n"
     "vhost_balloon_a_bytes 1\n# EOF\n"),
    ("unescaped quote", "# TYPE vhost_balloon_a gauge\n# HELP vhost_balloon_a x\n"
     "vhost_balloon_a{vm=\"a\"b\"} 1\n# EOF\n"),
    ("bad escape", "# TYPE vhost_balloon_a gauge\n# HELP vhost_balloon_a x\n"
     "vhost_balloon_a{vm=\"a\\tb\"} 1\n# EOF\n"),
    ("duplicate series", "# TYPE vhost_balloon_a gauge\n# HELP vhost_balloon_a x\n"
     "vhost_balloon_a{vm=\"a\"} 1\nvhost_balloon_a{vm=\"a\"} 2\n# EOF\n"),
    ("interleaved family", "# TYPE vhost_balloon_a gauge\n# HELP vhost_balloon_a x\n"
     "vhost_balloon_a 1\n# TYPE vhost_balloon_b gauge\n# HELP vhost_balloon_b x\n"
     "vhost_balloon_b 1\n# TYPE vhost_balloon_a gauge\n# HELP vhost_balloon_a x\n# EOF\n"),
    ("sample without TYPE", "vhost_balloon_a 1\n# EOF\n"),
    ("missing HELP", "# TYPE vhost_balloon_a gauge\nvhost_balloon_a 1\n# EOF\n"),
    ("bad label name", "# TYPE vhost_balloon_a gauge\n# HELP vhost_balloon_a x\n"
     "vhost_balloon_a{1vm=\"a\"} 1\n# EOF\n"),
    ("bad value", "# TYPE vhost_balloon_a gauge\n# HELP vhost_balloon_a x\n"
     "vhost_balloon_a 1,5\n# EOF\n"),
    ("stateset without its label", "# TYPE vhost_balloon_s stateset\n# HELP vhost_balloon_s x\n"
     "vhost_balloon_s{state=\"a\"} 1\n# EOF\n"),
    ("info value 2", "# TYPE vhost_balloon_i info\n# HELP vhost_balloon_i x\n"
     "vhost_balloon_i_info{a=\"b\"} 2\n# EOF\n"),
    ("blank line", "# TYPE vhost_balloon_a gauge\n\n# HELP vhost_balloon_a x\n# EOF\n"),
    ("text after EOF", "# TYPE vhost_balloon_a gauge\n# HELP vhost_balloon_a x\n# EOF\n"
     "vhost_balloon_a 1\n"),
    ("other comment", "# TYPE vhost_balloon_a gauge\n# HELP vhost_balloon_a x\n# hi\n# EOF\n"),
]
