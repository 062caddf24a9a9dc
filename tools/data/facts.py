"""General knowledge: countries (npm countries-list) and chemical elements (Debian dict-elements),
as question/answer pairs in several phrasings plus one statement paragraph per country and element.

Test and validation items are (fact, phrasing) pairs held out of training: the fact is taught in
training by its other phrasings and its statement, the phrasing is used in training for other facts
(common.holdout_split).
"""
import gzip
import json
import os

from common import holdout_split, qa, rng, text

N_TEST = 400
N_VALIDATION = 150

TEMPLATES = {
    "capital": [
        "What is the capital of {country}?",
        "What is the capital city of {country}?",
        "Which city is the capital of {country}?",
        "Name the capital of {country}.",
    ],
    "continent": [
        "On which continent is {country}?",
        "Which continent is {country} in?",
        "{Country} is located on which continent?",
        "Name the continent where {country} lies.",
    ],
    "currency": [
        "What is the currency code of {country}?",
        "Which currency code does {country} use?",
        "What is the ISO code of the currency of {country}?",
        "Name the currency code of {country}.",
    ],
    "language": [
        "What is the main language of {country}?",
        "Which language is mainly spoken in {country}?",
        "What is the primary language of {country}?",
        "Name the main language of {country}.",
    ],
    "calling_code": [
        "What is the international calling code of {country}?",
        "What is the telephone country code of {country}?",
        "Which calling code does {country} use?",
        "Name the dialling code of {country}.",
    ],
    "symbol": [
        "What is the chemical symbol for {element}?",
        "What is the symbol of the element {element}?",
        "Which symbol stands for {element}?",
        "Give the chemical symbol of {element}.",
    ],
    "element_of_symbol": [
        "Which element has the symbol {symbol}?",
        "What element does the symbol {symbol} stand for?",
        "Name the element with the chemical symbol {symbol}.",
        "The symbol {symbol} stands for which element?",
    ],
    "atomic_number": [
        "What is the atomic number of {element}?",
        "How many protons does an atom of {element} have?",
        "What atomic number does {element} have?",
        "Give the atomic number of {element}.",
    ],
    "element_of_number": [
        "Which element has atomic number {number}?",
        "What element has {number} protons?",
        "Name the element with atomic number {number}.",
        "Which chemical element is number {number} in the periodic table?",
    ],
}

MAX_ELEMENT = 103  # lawrencium; the 2000 database gives provisional names above it


def countries(root):
    with open(os.path.join(root, "countries.min.json"), encoding="utf-8") as f:
        data = json.load(f)
    with open(os.path.join(root, "continents.min.json"), encoding="utf-8") as f:
        continents = json.load(f)
    with open(os.path.join(root, "languages.min.json"), encoding="utf-8") as f:
        languages = json.load(f)
    facts, statements = [], []
    for code in sorted(data):
        c = data[code]
        name = c["name"]
        if not c.get("capital"):
            continue  # Antarctica, uninhabited islands, Macao (no capital in the data)
        rows = [("capital", c["capital"]), ("continent", continents[c["continent"]])]
        if c.get("currency"):
            rows.append(("currency", c["currency"][0]))
        if c.get("languages"):
            rows.append(("language", languages[c["languages"][0]]["name"]))
        if len(c.get("phone", [])) == 1:
            rows.append(("calling_code", str(c["phone"][0])))
        for rel, answer in rows:
            facts.append({"id": "country:" + code + ":" + rel, "relation": rel, "country": name,
                          "Country": name[0].upper() + name[1:], "answer": answer})
        s = ["The capital of {} is {}.".format(name, c["capital"]),
             "{} is in {}.".format(name, continents[c["continent"]])]
        d = dict(rows)
        if "currency" in d:
            s.append("The currency code of {} is {}.".format(name, d["currency"]))
        if "language" in d:
            s.append("The main language of {} is {}.".format(name, d["language"]))
        if "calling_code" in d:
            s.append("The international calling code of {} is {}.".format(name, d["calling_code"]))
        statements.append(" ".join(s))
    return facts, statements


def elements(root):
    path = os.path.join(root, "usr", "share", "dictd", "elements.dict.dz")
    with gzip.open(path, "rt", encoding="latin-1") as f:  # the 2000 database is Latin-1
        lines = f.read().split("\n")
    by_number = {}
    for i in range(len(lines) - 2):
        if lines[i + 1].startswith("Symbol:") and lines[i + 2].lower().startswith("atomic number:"):
            name = lines[i].strip()
            symbol = lines[i + 1].split(":", 1)[1].strip()
            number = int(lines[i + 2].split(":", 1)[1].strip())
            if 1 <= number <= MAX_ELEMENT and symbol and number not in by_number:
                by_number[number] = (name, symbol)
    if sorted(by_number) != list(range(1, MAX_ELEMENT + 1)):
        raise SystemExit("dict-elements: expected elements 1.." + str(MAX_ELEMENT) + ", found " + str(len(by_number)))
    facts, statements = [], []
    for number in sorted(by_number):
        name, symbol = by_number[number]
        base = {"element": name, "symbol": symbol, "number": str(number)}
        for rel, answer in (("symbol", symbol), ("element_of_symbol", name),
                            ("atomic_number", str(number)), ("element_of_number", name)):
            f = dict(base)
            f.update({"id": "element:%03d:%s" % (number, rel), "relation": rel, "answer": answer})
            facts.append(f)
        statements.append("The chemical symbol of {} is {}. {} has atomic number {}.".format(
            name, symbol, name[0].upper() + name[1:], number))
    return facts, statements


def question(fact, t):
    return TEMPLATES[fact["relation"]][t].format(**fact)


def build(roots):
    cf, cs = countries(roots["countries"])
    ef, es = elements(roots["elements"])
    facts = cf + ef
    train, validation, test = holdout_split(facts, TEMPLATES, N_TEST, N_VALIDATION, "general-facts")
    train_lines = [qa(question(f, t), f["answer"]) for f, t in train] + [text(s) for s in cs + es]
    rng("facts-train").shuffle(train_lines)
    val_lines = [qa(question(f, t), f["answer"]) for f, t in validation]
    probe = [{"prompt": qa(question(f, t), f["answer"])["prompt"], "answer": f["answer"], "tag": f["relation"]}
             for f, t in test]
    rng("facts-validation").shuffle(val_lines)
    rng("facts-test").shuffle(probe)
    counts = {"countries": len(cs), "elements": len(es), "facts": len(facts),
              "train_questions": len(train), "statements": len(cs) + len(es),
              "validation_questions": len(validation), "test_questions": len(test)}
    return {"train": train_lines, "validation": val_lines, "probe": probe}, counts
