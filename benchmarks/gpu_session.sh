#!/usr/bin/env bash
# The GPU half of issue 14 in one device call: the CUDA tests, then the CUDA benchmarks, then the whole
# suite, each step under its own time limit and all under one deadline (so one slow step cannot eat the
# others), results and logs into $OUT. If the CUDA tests fail, the benchmarks of the captured step would
# time its fallback: the session then times the epoch benchmark only (plain loop, eager step, floor) and
# stops, leaving device time for a second call after the fix. The device machine has torch but no
# internet and no gankit install, so gankit runs from src/ and the data comes along in data/ (git-ignored).
# From this machine:
#
#   mkdir -p data/gankit/mnist && cp -r ~/.cache/gankit/classifiers data/gankit/
#   for f in ~/.cache/gankit/mnist/*; do gzip -c $f > data/gankit/mnist/$(basename $f).gz; done   (12 MB)
#   device run: DEADLINE=520 bash benchmarks/gpu_session.sh tests epoch dcgan sweep suite   (carry: data)
#   or, once those are measured: DEADLINE=540 bash benchmarks/gpu_session.sh tests dcgan sweep table1
#
# then copy the *_cuda.json files it wrote under $OUT into benchmarks/results/ and quote them.
# Steps: tests (the CUDA tests), epoch, dcgan, sweep, table1 (Table 1 over seeds until the deadline), suite (the
# rest of the suite, on CPU workers).
set -u
cd "$(dirname "$0")/.."
# the cache is $XDG_CACHE_HOME/gankit, for the tests' real-MNIST fixtures too (they drop GANKIT_CACHE)
unset GANKIT_CACHE
export XDG_CACHE_HOME="$PWD/data" GANKIT_OFFLINE=1 PYTHONUNBUFFERED=1 PYTHONPATH="$PWD/src:$PWD/benchmarks${PYTHONPATH:+:$PYTHONPATH}"
OUT="${OUT:-$PWD/runs/gpu-session}"
mkdir -p "$OUT"
[ -d data/gankit/mnist ] || echo "warning: data/gankit/mnist is missing; the MNIST steps will fail (see the top of $0)"
PYTHON="${PYTHON:-python3}"  # the device's python3 holds torch
"$PYTHON" -c "import torch; print(torch.__version__, torch.cuda.get_device_name() if torch.cuda.is_available() else 'no GPU')"

DEADLINE="${DEADLINE:-1800}"  # seconds for the whole session; each step gets the lesser of its limit and what is left
FAILED=""
step() {  # step NAME SECONDS COMMAND...: run it, keep its log, print its end
    local name=$1 limit=$2
    shift 2
    local left=$((DEADLINE - SECONDS))
    if [ "$left" -lt 20 ]; then echo "== $name: skipped, $left s left of the deadline"; return; fi
    [ "$left" -lt "$limit" ] && limit=$left
    local start=$SECONDS
    timeout "$limit" "$@" > "$OUT/$name.log" 2>&1
    local rc=$?
    [ "$rc" = 0 ] || FAILED="$FAILED $name"
    echo "== $name: exit $rc after $((SECONDS - start)) s (limit $limit s)"
    tail -n 15 "$OUT/$name.log"
}

for name in "$@"; do
    if [[ " $FAILED " == *" tests "* && $name != epoch ]]; then
        echo "== $name: skipped, the CUDA tests failed (see tests.log)"
        continue
    fi
    case $name in
        tests) step tests 180 "$PYTHON" -m pytest -q -p no:cacheprovider -rsP tests/test_cuda.py tests/test_captured.py ;;
        epoch) step epoch 180 "$PYTHON" benchmarks/epoch_speed.py --device cuda --repeats 3 \
                   --out "$OUT/epoch_speed_cuda.json" ;;
        dcgan) step dcgan 150 "$PYTHON" benchmarks/dcgan_speed.py --device cuda --images 38400 \
                   --out "$OUT/dcgan_speed_cuda.json" ;;
        sweep) step sweep 150 "$PYTHON" benchmarks/sweep_speed.py --device cuda --parallel 3 --seeds 3 --epochs 10 \
                   --repeats 1 --out "$OUT/sweep_speed_cuda.json" ;;
        table1)  # Table 1 over 3 seeds to the monitor's plateau, in threads, for what is left of the deadline; a
                 # timeout's SIGTERM checkpoints them. Back: one tar of the table (if reached) and each seed's rows.
                 step table1 100000 "$PYTHON" -m gankit reproduce table1 --seeds 0,1,2 --parallel 3 --in-process \
                     --epochs 1500 --patience 100 --out "$PWD/runs/table1-gpu"
                 (cd runs/table1-gpu && tar czf "$OUT/table1.tar.gz" --ignore-failed-read table1-seeds.json \
                     parzen-curves.png seed-*.log seed-*/metrics.jsonl seed-*/config.yaml) ;;
        suite) workers=$("$PYTHON" -c "import xdist; print('-n 8')" 2>/dev/null)  # pytest-xdist, where it is there
               OMP_NUM_THREADS=2 step suite 600 "$PYTHON" -m pytest -q -p no:cacheprovider $workers \
                   --ignore=tests/test_cuda.py --ignore=tests/test_captured.py tests ;;
        *) echo "unknown step $name; the steps are: tests epoch dcgan sweep table1 suite"; exit 2 ;;
    esac
done
echo "== done after $SECONDS s; failed:${FAILED:- none}"
