import pytest
import torch

from a2 import runtime
from a2.errors import A2Error


def test_seed_everything_makes_torch_deterministic():
    runtime.seed_everything(3)
    a = torch.rand(4)
    runtime.seed_everything(3)
    assert torch.equal(a, torch.rand(4))


def test_pick_device_honours_preference(monkeypatch):
    assert runtime.pick_device("cpu").type == "cpu"
    monkeypatch.setenv("A2_DEVICE", "cpu")
    assert runtime.pick_device().type == "cpu"


def test_fast_mode_redirects_outputs(monkeypatch):
    monkeypatch.delenv("A2_OUTPUT_DIR", raising=False)
    monkeypatch.setattr(runtime, "_fast", False)
    assert runtime.results_path("x.json") == runtime.REPO_ROOT / "results" / "x.json"
    rt = runtime.setup(seed=1, fast=True, device="cpu")
    assert rt.fast and runtime.is_fast()
    assert runtime.weights_path("m.pt") == runtime.REPO_ROOT / "build" / "fast" / "weights" / "m.pt"
    assert "seed=1" in str(rt)


@pytest.mark.parametrize("arithmetic, dtype", [("fp32", torch.float32), ("bf16", torch.bfloat16),
                                               ("fp16", torch.float16)])
def test_autocast_runs_the_named_arithmetic(arithmetic, dtype):
    with runtime.autocast("cpu", arithmetic):
        assert torch.nn.Linear(4, 4)(torch.randn(2, 4)).dtype == dtype


def test_unknown_arithmetic_is_a_one_line_error(monkeypatch):
    with pytest.raises(A2Error, match="not one of"):
        runtime.autocast("cpu", "fp8")
    monkeypatch.setenv("A2_PRECISION", "half")
    with pytest.raises(A2Error, match="A2_PRECISION"):
        runtime.resolve_arithmetic("cpu")


def test_resolve_arithmetic_follows_force_then_measurement(monkeypatch):
    monkeypatch.delenv("A2_PRECISION", raising=False)
    assert runtime.resolve_arithmetic("cpu", "fp16") == "fp16"
    assert runtime.resolve_arithmetic("cpu", step_seconds={"fp32": 1.0, "bf16": 2.0}) == "fp32"
    assert runtime.resolve_arithmetic("cpu", step_seconds={"fp32": 2.0, "bf16": 1.0}) == "bf16"
    # within the timing noise fp32, the reference, is kept: a choice that does not flip between runs
    assert runtime.resolve_arithmetic("cpu", step_seconds={"fp32": 1.0, "bf16": 0.9}) == "fp32"
    assert runtime.resolve_arithmetic("cpu", step_seconds={"fp32": 1.0, "bf16": 0.8}) == "bf16"
    assert runtime.resolve_arithmetic("cpu") == ("bf16" if runtime.cpu_has_bf16() else "fp32")
    monkeypatch.setenv("A2_PRECISION", "fp32")
    assert runtime.resolve_arithmetic("cpu", step_seconds={"fp32": 2.0, "bf16": 1.0}) == "fp32"
    assert runtime.resolve_arithmetic("cpu", "bf16") == "bf16"  # an explicit parameter beats the environment
    assert runtime.setup(seed=0, fast=True, device="cpu").arithmetic == "fp32"


def test_grad_scaler_is_on_for_fp16_only():
    assert runtime.grad_scaler("cpu", "fp16").is_enabled()
    assert not runtime.grad_scaler("cpu", "bf16").is_enabled()
    assert not runtime.grad_scaler("cpu", "fp32").is_enabled()
    assert runtime.device_kind("cpu") == "cpu"


def test_mps_is_refused_where_there_is_none(monkeypatch):
    monkeypatch.setattr(runtime, "_mps_available", lambda: False)
    with pytest.raises(A2Error, match="no Apple MPS"):
        runtime.pick_device("mps")


def test_git_commit_is_a_string():
    assert isinstance(runtime.git_commit(), str) and runtime.git_commit()


def test_git_commit_ignores_run_outputs(tmp_path, monkeypatch):
    import subprocess

    def git(*args):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q")
    git("config", "user.email", "t@example.com")
    git("config", "user.name", "t")
    (tmp_path / "results").mkdir()
    for name in ("code.py", "results/r.json", "nb.ipynb"):
        (tmp_path / name).write_text("0")
    git("add", ".")
    git("commit", "-qm", "init")
    monkeypatch.setattr(runtime, "REPO_ROOT", tmp_path)
    runtime.git_commit.cache_clear()
    (tmp_path / "results/r.json").write_text("1")
    (tmp_path / "nb.ipynb").write_text("1")
    assert not runtime.git_commit().endswith("+dirty")  # outputs of a run do not count
    runtime.git_commit.cache_clear()
    (tmp_path / "code.py").write_text("1")
    assert runtime.git_commit().endswith("+dirty")
    runtime.git_commit.cache_clear()


def test_bad_device_is_a_one_line_error(monkeypatch):
    monkeypatch.setenv("A2_DEVICE", "gpu")
    with pytest.raises(A2Error, match="'gpu' .* is not a torch device"):
        runtime.pick_device()
    if not torch.cuda.is_available():
        with pytest.raises(A2Error, match="no usable CUDA GPU"):
            runtime.pick_device("cuda")


def test_env_flag(monkeypatch):
    for value, expected in [("1", True), ("yes", True), (" TRUE ", True), ("0", False), ("", False), ("no", False)]:
        monkeypatch.setenv("A2_X", value)
        assert runtime.env_flag("A2_X") is expected
    monkeypatch.delenv("A2_X")
    assert runtime.env_flag("A2_X", True) is True
    monkeypatch.setenv("A2_X", "maybe")
    with pytest.raises(A2Error, match="A2_X='maybe' is neither yes nor no"):
        runtime.env_flag("A2_X")


def test_output_dir_pointing_at_a_file(monkeypatch, tmp_path):
    (tmp_path / "f").write_text("x")
    monkeypatch.setenv("A2_OUTPUT_DIR", str(tmp_path / "f"))
    with pytest.raises(A2Error, match="A2_OUTPUT_DIR=.* is a file"):
        runtime.output_dir()


def test_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("A2_CACHE_DIR", str(tmp_path))
    assert runtime.cache_dir() == tmp_path
    monkeypatch.delenv("A2_CACHE_DIR")
    assert runtime.cache_dir() == runtime.REPO_ROOT / "build" / "cache"
