import json

import numpy as np
import pytest
import torch
from PIL import Image

from gankit.cli import main
from gankit.figures import interpolation_path, make_grid
from gankit.metrics.neighbours import nearest


def test_nearest_matches_brute_force():
    gen = torch.Generator().manual_seed(0)
    data = torch.rand(257, 30, generator=gen)
    queries = torch.cat([data[[5, 100, 256]] + 1e-3, torch.rand(4, 30, generator=gen)])
    idx, d2 = nearest(queries, data, chunk=50)
    brute = ((queries[:, None].double() - data[None].double()) ** 2).sum(-1)
    assert idx.tolist() == brute.argmin(1).tolist() and idx[:3].tolist() == [5, 100, 256]
    torch.testing.assert_close(d2, brute.min(1).values)


def test_make_grid_layout():
    images = torch.zeros(5, 1, 3, 4)
    images[4] = 1.0
    grid = make_grid(images, nrow=2, pad=1)
    assert grid.shape == (3 * 4 + 1, 2 * 5 + 1, 1)
    assert grid[9:12, 1:5, 0].min() == 255 and grid[1:4, 1:5, 0].max() == 0  # image 4 at row 2, col 0


def test_linear_interpolation_path():
    a, b, c = torch.tensor([0.0, 0.0]), torch.tensor([1.0, 2.0]), torch.tensor([3.0, 2.0])
    path = interpolation_path(torch.stack([a, b, c]), steps=4)
    assert path.shape == (9, 2)
    torch.testing.assert_close(path[[0, 4, 8]], torch.stack([a, b, c]))
    torch.testing.assert_close(path[2], (a + b) / 2)


def test_spherical_interpolation_keeps_norm_between_equal_norm_points():
    a, b = torch.tensor([1.0, 0.0, 0.0]), torch.tensor([0.0, 1.0, 0.0])
    path = interpolation_path(torch.stack([a, b]), steps=6, spherical=True)
    torch.testing.assert_close(path.norm(dim=1), torch.ones(7))
    torch.testing.assert_close(path[-1], b)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, fixture_dir):
    out = tmp_path_factory.mktemp("figs") / "run"
    assert main(["train", "--dataset", "idx", "--data-dir", str(fixture_dir), "--epochs", "1",
                 "--batch-size", "50", "--grid-size", "4", "--out", str(out), "--no-progress"]) == 0
    return out


def test_figure_samples_command(run_dir, capsys):
    assert main(["figure", "samples", str(run_dir)]) == 0
    path = run_dir / "figures" / "figure2-samples.png"
    assert str(path) in capsys.readouterr().out
    image = np.asarray(Image.open(path))
    assert image.shape == (3 * (4 * 30 + 2), 3 * (6 * 30 + 2), 3)
    # the neighbour column is framed in orange-yellow
    assert tuple(image[3 * 1, 3 * (5 * 30 + 1)]) == (255, 200, 0)


def test_figure_interpolate_command(run_dir, tmp_path):
    out = tmp_path / "f3.png"
    assert main(["figure", "interpolate", str(run_dir), "--rows", "2", "--steps", "3", "--endpoints", "3",
                 "--spherical", "--out", str(out)]) == 0
    assert Image.open(out).size == (2 * (7 * 30 + 2), 2 * (2 * 30 + 2))


def test_evaluate_command_logs_protocol(run_dir, capsys):
    code = main(["evaluate", str(run_dir), "--n-samples", "300", "--n-valid", "50"])
    assert code == 0 and "Parzen log-likelihood" in capsys.readouterr().out
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    row = rows[-1]
    assert row["kind"] == "parzen" and row["n_samples"] == 300 and row["valid_split"] == "valid[:50]"
    assert row["n_test"] == 200 and len(row["sigma_grid"]) == 10 and row["sigma"] in row["sigma_grid"]
    assert row["step"] == 20 and np.isfinite(row["test_ll"]) and row["test_se"] > 0


def test_figure_errors(run_dir, capsys):
    with pytest.raises(SystemExit) as exit_:  # a usage error, from argparse: exit status 2
        main(["figure", "interpolate", str(run_dir), "--endpoints", "1"])
    assert exit_.value.code == 2 and "--endpoints: must be at least 2, got 1" in capsys.readouterr().err
