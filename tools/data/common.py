"""Shared helpers of the data build: seeded randomness, the one prompt format, JSONL writing.

Everything here is deterministic: random streams are seeded from fixed strings (Python seeds a
Random from a str through SHA-512, independent of PYTHONHASHSEED), every iteration over a set or dict
goes through sorted(), and files are written with fixed key order and "\n" line ends.
"""
import json
import os
import random
import re
import unicodedata

SEED = "retain-data-v1"

# The one prompt format of every question/answer pair, in training files and probes alike.
PROMPT_TEMPLATE = "Question: {question}\nAnswer:"


def rng(purpose):
    """A random stream of its own for each purpose, so that changing one part leaves the others as they were."""
    return random.Random(SEED + ":" + purpose)


def prompt(question):
    return PROMPT_TEMPLATE.format(question=question)


def completion(answer):
    return " " + answer


def qa(question, answer):
    """A training line in retain's prompt/completion shape."""
    return {"prompt": prompt(question), "completion": completion(answer)}


def text(t):
    return {"text": t}


def dumps(obj):
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def write_jsonl(path, records):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for r in records:
            f.write(dumps(r))
            f.write("\n")
    return len(records)


def write_json(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(json.dumps(obj, ensure_ascii=False, indent=2))
        f.write("\n")


_QUOTES = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"',
    "\u2014": "--", "\u2013": "-", "\u2011": "-", "\u2010": "-",
    "\u2026": "...",
}
_QUOTE_RE = re.compile("[" + "".join(_QUOTES) + "]")
_SPACE_RE = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u205f\u3000]+")


def clean_text(s):
    """NFC, typographic quotes and dashes to ASCII, control characters dropped, runs of spaces to one
    space, newlines kept (callers decide what a newline means)."""
    s = unicodedata.normalize("NFC", s)
    s = s.replace("\r\n", "\n").replace("\r", "\n")
    s = _QUOTE_RE.sub(lambda m: _QUOTES[m.group(0)], s)
    s = "".join(ch for ch in s if ch == "\n" or unicodedata.category(ch)[0] != "C")
    s = _SPACE_RE.sub(" ", s)
    s = "\n".join(line.strip() for line in s.split("\n"))
    return s


def split_counts(n, fractions):
    """Sizes of consecutive slices of n items for the given fractions (the last slice takes the rest)."""
    sizes = [int(round(n * f)) for f in fractions[:-1]]
    sizes.append(n - sum(sizes))
    return sizes


def holdout_split(facts, templates, n_test, n_validation, purpose, group=None, weight=None):
    """Splits question/answer facts so that test and validation questions are new phrasings of facts
    that training teaches with other phrasings.

    facts: list of dicts with "id" (unique, sortable), "relation" and the fields the relation's
    templates format. templates: {relation: [question format strings]} (each relation needs at least
    two). n_test / n_validation facts are drawn, stratified by group(fact) (default: the relation) with
    quotas proportional to the groups' summed weight(fact) (default 1); each drawn fact gets one held-out
    template, balanced over the relation's templates. Training gets every (fact, template) pair except
    the held-out ones, so every template is used in training for other facts, never for the held-out
    fact.

    Returns (train, validation, test): lists of (fact, template index).
    """
    group = group or (lambda f: f["relation"])
    weight = weight or (lambda f: 1.0)
    r = rng("holdout-" + purpose)
    by_group = {}
    for f in sorted(facts, key=lambda f: f["id"]):
        by_group.setdefault(group(f), []).append(f)
    groups = sorted(by_group)
    mass = {g: sum(weight(f) for f in by_group[g]) for g in groups}
    total = sum(mass.values())
    role = {}
    held = {}
    for what, n in (("test", n_test), ("validation", n_validation)):
        # proportional quotas (largest remainders), never more than a group has left
        exact = {g: n * mass[g] / total for g in groups}
        quota = {g: int(exact[g]) for g in groups}
        for g in sorted(groups, key=lambda g: (-(exact[g] - quota[g]), g))[:n - sum(quota.values())]:
            quota[g] += 1
        for g in groups:
            free = [f for f in by_group[g] if f["id"] not in role]
            pick = r.sample(free, min(quota[g], len(free)))
            k = len(templates[by_group[g][0]["relation"]])
            slots = []
            while len(slots) < len(pick):
                cycle = list(range(k))
                r.shuffle(cycle)
                slots.extend(cycle)
            for f, t in zip(sorted(pick, key=lambda f: f["id"]), slots):
                role[f["id"]] = what
                held[f["id"]] = t
    train, validation, test = [], [], []
    for g in groups:
        for f in by_group[g]:
            for t in range(len(templates[f["relation"]])):
                if held.get(f["id"]) == t:
                    (test if role[f["id"]] == "test" else validation).append((f, t))
                else:
                    train.append((f, t))
    return train, validation, test


def estimate_tokens(s):
    """A rough upper estimate of the tokens of s under the bundled tokenizer: digits are single tokens,
    capitals and characters outside ASCII cost more, other text is about 3.3 characters a token. Used to
    keep documents inside a 128-token row."""
    digits = sum(1 for ch in s if "0" <= ch <= "9")
    upper = sum(1 for ch in s if "A" <= ch <= "Z")
    other = sum(1 for ch in s if ord(ch) > 127)
    return digits + 0.6 * upper + 2 * other + (len(s) - digits - upper - other) / 3.3
