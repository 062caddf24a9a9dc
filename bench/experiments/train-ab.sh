#!/bin/bash
# A/B of two builds of retain on real training runs: each of the demo's per-method configs
# (runs/demo/configs/*.yaml, written by `./retain demo`) trained for STEPS steps with jar A, then with
# jar B, for ROUNDS rounds; prints each run's mean target tokens/s over the steps after 10 (the
# trainer's own metric, so both jars are timed on the same batches), its final loss and wall time.
#
#   cp target/retain.jar target/retain-before.jar          # build A, then change the code
#   mvn -B -q -o package -DskipTests                       # build B (target/retain.jar)
#   bench/experiments/train-ab.sh target/retain-before.jar target/retain.jar
#
# Env: STEPS (40), ROUNDS (2), CFGS ("naive lora distill ewc"), OUT (/tmp/train-ab). The jars must sit
# in target/ (their manifests find the libraries in target/lib). Runs with tcmalloc as the launcher does.
# A CFGS entry "a:b" runs config a with jar A and config b with jar B: an A/B of two settings on one jar,
# e.g. the teacher's precision (bench/results/train-kd-bf16.txt):
#   for c in distill all; do sed "s|'on': all|&\n    teacher_precision: bfloat16|; s|demo/$c\$|demo/$c-bf16|" \
#     runs/demo/configs/$c.yaml > runs/demo/configs/$c-bf16.yaml; done
#   CFGS="distill:distill-bf16 all:all-bf16" bench/experiments/train-ab.sh target/retain.jar target/retain.jar
set -euo pipefail
cd "$(dirname "$0")/../.."
a=${1:?jar A}; b=${2:?jar B}
steps=${STEPS:-40}; rounds=${ROUNDS:-2}; out=${OUT:-/tmp/train-ab}
mkdir -p "$out"
tc=/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4
[ -e "$tc" ] && export LD_PRELOAD=$tc TCMALLOC_LARGE_ALLOC_REPORT_THRESHOLD=1099511627776
export OPT_OUT_TRACKING=true DJL_OFFLINE=true
for round in $(seq 1 "$rounds"); do
  for pair in ${CFGS:-naive lora distill ewc}; do
    for side in A B; do
      jar=$a; cfg=${pair%%:*}
      [ $side = B ] && jar=$b && cfg=${pair##*:}
      [ -f "runs/demo/configs/$cfg.yaml" ] || { echo "runs/demo/configs/$cfg.yaml missing: run ./retain demo once" >&2; exit 2; }
      run="$out/$cfg-$side-$round"
      t0=$(date +%s.%N)
      java -Xmx8g -Dai.djl.offline=true -Dretain.home="$PWD" -jar "$jar" train -c "runs/demo/configs/$cfg.yaml" \
        --max-steps "$steps" --output "$run" --overwrite > "$run.log" 2>&1 || { echo "$cfg $side failed, see $run.log" >&2; exit 1; }
      t1=$(date +%s.%N)
      python3 - "$run/metrics.jsonl" "$cfg" "$side" "$round" "$t0" "$t1" <<'PY'
import json, sys
f, cfg, side, rnd, t0, t1 = sys.argv[1:]
tps, loss, kd = [], None, None
for line in open(f):
    d = json.loads(line)
    if d.get("kind") == "train":
        loss = d["loss"]
        kd = d.get("terms", {}).get("kd")
        if d["step"] > 10:
            tps.append(d["tokens_per_s"])
print(f"{cfg:8s} {side} round {rnd}: {sum(tps) / len(tps):8.1f} target tok/s  final loss {loss:.6f}  "
      + (f"kd {kd:.6f}  " if kd is not None else "") + f"wall {float(t1) - float(t0):6.1f} s", flush=True)
PY
    done
  done
done
