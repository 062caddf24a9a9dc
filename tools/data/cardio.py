"""The cardiovascular domain from WordNet 3.0 (Debian wordnet-base): which synsets, documents, and
question/answer pairs.

Selection, by WordNet structure first:
  1. ROOTS: synsets about the heart, blood vessels, circulation, blood pressure, cardiovascular
     disease, cardiac drugs, procedures and devices (offsets checked against their first lemma, so a
     different WordNet release fails loudly instead of selecting something else).
  2. Their hyponym closure (kinds of, instances of) and, under the anatomical roots, the part-meronym
     closure (parts of the heart, of the circulatory system ...), with the hyponyms of those parts.
  3. Synsets elsewhere in noun.body/state/act/artifact/process whose definition names the heart or the
     vessels (CARDIO_WORDS) and whose hypernym chain reaches a medical class (MEDICAL_ANCHORS: body part,
     disorder, symptom, drug, medical procedure, medical instrument, bodily process ...): the
     keyword alone never selects a synset, the WordNet class must agree.
     Rule 3 adds single synsets, without closure. EXCLUDE removes false friends found by review.
The WordNet domain pointers (;c cardiology/medicine) were examined: only two cardiovascular synsets
carry one, both also caught by rule 3.
"""
import re

from common import estimate_tokens, holdout_split, qa, rng, text
from wordnet import load_nouns

# (offset, first lemma, anatomical?)
ROOTS = [
    # anatomy
    ("05388805", "heart", True), ("05511618", "circulatory_system", True), ("05417975", "blood_vessel", True),
    ("05395098", "heart_valve", True), ("05389939", "cardiac_muscle", True), ("05335971", "aorta", True),
    ("05333777", "artery", True), ("05418717", "vein", True), ("05425910", "capillary", True),
    ("05391763", "ventricle", True), ("05428473", "pericardium", True), ("05391000", "myocardium", True),
    ("05428331", "endocardium", True),
    # physiology
    ("11429968", "blood_pressure", False), ("07400906", "pulse", False), ("07401409", "systole", False),
    ("07401236", "diastole", False), ("15277926", "cardiac_output", False), ("15280695", "pulse", False),
    # disease
    ("14057371", "cardiovascular_disease", False), ("14103288", "heart_disease", False),
    ("14110674", "cardiac_arrhythmia", False), ("14363027", "tachycardia", False),
    ("14362510", "bradycardia", False), ("14334814", "heart_murmur", False), ("14166118", "ischemia", False),
    ("14108324", "arteriosclerosis", False), ("14102075", "thrombosis", False), ("14101083", "embolism", False),
    ("14112855", "heart_attack", False), ("14108039", "angina_pectoris", False),
    ("14339094", "endocarditis", False), ("14339682", "pericarditis", False),
    ("14339387", "myocardial_inflammation", False), ("14113021", "myocardial_infarction", False),
    ("14024581", "asystole", False), ("14469014", "congenital_heart_defect", False),
    ("05402333", "blood_clot", False), ("14373246", "thrombus", False), ("14373407", "embolus", False),
    # drugs
    ("15059939", "cardiac_glycoside", False), ("04522904", "vasodilator", False),
    ("02832168", "beta_blocker", False), ("02715941", "antiarrhythmic", False),
    ("02721160", "antihypertensive", False), ("02938514", "calcium_blocker", False),
    ("02673637", "ACE_inhibitor", False), ("03676175", "lipid-lowering_medicine", False),
    ("02718259", "anticoagulant", False), ("14886579", "nitroglycerin", False), ("15060131", "digitalis", False),
    ("04429169", "thrombolytic", False), ("04522421", "vasoconstrictor", False),
    # procedures, devices, people
    ("00675219", "heart_surgery", False), ("00666468", "angioplasty", False),
    ("00675808", "coronary_bypass", False), ("00832306", "echocardiography", False),
    ("00832092", "cardiography", False), ("07004057", "electrocardiogram", False),
    ("03870290", "pacemaker", False), ("03171635", "defibrillator", False),
    ("00832626", "cardiopulmonary_resuscitation", False), ("00905336", "angiography", False),
    ("04274985", "sphygmomanometer", False), ("04314735", "stent", False), ("02962938", "cardiac_monitor", False),
    ("03507658", "heart-lung_machine", False), ("02745492", "artificial_heart", False),
    ("09894445", "cardiologist", False),
]

MEDICAL_ANCHORS = {
    "05220461": "body_part", "05225602": "structure", "14052403": "disorder", "14052046": "ill_health",
    "14204950": "pathology", "14299637": "symptom", "14034177": "physiological_state",
    "13923440": "condition", "03247620": "drug", "03740161": "medicine", "01024392": "medical_procedure",
    "00657604": "medical_care", "00658082": "treatment", "00671351": "surgery",
    "00177127": "diagnostic_procedure", "03739693": "medical_instrument", "13440063": "bodily_process",
}
KEYWORD_LEXFILES = {4, 6, 8, 22, 26}  # noun.act, noun.artifact, noun.body, noun.process, noun.state

CARDIO_WORDS = re.compile(
    r"\b(heart|hearts|cardiac|cardiovascular|coronary|myocardi\w*|pericardi\w*|endocardi\w*|aort\w*|"
    r"arter(y|ies|ial)|arteriole\w*|veins?|venous|venules?|blood vessels?|blood pressure|hypertension|"
    r"hypotension|thromb\w*|embol\w*|angina|arrhythmi\w*|"
    r"circulatory|heartbeats?)\b", re.I)

# Reviewed by hand: synsets that rule 3 catches but that are not about the heart or blood vessels
# (brain ventricles, nerves, lymphatics, skin, bone ...). Offset and first lemma, checked like ROOTS.
EXCLUDE = {
    "00226711": "cardiospasm", "05571132": "cardiac_sphincter", "05502556": "ventricle",
    "05221895": "area", "05555017": "areola", "05592126": "costa", "05308481": "root_canal",
    "05386139": "Haversian_canal", "05327373": "periosteum", "05268619": "parenchyma",
    "05251789": "canal_of_Schlemm", "05496261": "hippocampus", "05497741": "caudate_nucleus",
    "05503401": "cerebral_aqueduct", "05319279": "ependyma", "14465768": "hydrocephalus",
    "14072934": "pulmonary_anthrax", "14134623": "tertiary_syphilis", "14291823": "electric_shock",
    "00707967": "chiropractic", "14260550": "aspiration_pneumonia", "03124700": "Cox-2_inhibitor",
    "00663094": "hormone_replacement_therapy", "03582305": "intravenous_anesthetic",
    "02711422": "angiogenesis_inhibitor", "14195939": "Cooley's_anemia", "14510955": "ergotism",
    "14470496": "Waterhouse-Friderichsen_syndrome", "14246097": "Wilms'_tumor", "14251435": "mesothelioma",
    "05587814": "hemal_arch", "05223248": "costal_groove", "05606801": "celom", "05507268": "lumbar_plexus",
    "05236582": "aortic_plexus", "14273084": "blood_spavin", "14327125": "hemorrhoid", "14326607": "headache",
    "05460473": "smooth_muscle", "05250190": "porta_hepatis", "14565927": "Turner's_syndrome",
    "14309938": "scalenus_syndrome", "14269772": "hypokalemia", "14226303": "erythema",
    "14222352": "acne_rosacea", "14043243": "anoxia", "05507977": "periarterial_plexus",
    "05506369": "carotid_plexus", "05506648": "choroid_plexus", "05505479": "splanchnic_nerve",
    "05505131": "sympathetic_nervous_system", "05505679": "parasympathetic_nervous_system",
    "05504532": "autonomic_nervous_system", "05287368": "elastic_tissue", "05396807": "lymph_vessel",
    "05236322": "plexus", "05553049": "chest_cavity", "05015117": "coldness", "05385534": "liver",
    "05404074": "lymph", "05430095": "lymph_node", "05536638": "ileocecal_valve",
}

LEXFILE_KIND = {4: "procedure", 6: "drug or device", 8: "body part", 22: "process", 26: "condition"}

N_TEST = 400
N_VALIDATION = 150
HELD_OUT_SYNSETS = 0.05  # share of synsets kept out of training entirely: their documents are validation prose
MAX_ANSWER_WORDS = 4
MAX_DEFINITION_WORDS = 24
MAX_DOC_TOKENS = 110
BODY_PART_WEIGHT = 0.5

TEMPLATES = {
    "term": [
        "What is the term for {definition}?",
        "Which term means {definition}?",
        "What do we call {definition}?",
        "Name the term defined as: {definition}.",
    ],
    "kind": [
        "{Name} is a kind of what?",
        "What is {name} a type of?",
        "What general class does {name} belong to?",
        "Of what is {name} a kind?",
    ],
    "synonym": [
        "What is another name for {name}?",
        "{Name} is also known as what?",
        "What else is {name} called?",
        "Give a synonym of {name}.",
    ],
    "part_of": [
        "{Name} is part of what?",
        "What is {name} a part of?",
        "Of which structure is {name} a part?",
        "{Name} forms part of what?",
    ],
    "trade_name": [
        "What is the trade name of {name}?",
        "Under which trade name is {name} sold?",
        "{Name} is sold under what brand name?",
        "Give a brand name of {name}.",
    ],
}

TRADE_NAME = re.compile(r"\(trade names? ([A-Z][\w-]*)")


def upper_first(s):
    return s[:1].upper() + s[1:]


def _hypernym_closure(synsets, offset, seen=None):
    seen = set() if seen is None else seen
    for t in synsets[offset].targets("@", "@i"):
        if t not in seen:
            seen.add(t)
            _hypernym_closure(synsets, t, seen)
    return seen


def select(synsets):
    """Returns {offset: reason} of the selected synsets."""
    for offset, lemma in [(o, l) for o, l, _ in ROOTS] + sorted(EXCLUDE.items()):
        if offset not in synsets or synsets[offset].words[0] != lemma:
            raise SystemExit("wordnet: synset " + offset + " is not '" + lemma + "'; this is not WordNet 3.0")
    anatomy = {o for o, _, a in ROOTS if a}
    reason = {}
    stack = [(o, "root") for o, _, _ in ROOTS]
    while stack:
        o, why = stack.pop()
        if o in reason or o in EXCLUDE:
            continue
        reason[o] = why
        s = synsets[o]
        for t in sorted(s.targets("~", "~i")):
            stack.append((t, "hyponym of " + o))
        if o in anatomy or why.startswith("part of"):
            for t in sorted(s.targets("%p")):
                stack.append((t, "part of " + o))
    # rule 3 adds single synsets (no closure: a definition that mentions an artery does not make all
    # kinds of the synset cardiovascular)
    for o in sorted(synsets):
        s = synsets[o]
        if o in reason or o in EXCLUDE or s.lexfile not in KEYWORD_LEXFILES:
            continue
        if not CARDIO_WORDS.search(s.definition().split(";")[0]):
            continue
        anchors = sorted(a for a in _hypernym_closure(synsets, o) if a in MEDICAL_ANCHORS)
        if anchors:
            reason[o] = "definition names the heart or vessels; is a " + MEDICAL_ANCHORS[anchors[0]]
    return reason


def _name(s):
    return s.lemmas()[0]


def facts_and_docs(synsets, selected):
    """One document per selected synset and the facts the QA pairs ask about."""
    docs = {}
    facts = []
    for o in sorted(selected):
        s = synsets[o]
        name = _name(s)
        hyper = s.targets("@", "@i")
        instance = bool(s.targets("@i")) and not s.targets("@")
        parent = _name(synsets[hyper[0]]) if hyper else None
        definition = s.definition()
        sentences = []
        if parent:
            link = "an instance of" if instance else "a kind of"
            sentences.append("{} is {} {}: {}.".format(upper_first(name), link, parent, definition))
        else:
            sentences.append("{}: {}.".format(upper_first(name), definition))
        others = s.lemmas()[1:]
        if others:
            sentences.append("It is also called {}.".format(_join(others)))
        holo = s.targets("#p")
        if holo:
            sentences.append("It is part of the {}.".format(_name(synsets[holo[0]])))
        parts = [_name(synsets[t]) for t in s.targets("%p")][:6]
        if parts:
            sentences.append("Its parts include {}.".format(_join(parts)))
        kinds = [_name(synsets[t]) for t in s.targets("~")][:6]
        if kinds:
            sentences.append("Kinds of {} include {}.".format(name, _join(kinds)))
        for ex in s.examples()[:2]:
            sentences.append('Example: "{}".'.format(ex.rstrip(".")))
        # the first sentence always; the others while the document fits a 128-token row
        doc = sentences[0]
        for extra in sentences[1:]:
            if estimate_tokens(doc + " " + extra) <= MAX_DOC_TOKENS:
                doc += " " + extra
        docs[o] = doc

        base = {"synset": o, "name": name, "Name": upper_first(name), "category": LEXFILE_KIND.get(s.lexfile, "other"),
                "doc": doc, "lemmas": [x.lower() for x in s.lemmas()]}
        first_clause = definition.split(";")[0].strip()
        if len(name.split()) <= MAX_ANSWER_WORDS and 3 <= len(first_clause.split()) <= MAX_DEFINITION_WORDS \
                and not first_clause.startswith("("):
            facts.append(dict(base, relation="term", definition=first_clause, answer=name))
        if parent and not instance and len(parent.split()) <= MAX_ANSWER_WORDS:
            facts.append(dict(base, relation="kind", answer=parent))
        trade = TRADE_NAME.search(s.gloss)
        if trade:
            facts.append(dict(base, relation="trade_name", answer=trade.group(1)))
        synonyms = [x for x in others if not trade or x != trade.group(1)]
        if synonyms and len(synonyms[0].split()) <= MAX_ANSWER_WORDS:
            facts.append(dict(base, relation="synonym", answer=synonyms[0]))
        if holo and len(_name(synsets[holo[0]]).split()) <= MAX_ANSWER_WORDS:
            facts.append(dict(base, relation="part_of", answer=_name(synsets[holo[0]])))
    return docs, facts


def _join(items):
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " and " + items[-1]


def question(fact, t):
    return TEMPLATES[fact["relation"]][t].format(**fact)


def _words(s):
    return set(re.findall(r"[a-z0-9]+", s.lower()))


def build(roots):
    synsets = load_nouns(roots["wordnet"])
    selected = select(synsets)
    docs, facts = facts_and_docs(synsets, selected)

    # synsets held out entirely: their documents are the domain validation prose
    order = sorted(selected)
    r = rng("cardio-synsets")
    held = set(r.sample(order, int(round(len(order) * HELD_OUT_SYNSETS))))
    facts = [f for f in facts if f["synset"] not in held]

    # questions must identify their answer: drop facts whose question text (in any phrasing) is shared
    # by another fact with a different answer (same lemma in two synsets, same definition twice)
    answers_of = {}
    for f in facts:
        for t in range(len(TEMPLATES[f["relation"]])):
            answers_of.setdefault(question(f, t), set()).add(f["answer"].lower())
    facts = [f for f in facts if all(len(answers_of[question(f, t)]) == 1 for t in range(len(TEMPLATES[f["relation"]])))]
    # and each (relation, synset) once
    seen, unique = set(), []
    for f in facts:
        key = (f["relation"], f["synset"])
        if key not in seen:
            seen.add(key)
            f["id"] = f["synset"] + ":" + f["relation"]
            unique.append(f)
    facts = unique
    # a test question whose answer is spelled out in the question ("femoral vein" -> "vein") tests
    # nothing: such facts are trained on but never held out
    for f in facts:
        given = f["definition"] if f["relation"] == "term" else f["name"]
        f["trivial"] = _words(f["answer"]) <= _words(given)
    # only facts whose answer the synset's training document states may be held out
    for f in facts:
        f["in_doc"] = f["answer"].lower() in f["doc"].lower()
    eligible = [f for f in facts if not f["trivial"] and f["in_doc"]]
    trivial = [f for f in facts if f["trivial"] or not f["in_doc"]]
    # test questions stratified by relation and WordNet category; named vessels and other body parts
    # (two thirds of the facts) count half, so diseases, drugs and procedures are well represented
    train, validation, test = holdout_split(
        eligible, TEMPLATES, N_TEST, N_VALIDATION, "cardio-qa",
        group=lambda f: (f["relation"], f["category"]),
        weight=lambda f: BODY_PART_WEIGHT if f["category"] == "body part" else 1.0)
    for f in sorted(trivial, key=lambda f: f["id"]):  # trained on, never held out
        for t in range(len(TEMPLATES[f["relation"]])):
            train.append((f, t))

    train_qa = [qa(question(f, t), f["answer"]) for f, t in train]
    rng("cardio-qa-train").shuffle(train_qa)
    val_qa = [qa(question(f, t), f["answer"]) for f, t in validation]
    rng("cardio-qa-validation").shuffle(val_qa)

    train_docs = [text(docs[o]) for o in order if o not in held]
    val_docs = [text(docs[o]) for o in order if o in held]
    rng("cardio-prose-train").shuffle(train_docs)

    probe_qa = []
    probe_mc = []
    pools = {}
    for f in facts:
        pools.setdefault((f["relation"], f["category"]), set()).add(f["answer"])
        pools.setdefault((f["relation"], None), set()).add(f["answer"])
    mr = rng("cardio-mc")
    for f, t in sorted(test, key=lambda x: x[0]["id"]):
        p = qa(question(f, t), f["answer"])["prompt"]
        probe_qa.append({"prompt": p, "answer": f["answer"], "tag": f["relation"], "category": f["category"]})
        # a distractor is never the answer in another spelling, nor another name of the same synset
        own = set(f["lemmas"]) | {f["answer"].lower()}
        wrong = sorted(a for a in pools[(f["relation"], f["category"])] if a.lower() not in own)
        if len(wrong) < 3:
            wrong = sorted(a for a in pools[(f["relation"], None)] if a.lower() not in own)
        choices = mr.sample(wrong, 3)
        k = mr.randrange(4)
        choices.insert(k, f["answer"])
        probe_mc.append({"prompt": p, "choices": choices, "answer": k, "tag": f["relation"], "category": f["category"]})
    order_r = rng("cardio-probe-order")
    idx = list(range(len(probe_qa)))
    order_r.shuffle(idx)
    probe_qa = [probe_qa[i] for i in idx]
    probe_mc = [probe_mc[i] for i in idx]

    selection_rows = []
    for o in order:
        s = synsets[o]
        selection_rows.append("\t".join([o, _name(s), "validation" if o in held else "train", selected[o]]))

    by_rel = {}
    for f in facts:
        by_rel[f["relation"]] = by_rel.get(f["relation"], 0) + 1
    counts = {
        "synsets": len(order), "held_out_synsets": len(held), "facts": len(facts), "facts_by_relation": by_rel,
        "trivial_facts": sum(1 for f in facts if f["trivial"]),
        "facts_not_stated_in_document": sum(1 for f in facts if not f["in_doc"]), "train_questions": len(train_qa), "validation_questions": len(val_qa),
        "test_questions": len(probe_qa), "train_documents": len(train_docs), "validation_documents": len(val_docs),
        "selected_by": {
            "root": sum(1 for v in selected.values() if v == "root"),
            "hyponym": sum(1 for v in selected.values() if v.startswith("hyponym")),
            "part": sum(1 for v in selected.values() if v.startswith("part")),
            "definition+class": sum(1 for v in selected.values() if v.startswith("definition")),
        },
    }
    return {
        "prose_train": train_docs, "prose_validation": val_docs, "qa_train": train_qa, "qa_validation": val_qa,
        "probe_qa": probe_qa, "probe_mc": probe_mc, "selection": selection_rows,
    }, counts
