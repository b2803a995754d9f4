#!/usr/bin/env bash
# The GPU half of issue 14 in as few device calls as possible: the CUDA tests, then the CUDA benchmarks,
# each step under its own time limit (so one slow step cannot eat the others), results and logs into $OUT.
# The device machine has torch but no internet and no gankit install, so gankit runs from src/ and the
# data comes along in data/ (git-ignored). From this machine:
#
#   mkdir -p data/gankit/mnist && cp -r ~/.cache/gankit/classifiers data/gankit/
#   for f in ~/.cache/gankit/mnist/*; do gzip -c $f > data/gankit/mnist/$(basename $f).gz; done   (11 MB)
#   device run: bash benchmarks/gpu_session.sh tests epoch      (carry: data)   about 6 minutes
#   device run: bash benchmarks/gpu_session.sh dcgan sweep      (carry: data)   about 8 minutes
#
# then copy the *_cuda.json files it wrote under $OUT into benchmarks/results/ and quote them.
# Steps: suite (the whole test suite), tests (the CUDA tests only), epoch, dcgan, sweep.
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

step() {  # step NAME SECONDS COMMAND...: run it, keep its log, print its end
    local name=$1 limit=$2
    shift 2
    local start=$SECONDS
    timeout "$limit" "$@" > "$OUT/$name.log" 2>&1
    echo "== $name: exit $? after $((SECONDS - start)) s (limit $limit s)"
    tail -n 15 "$OUT/$name.log"
}

for name in "$@"; do
    case $name in
        suite) step suite 540 "$PYTHON" -m pytest -q -p no:cacheprovider tests ;;
        tests) step tests 240 "$PYTHON" -m pytest -q -p no:cacheprovider tests/test_cuda.py tests/test_captured.py ;;
        epoch) step epoch 240 "$PYTHON" benchmarks/epoch_speed.py --device cuda --repeats 3 \
                   --out "$OUT/epoch_speed_cuda.json" ;;
        dcgan) step dcgan 300 "$PYTHON" benchmarks/dcgan_speed.py --device cuda --images 38400 \
                   --out "$OUT/dcgan_speed_cuda.json" ;;
        sweep) step sweep 240 "$PYTHON" benchmarks/sweep_speed.py --device cuda --parallel 3 --seeds 3 --epochs 3 \
                   --repeats 1 --out "$OUT/sweep_speed_cuda.json" ;;
        *) echo "unknown step $name; the steps are: suite tests epoch dcgan sweep"; exit 2 ;;
    esac
done
