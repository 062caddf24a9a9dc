"""General prose: Moby-Dick (chapters), State of the Union addresses, the Brown corpus (files).

Each source is cut into documents (a chapter, an address, a Brown file), cleaned (common.clean_text;
Brown is detokenised from its word/tag form), split into sentences and packed into passages of at
most MAX_WORDS words and about MAX_TOKENS tokens, so that a passage fits a 128-token training row;
passages that are not plain running text (tables, headings in capitals, foreign scripts) are dropped.
Documents (not passages) are split between train, validation and test, so no test passage shares a
document with training.
"""
import glob
import json
import os
import re

from common import clean_text, estimate_tokens, rng, split_counts, text

MAX_TOKENS = 100  # estimated (common.estimate_tokens); with bos and eos a passage fits 128 positions
MAX_WORDS = 64
MIN_WORDS = 12
DOC_SPLIT = (0.8, 0.1, 0.1)  # train, validation, test documents per source

# Characters of the train passages taken from each source (a random sample of train passages).
TRAIN_CHARS = {"moby-dick": 400_000, "sotu": 500_000, "brown": 600_000}
VALIDATION_PASSAGES = {"moby-dick": 100, "sotu": 100, "brown": 100}
TEST_PASSAGES = {"moby-dick": 100, "sotu": 100, "brown": 100}


def moby_dick(root):
    docs = []
    for path in sorted(glob.glob(os.path.join(root, "data", "chapter_*.json"))):
        with open(path, encoding="utf-8") as f:
            d = json.load(f)
        docs.append(("chapter_" + d["chapter"], clean_text(d["text"])))
    for name in ("etymology", "extracts", "epilogue"):
        with open(os.path.join(root, "data", name + ".json"), encoding="utf-8") as f:
            d = json.load(f)
        docs.append((name, clean_text(d["text"])))
    return docs


def sotu(root):
    docs = []
    for path in sorted(glob.glob(os.path.join(root, "data", "*.txt"))):
        with open(path, encoding="utf-8") as f:
            docs.append((os.path.basename(path)[:-4], clean_text(f.read())))
    return docs


_BROWN_OPEN = {"``": '"', "(": "(", "[": "["}
_BROWN_CLOSE = {"''": '"', ",": ",", ".": ".", ";": ";", ":": ":", "?": "?", "!": "!", ")": ")", "]": "]"}


def _detokenise(tokens):
    out = ""
    glue = False  # no space before the next token (after an opening bracket or quote)
    prev = None
    for tok in tokens:
        if tok in (";", "?", "!", ":") and prev == tok:
            continue  # the tagged corpus doubles some sentence-final marks ("forgot ; ;")
        if tok in _BROWN_CLOSE:
            out += _BROWN_CLOSE[tok]
            glue = False
        elif tok in _BROWN_OPEN:
            out += ("" if not out or glue else " ") + _BROWN_OPEN[tok]
            glue = True
        else:
            out += ("" if not out or glue else " ") + tok
            glue = False
        prev = tok
    return out


def brown(root):
    docs = []
    for path in sorted(glob.glob(os.path.join(root, "c[a-r][0-9][0-9]"))):
        paragraphs = []
        current = []
        with open(path, encoding="utf-8", errors="strict") as f:
            for line in f:
                if line.startswith("\t") and current:
                    paragraphs.append(current)
                    current = []
                for item in line.split():
                    word = item.rsplit("/", 1)[0]
                    if word:
                        current.append(word)
        if current:
            paragraphs.append(current)
        body = "\n".join(_detokenise(p) for p in paragraphs)
        docs.append((os.path.basename(path), clean_text(body)))
    return docs


_SENTENCE_END = re.compile(r'(?<=[.!?])["\')\]]*\s+(?=["\'(\[]?[A-Z0-9])')


def sentences(paragraph):
    return [s.strip() for s in _SENTENCE_END.split(paragraph) if s.strip()]


def passages(doc_text):
    """Consecutive sentences packed into passages of MIN_WORDS..MAX_WORDS words and at most MAX_TOKENS
    estimated tokens; a longer sentence is cut at word boundaries. Paragraph breaks inside a passage
    stay as newlines."""
    out = []
    parts = []  # (paragraph index, sentence)

    def size(ps):
        return sum(len(s.split()) for _, s in ps), estimate_tokens(" ".join(s for _, s in ps))

    def flush():
        nonlocal parts
        if parts and size(parts)[0] >= MIN_WORDS:
            chunks = []
            last = None
            for para, s in parts:
                chunks.append(s if last is None else (" " if para == last else "\n") + s)
                last = para
            out.append("".join(chunks))
        parts = []

    for pi, para in enumerate(p for p in doc_text.split("\n") if p.strip()):
        for s in sentences(para):
            w = s.split()
            # cut an over-long sentence into pieces that fit on their own
            while w:
                n = len(w)
                while n > 1 and (n > MAX_WORDS or estimate_tokens(" ".join(w[:n])) > MAX_TOKENS):
                    n -= 1
                piece, w = " ".join(w[:n]), w[n:]
                words, tokens = size(parts + [(pi, piece)])
                if parts and (words > MAX_WORDS or tokens > MAX_TOKENS):
                    flush()
                parts.append((pi, piece))
    flush()
    return out


def plain(passage):
    """Ordinary running text: mostly letters, few capitals, Latin script, no table rules."""
    letters = [ch for ch in passage if ch.isalpha()]
    visible = [ch for ch in passage if not ch.isspace()]
    if not letters or len(letters) < 0.75 * len(visible):
        return False
    if sum(1 for ch in letters if ch.isupper()) > 0.15 * len(letters):
        return False
    if "__" in passage or any(ord(ch) > 0x24F for ch in passage):
        return False
    return True


def build(roots):
    """Returns {"train": [...], "validation": [...], "test": [...]} of {"text"} records and counts."""
    readers = {"moby-dick": moby_dick, "sotu": sotu, "brown": brown}
    split = {"train": [], "validation": [], "test": []}
    counts = {}
    for name in sorted(readers):
        docs = readers[name](roots[name])
        r = rng("prose-docs-" + name)
        order = list(range(len(docs)))
        r.shuffle(order)
        n_train, n_val, n_test = split_counts(len(docs), DOC_SPLIT)
        groups = {
            "train": order[:n_train],
            "validation": order[n_train:n_train + n_val],
            "test": order[n_train + n_val:],
        }
        c = {"documents": len(docs)}
        for part in ("train", "validation", "test"):
            ps = []
            for i in sorted(groups[part]):
                ps.extend(p for p in passages(docs[i][1]) if plain(p))
            pr = rng("prose-passages-" + name + "-" + part)
            pr.shuffle(ps)
            if part == "train":
                keep, total = [], 0
                for p in ps:
                    if total >= TRAIN_CHARS[name]:
                        break
                    keep.append(p)
                    total += len(p)
            elif part == "validation":
                keep = ps[:VALIDATION_PASSAGES[name]]
            else:
                keep = ps[:TEST_PASSAGES[name]]
            c[part + "_documents"] = len(groups[part])
            c[part + "_passages_available"] = len(ps)
            c[part + "_passages"] = len(keep)
            split[part].extend(keep)
        counts[name] = c
    for part in split:
        r = rng("prose-mix-" + part)
        r.shuffle(split[part])
        split[part] = [text(p) for p in split[part]]
    return split, counts
