"""Where and how code runs: device choice, seeding, the arithmetic (fp32/bf16/fp16), the FAST switch, output folders.

Every notebook starts with ``rt = runtime.setup(seed=SEED, fast=FAST)``. In FAST mode the results
and weights go to ``build/fast/`` (or ``$A2_OUTPUT_DIR``) so a smoke run never overwrites the
committed outputs of a full run.
"""

from __future__ import annotations

import contextlib
import os
import platform
import random
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import torch

from a2.errors import A2Error

REPO_ROOT = Path(__file__).resolve().parents[2]

_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"", "0", "false", "no", "off"}


def env_flag(name: str, default: bool = False) -> bool:
    """A yes/no environment variable; a value that is neither (``A2_FAST=maybe``) is an error, not False."""
    value = os.environ.get(name)
    if value is None:
        return default
    if value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise A2Error(f"{name}={value!r} is neither yes nor no", f"set {name}=1 or {name}=0, or unset it")


_fast: bool = os.environ.get("A2_FAST", "0").strip().lower() in _TRUE


def is_fast() -> bool:
    """True when notebooks should run on a small slice (tests, smoke runs)."""
    return _fast


def set_fast(value: bool) -> None:
    global _fast
    _fast = bool(value)


def _mps_available() -> bool:
    return getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()


def pick_device(prefer: str | None = None) -> torch.device:
    """``prefer`` if given (or ``$A2_DEVICE``), else cuda > mps > cpu."""
    prefer = prefer or os.environ.get("A2_DEVICE")
    if prefer:
        try:
            device = torch.device(prefer)
        except RuntimeError:
            raise A2Error(f"device {prefer!r} (A2_DEVICE or device=) is not a torch device",
                          "use cpu, cuda, cuda:0 or mps, or unset A2_DEVICE") from None
        if device.type == "cuda" and not torch.cuda.is_available():
            raise A2Error(f"device {prefer!r} was asked for but this machine has no usable CUDA GPU",
                          "use cpu, or unset A2_DEVICE to pick the best device automatically")
        if device.type == "mps" and not _mps_available():
            raise A2Error(f"device {prefer!r} was asked for but this machine has no Apple MPS device",
                          "use cpu, or unset A2_DEVICE to pick the best device automatically")
        if device.type not in ("cpu", "cuda", "mps"):
            raise A2Error(f"device {prefer!r} is not supported here", "use cpu, cuda or mps, or unset A2_DEVICE")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    if _mps_available():
        return torch.device("mps")
    return torch.device("cpu")


def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch (all devices) so reruns give the same figures."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)


@cache
def cpu_has_bf16() -> bool:
    """True if the CPU has native bf16 arithmetic (AVX-512 BF16 or AMX), where autocast pays off."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return any(flag in flags for flag in ("avx512_bf16", "amx_bf16"))


ARITHMETICS = ("fp32", "bf16", "fp16")


def requested_arithmetic(value: str | None = None) -> str:
    """``value`` (a notebook's ``PRECISION``), else ``$A2_PRECISION``, else ``"auto"``; checked.

    An explicit value wins over the environment; ``"auto"`` defers to ``A2_PRECISION`` when it is set.
    """
    if value is None or value == "auto":
        value = os.environ.get("A2_PRECISION") or "auto"
    value = value.strip().lower()
    if value not in ("auto", *ARITHMETICS):
        raise A2Error(f"precision {value!r} (A2_PRECISION or PRECISION) is not one of auto, fp32, bf16, fp16",
                      "set A2_PRECISION=auto|fp32|bf16|fp16, or unset it")
    return value


MIN_SPEEDUP = 0.15  # a reduced arithmetic must save at least this share of fp32's step time to be chosen


def resolve_arithmetic(device: torch.device | str, requested: str | None = "auto",
                       step_seconds: dict[str, float] | None = None) -> str:
    """The arithmetic a model trains in: ``"fp32"``, ``"bf16"`` or ``"fp16"``.

    A forced value (argument or ``A2_PRECISION``) is used as is. ``auto`` means: on CUDA, bf16 where the
    GPU supports it, else fp16 (trained with a loss scaler, see :func:`grad_scaler`); elsewhere the
    measured ``step_seconds`` decide (bf16 can be slower than fp32 even on CPUs that have it): a reduced
    arithmetic only when it is at least ``MIN_SPEEDUP`` faster than fp32, the reference. Timings of short
    steps vary by 10-20% from run to run, and a bare "faster of the two" flipped a model between bf16 and
    fp32 across two runs of the same notebook on one machine, which changed that model's figures. With
    no measurement: bf16 on CPUs with native bf16, fp32 otherwise.
    """
    choice = requested_arithmetic(requested)
    if choice != "auto":
        return choice
    device = torch.device(device)
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    if step_seconds:
        fastest = min(step_seconds, key=step_seconds.get)
        reference = step_seconds.get("fp32")
        if fastest != "fp32" and reference is not None and step_seconds[fastest] > (1 - MIN_SPEEDUP) * reference:
            return "fp32"
        return fastest
    return "bf16" if device.type == "cpu" and cpu_has_bf16() else "fp32"


def autocast(device: torch.device | str, arithmetic: str = "fp32") -> contextlib.AbstractContextManager:
    """Autocast to ``arithmetic`` on ``device`` (``"fp32"``: nothing happens)."""
    device = torch.device(device)
    dtype = {"fp16": torch.float16, "bf16": torch.bfloat16}.get(arithmetic)
    if arithmetic not in ARITHMETICS:
        raise A2Error(f"arithmetic {arithmetic!r} is not one of {', '.join(ARITHMETICS)}",
                      "pass the value of runtime.resolve_arithmetic")
    return torch.autocast(device.type, dtype=dtype) if dtype is not None else contextlib.nullcontext()


def grad_scaler(device: torch.device | str, arithmetic: str) -> torch.amp.GradScaler:
    """A loss scaler that is on only for fp16, where small gradients would otherwise underflow to zero.

    Disabled, ``scale`` returns the loss unchanged and ``step`` is a plain optimizer step, so one training
    loop serves every device and arithmetic.
    """
    return torch.amp.GradScaler(torch.device(device).type, enabled=arithmetic == "fp16")


def device_kind(device: torch.device | str) -> str:
    """``"cpu"``, ``"cuda"`` or ``"mps"``: what a results file records beside its arithmetic."""
    return torch.device(device).type


def output_dir() -> Path:
    """Root for ``results/`` and ``weights/``: ``$A2_OUTPUT_DIR``, else the repo, or ``build/fast`` in FAST mode."""
    env = os.environ.get("A2_OUTPUT_DIR")
    if env:
        path = Path(env).expanduser().resolve()
        if path.exists() and not path.is_dir():
            raise A2Error(f"A2_OUTPUT_DIR={env} is a file, not a folder",
                          "set A2_OUTPUT_DIR to a folder (it is created if missing), or unset it")
        return path
    return REPO_ROOT / "build" / "fast" if _fast else REPO_ROOT


def cache_dir() -> Path:
    """``$A2_CACHE_DIR`` or ``<repo>/build/cache``: derived data that can always be rebuilt (not created here)."""
    return Path(os.environ.get("A2_CACHE_DIR") or REPO_ROOT / "build" / "cache").expanduser().resolve()


def results_path(name: str) -> Path:
    """``results/<name>`` under :func:`output_dir`."""
    return output_dir() / "results" / name


def weights_path(name: str) -> Path:
    """``weights/<name>`` under :func:`output_dir`."""
    return output_dir() / "weights" / name


RUN_OUTPUTS = ("*.ipynb", "results", "weights", "README.md", "report/figures")


@cache
def git_commit() -> str:
    """Short hash of HEAD, with ``+dirty`` if tracked *source* files changed, or ``"unknown"``.

    A run rewrites its own notebook, ``results/``, ``weights/`` and the README table while it
    executes; those are outputs, not code, so they do not make the commit dirty.
    """
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", ".", *(f":!{p}" for p in RUN_OUTPUTS)],
            cwd=REPO_ROOT, capture_output=True, text=True,
        ).stdout.strip()
        return sha + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def describe_device(device: torch.device) -> str:
    """Human-readable device, e.g. ``cpu (2 threads, bf16 autocast)``."""
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    if device.type == "cpu":
        extra = ", native bf16" if cpu_has_bf16() else ""
        return f"cpu ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads{extra})"
    return str(device)


@dataclass(frozen=True)
class Runtime:
    """What :func:`setup` decided, handy to print at the top of a notebook."""

    seed: int
    fast: bool
    device: torch.device
    output_dir: Path

    @property
    def arithmetic(self) -> str:
        """The default arithmetic here (``A2_PRECISION`` or the unmeasured automatic choice)."""
        return resolve_arithmetic(self.device)

    def __str__(self) -> str:
        return (
            f"device={describe_device(self.device)} seed={self.seed} fast={self.fast} "
            f"torch={torch.__version__} outputs={self.output_dir}"
        )


def setup(seed: int = 42, fast: bool | None = None, device: str | None = None) -> Runtime:
    """Seed everything, set FAST, pick the device; returns a summary to print."""
    if fast is not None:
        set_fast(fast)
    seed_everything(seed)
    return Runtime(seed=seed, fast=is_fast(), device=pick_device(device), output_dir=output_dir())
