"""General math: arithmetic problems generated with exact answers.

Kinds: addition and subtraction of numbers 0..99 (subtraction never negative), multiplication of
0..12 by 0..12, and two-step word problems with three numbers. A problem is identified by the
tuple of the numbers in its question, in order; held-out tuples (validation and test) never occur in
a training question of any kind or phrasing, so every test problem is new. Pairs held out for
addition or subtraction are held out in both orders. Multiplication test pairs are ordered pairs
whose commuted pair is in training (7 x 8 held out, 8 x 7 taught): the model must know that
multiplication commutes.
"""
import re

from common import qa, rng

ADD = ["What is {a} plus {b}?", "What is {a} + {b}?", "What is the sum of {a} and {b}?", "Add {a} and {b}."]
SUB = ["What is {a} minus {b}?", "What is {a} - {b}?", "Subtract {b} from {a}.",
       "What is the difference between {a} and {b}?"]
MUL = ["What is {a} times {b}?", "What is {a} * {b}?", "What is {a} multiplied by {b}?",
       "What is the product of {a} and {b}?"]

NAMES = ["Anna", "Ben", "Carla", "David", "Emma", "Farid", "Grace", "Hugo", "Iris", "Jonas", "Kate", "Leo",
         "Maya", "Nora", "Omar", "Paul", "Rosa", "Sam", "Tara", "Victor"]
PRONOUN = {n: ("She" if n in {"Anna", "Carla", "Emma", "Grace", "Iris", "Kate", "Maya", "Nora", "Rosa", "Tara"}
               else "He") for n in NAMES}
OBJECTS = ["apples", "books", "coins", "marbles", "pencils", "stamps", "cards", "eggs", "shells", "stickers",
           "oranges", "cookies"]

WORD = {
    # kind: (template, answer function, number ranges)
    "word_add_sub": ("{name} has {a} {obj}. {he} buys {b} more and then gives away {c}. "
                     "How many {obj} does {name} have now?", lambda a, b, c: a + b - c),
    "word_sub_add": ("{name} had {a} {obj}. {he} lost {b} of them and then found {c}. "
                     "How many {obj} does {name} have now?", lambda a, b, c: a - b + c),
    "word_mul_add": ("There are {a} boxes with {b} {obj} in each box. {name} adds {c} more {obj}. "
                     "How many {obj} are there in total?", lambda a, b, c: a * b + c),
    "word_mul_sub": ("{name} buys {a} packs of {b} {obj} and gives away {c} {obj}. "
                     "How many {obj} does {name} have left?", lambda a, b, c: a * b - c),
}

N_TRAIN_WORD = 10000
TEST = {"add": 110, "sub": 100, "mul": 40, "word": 150}
VALIDATION = {"add": 50, "sub": 50, "mul": 15, "word": 60}
MUL_MAX = 12


def numbers(question):
    """The numbers a question writes, in order: the identity of a problem."""
    return tuple(int(x) for x in re.findall(r"[0-9]+", question))


def _word_tuple(kind, r):
    if kind == "word_add_sub":
        a, b = r.randint(1, 30), r.randint(1, 30)
        return a, b, r.randint(1, a + b)
    if kind == "word_sub_add":
        a = r.randint(2, 40)
        return a, r.randint(1, a), r.randint(1, 30)
    a, b = r.randint(2, 9), r.randint(2, 9)
    if kind == "word_mul_add":
        return a, b, r.randint(1, 30)
    return a, b, r.randint(1, a * b)


def _word(kind, a, b, c, r):
    template, fn = WORD[kind]
    name = r.choice(NAMES)
    q = template.format(name=name, he=PRONOUN[name], a=a, b=b, c=c, obj=r.choice(OBJECTS))
    return q, str(fn(a, b, c))


def build():
    r = rng("math-heldout")
    held2 = {}  # (a, b) -> "test" | "validation"
    held3 = {}  # (a, b, c) -> "test" | "validation"
    items = {"test": [], "validation": []}

    # multiplication first: held-out ordered pairs whose commuted pair stays in training
    pairs = [(a, b) for a in range(MUL_MAX + 1) for b in range(a + 1, MUL_MAX + 1)]
    r.shuffle(pairs)
    for part, quota in (("test", TEST["mul"]), ("validation", VALIDATION["mul"])):
        for _ in range(quota):
            a, b = pairs.pop()
            if r.random() < 0.5:
                a, b = b, a
            held2[(a, b)] = part
            t = r.randrange(len(MUL))
            items[part].append(("mul", MUL[t].format(a=a, b=b), str(a * b)))

    def fresh_pair(sub):
        while True:
            a, b = r.randint(0, 99), r.randint(0, 99)
            if sub and b > a:
                a, b = b, a
            if (a, b) not in held2 and (b, a) not in held2:
                return a, b

    for part, quotas in (("test", TEST), ("validation", VALIDATION)):
        for _ in range(quotas["add"]):
            a, b = fresh_pair(False)
            held2[(a, b)] = part
            items[part].append(("add", ADD[r.randrange(len(ADD))].format(a=a, b=b), str(a + b)))
        for _ in range(quotas["sub"]):
            a, b = fresh_pair(True)
            held2[(a, b)] = part
            items[part].append(("sub", SUB[r.randrange(len(SUB))].format(a=a, b=b), str(a - b)))
        kinds = sorted(WORD)
        for i in range(quotas["word"]):
            kind = kinds[i % len(kinds)]
            while True:
                tup = _word_tuple(kind, r)
                if tup not in held3:
                    break
            held3[tup] = part
            q, ans = _word(kind, *tup, r)
            items[part].append((kind, q, ans))

    # The numbers of every held-out question, in the order the question writes them; a training
    # question never writes the same numbers in the same order. Pairs held out for addition or
    # subtraction are blocked in both orders ("Subtract 7 from 30" writes its numbers the other way
    # round); a multiplication pair only in its own order, so that its commuted pair is taught.
    blocked = set()
    for part in ("test", "validation"):
        for kind, q, _ in items[part]:
            t = numbers(q)
            blocked.add(t)
            if kind in ("add", "sub"):
                blocked.add(t[::-1])

    train = []
    tr = rng("math-train")

    def add_line(q, answer):
        if numbers(q) not in blocked:
            train.append(qa(q, answer))

    # every addition and subtraction pair, each in one phrasing drawn at random
    for a in range(100):
        for b in range(100):
            add_line(ADD[tr.randrange(len(ADD))].format(a=a, b=b), str(a + b))
            if b <= a:
                add_line(SUB[tr.randrange(len(SUB))].format(a=a, b=b), str(a - b))
    # every multiplication pair, in every phrasing
    for a in range(MUL_MAX + 1):
        for b in range(MUL_MAX + 1):
            for t in MUL:
                add_line(t.format(a=a, b=b), str(a * b))
    kinds = sorted(WORD)
    n = 0
    while n < N_TRAIN_WORD:
        kind = kinds[n % len(kinds)]
        tup = _word_tuple(kind, tr)
        if tup in blocked:
            continue
        q, ans = _word(kind, *tup, tr)
        train.append(qa(q, ans))
        n += 1
    tr.shuffle(train)

    out = {"train": train}
    for part in ("validation", "test"):
        rows = items[part]
        rng("math-order-" + part).shuffle(rows)
        if part == "test":
            out["probe"] = [{"prompt": qa(q, a)["prompt"], "answer": a, "tag": kind} for kind, q, a in rows]
        else:
            out["validation"] = [qa(q, a) for _, q, a in rows]
    counts = {"train": len(train), "validation": len(out["validation"]), "test": len(out["probe"]),
              "held_out_pairs": len(held2), "held_out_triples": len(held3)}
    return out, counts
