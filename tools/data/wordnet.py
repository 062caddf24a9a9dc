"""A reader for the WordNet 3.0 database files (wndb(5WN) format): data.noun and index.noun."""
import os


class Synset:
    __slots__ = ("offset", "lexfile", "words", "pointers", "gloss")

    def __init__(self, offset, lexfile, words, pointers, gloss):
        self.offset = offset
        self.lexfile = lexfile
        self.words = words  # lemmas as written in WordNet, underscores for spaces
        self.pointers = pointers  # (symbol, target offset, target pos, source/target)
        self.gloss = gloss

    def targets(self, *symbols):
        return [t for s, t, pos, _ in self.pointers if s in symbols and pos == "n"]

    def lemmas(self):
        out = []
        for w in self.words:
            # adjective markers like (a) never occur on nouns, but strip them defensively
            name = w.split("(")[0].replace("_", " ")
            if name not in out:
                out.append(name)
        return out

    def definition(self):
        """The gloss without its quoted examples, as WordNet writes it (clauses separated by ';')."""
        parts = [p.strip() for p in self.gloss.split(";")]
        return "; ".join(p for p in parts if p and not p.startswith('"')).strip()

    def examples(self):
        return [p.strip().strip('"') for p in self.gloss.split(";") if p.strip().startswith('"')]


def load_nouns(root):
    path = os.path.join(root, "usr", "share", "wordnet", "data.noun")
    synsets = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("  "):
                continue  # licence header
            head, _, gloss = line.partition(" | ")
            fields = head.split()
            offset, lexfile = fields[0], int(fields[1])
            n_words = int(fields[3], 16)
            words = [fields[4 + 2 * i] for i in range(n_words)]
            i = 4 + 2 * n_words
            n_ptr = int(fields[i])
            i += 1
            pointers = []
            for _ in range(n_ptr):
                pointers.append((fields[i], fields[i + 1], fields[i + 2], fields[i + 3]))
                i += 4
            synsets[offset] = Synset(offset, lexfile, words, pointers, gloss.strip())
    return synsets


def load_noun_index(root):
    """lemma (lower case, underscores) -> list of synset offsets in sense order."""
    path = os.path.join(root, "usr", "share", "wordnet", "index.noun")
    index = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("  "):
                continue
            fields = line.split()
            lemma, n_senses, n_ptr = fields[0], int(fields[2]), int(fields[3])
            offsets = fields[4 + n_ptr + 2:]
            index[lemma] = offsets[:n_senses]
    return index
