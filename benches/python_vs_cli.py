"""Times the Python module against the command line on the same files, in one run: N = 2000 base
inputs of two random tanh networks (D = 8 and 12, M = 32), the CPU path, 3 interleaved runs each.

    python benches/python_vs_cli.py [path/to/netmatch]    # in a venv with the netmatch wheel installed

Prints the medians and their ratios (the CLI's time includes starting the process, reading the files
and writing the report directory; Python's is shown with and without `Report.save`)."""

import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

import netmatch


def tanh_net(width, seed):
    rng = np.random.default_rng(seed)
    w, b = rng.standard_normal((2, width)), 0.5 * rng.standard_normal(width)
    return lambda x: np.tanh(x @ w + b)


def main():
    cli = sys.argv[1] if len(sys.argv) > 1 else str(pathlib.Path(__file__).resolve().parents[1] / "target/release/netmatch")
    tmp = pathlib.Path(tempfile.mkdtemp())
    x = np.random.default_rng(21).uniform(0, 1, (2000, 2)) * [1.0, 0.6]
    netmatch.record(tanh_net(8, 101), x, sigma=0.01, m=32, seed=1, save=tmp / "a.npz", progress=False)
    netmatch.record(tanh_net(12, 202), x, sigma=0.01, m=32, seed=2, save=tmp / "b.npz", progress=False)
    files = [str(tmp / "a.npz"), str(tmp / "b.npz")]
    times = {"cli": [], "python": [], "python+save": []}
    for _ in range(3):
        start = time.perf_counter()
        subprocess.run(
            [cli, "compare", "--a", files[0], "--b", files[1], "--backend", "cpu", "--quiet", "--force", "--out", str(tmp / "cli")],
            check=True,
            capture_output=True,
        )
        times["cli"].append(time.perf_counter() - start)
        start = time.perf_counter()
        report = netmatch.compare(*files, backend="cpu", progress=False)
        times["python"].append(time.perf_counter() - start)
        report.save(tmp / "py", force=True)
        times["python+save"].append(time.perf_counter() - start)
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"python_vs_cli: N = 2000, D = 8 / 12, M = 32, CPU path, medians of 3 (verdict {report.verdict})")
    for k, v in med.items():
        print(f"  {k:<12} {v:6.2f} s  ({v / med['cli']:.2f}x the CLI)")


if __name__ == "__main__":
    main()
