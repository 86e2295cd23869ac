"""Keep part1_part3_theory.pdf true: its numbers and equations are re-derived in torch here."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from a2.params import count_params
from a2.theory import (
    AttentionWeights,
    TheoryAutoencoder,
    l2_penalty,
    multi_head_attention,
    parameter_table,
    regularised_loss,
    self_attention,
    sgd_step_weight_decay,
    weights_from_mha,
)

REPO = Path(__file__).resolve().parents[1]
PDF = REPO / "part1_part3_theory.pdf"
# theory.tex and the files it inputs, in the order report/Makefile (THEORY_TEX) hashes them
TEX = [REPO / "report" / name for name in ("theory.tex", "theory_defs.tex", "theory_part1.tex", "theory_part3.tex")]


# ----------------------------------------------------------------------------- Part I


def test_autoencoder_has_1058824_parameters():
    model = TheoryAutoencoder()
    assert count_params(model) == 1_058_824


def test_parameter_table_rows_match_pdf():
    rows = parameter_table(TheoryAutoencoder())
    assert [(r.n_in, r.n_out, r.weights, r.biases, r.total) for r in rows] == [
        (1000, 512, 512_000, 512, 512_512),
        (512, 32, 16_384, 32, 16_416),
        (32, 512, 16_384, 512, 16_896),
        (512, 1000, 512_000, 1000, 513_000),
    ]
    assert sum(r.total for r in rows) == 1_058_824
    assert sum(r.weights for r in rows) == 1_056_768  # the regularised part
    assert sum(r.biases for r in rows) == 2_056  # not regularised


def test_forward_shapes_and_range():
    torch.manual_seed(0)
    model = TheoryAutoencoder()
    x = torch.rand(4, 1000)
    z, y = model.encode(x), model(x)
    assert z.shape == (4, 32) and y.shape == (4, 1000)
    assert torch.all((y > 0) & (y < 1))  # sigmoid output, inputs scaled to [0, 1]
    with pytest.raises(ValueError, match="1000 features"):
        model(torch.rand(4, 999))


def test_l2_penalises_weights_not_biases():
    model = TheoryAutoencoder()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Linear):
                m.weight.fill_(0.0)
                m.bias.fill_(3.0)
    assert l2_penalty(model).item() == 0.0


def test_update_rule_equals_gradient_of_regularised_loss():
    """W <- W - eta (dMSE/dW + 2 lam W) is plain SGD on L = MSE + lam sum ||W||^2."""
    torch.manual_seed(0)
    a, b = TheoryAutoencoder(), TheoryAutoencoder()
    b.load_state_dict(a.state_dict())
    x, lr, lam = torch.rand(8, 1000), 0.1, 1e-3

    regularised_loss(a, x, lam).backward()  # autograd on the full loss
    torch.optim.SGD(a.parameters(), lr=lr).step()

    F.mse_loss(b(x), x).backward()  # only the MSE gradient, decay added by hand
    sgd_step_weight_decay(b, {n: p.grad for n, p in b.named_parameters()}, lr, lam)

    for (name, pa), (_, pb) in zip(a.named_parameters(), b.named_parameters(), strict=True):
        torch.testing.assert_close(pa, pb, msg=name)


def test_negative_lambda_is_rejected():
    with pytest.raises(ValueError, match="lam"):
        regularised_loss(TheoryAutoencoder(), torch.rand(1, 1000), -1.0)


# ----------------------------------------------------------------------------- Part III


def _random_weights(d_model: int, d_k: int, d_v: int, out: bool = True) -> AttentionWeights:
    g = torch.Generator().manual_seed(1)
    r = lambda *s: torch.randn(*s, generator=g) / s[0] ** 0.5  # noqa: E731
    return AttentionWeights(
        r(d_model, d_k), r(d_k), r(d_model, d_k), r(d_k), r(d_model, d_v), r(d_v),
        r(d_v, d_model) if out else None, r(d_model) if out else None,
    )  # fmt: skip


def test_single_head_matches_scaled_dot_product_attention():
    torch.manual_seed(0)
    n, d_model, d_k, d_v = 7, 16, 8, 12
    X = torch.randn(n, d_model)
    w = _random_weights(d_model, d_k, d_v, out=False)
    ours = self_attention(X, w)
    assert ours.shape == (n, d_v)
    Q, K, V = X @ w.W_q + w.b_q, X @ w.W_k + w.b_k, X @ w.W_v + w.b_v
    ref = F.scaled_dot_product_attention(Q[None], K[None], V[None])[0]
    torch.testing.assert_close(ours, ref, rtol=1e-5, atol=1e-5)


def test_causal_mask_matches_sdpa():
    torch.manual_seed(0)
    n = 6
    X = torch.randn(2, n, 10)
    w = _random_weights(10, 4, 4, out=False)
    mask = torch.ones(n, n, dtype=torch.bool).tril()
    Q, K, V = X @ w.W_q + w.b_q, X @ w.W_k + w.b_k, X @ w.W_v + w.b_v
    ref = F.scaled_dot_product_attention(Q, K, V, is_causal=True)
    torch.testing.assert_close(self_attention(X, w, mask=mask), ref, rtol=1e-5, atol=1e-5)


def test_output_projection_restores_d_model():
    w = _random_weights(16, 8, 12, out=True)
    assert self_attention(torch.randn(5, 16), w).shape == (5, 16)


@pytest.mark.parametrize("n_heads", [1, 4])
def test_matches_torch_multihead_attention(n_heads: int):
    torch.manual_seed(0)
    d_model, batch, n = 32, 3, 9
    mha = nn.MultiheadAttention(d_model, n_heads, batch_first=True).eval()
    with torch.no_grad():  # non-zero biases, so the b_q, b_k, b_v, b_o terms are exercised
        mha.in_proj_bias.normal_()
        mha.out_proj.bias.normal_()
    X = torch.randn(batch, n, d_model)
    ref, _ = mha(X, X, X, need_weights=False)
    ours = multi_head_attention(X, weights_from_mha(mha), n_heads)
    assert ours.shape == (batch, n, d_model)
    torch.testing.assert_close(ours, ref, rtol=1e-5, atol=1e-5)


def test_heads_must_divide_width():
    with pytest.raises(ValueError, match="divisible"):
        multi_head_attention(torch.randn(3, 8), _random_weights(8, 6, 6), n_heads=4)


def test_dot_product_variance_grows_with_dk():
    """The PDF's argument for 1/sqrt(d_k): Var(q.k) = d_k for unit-variance independent components."""
    g = torch.Generator().manual_seed(0)
    for d_k in (16, 256):
        q, k = torch.randn(20_000, d_k, generator=g), torch.randn(20_000, d_k, generator=g)
        dots = (q * k).sum(-1)
        assert dots.var().item() == pytest.approx(d_k, rel=0.05)
        assert (dots / d_k**0.5).var().item() == pytest.approx(1.0, rel=0.05)


# ----------------------------------------------------------------------------- the PDF itself


@pytest.fixture(scope="module")
def pdf():
    pypdf = pytest.importorskip("pypdf")
    assert PDF.is_file(), f"{PDF.name} is missing; build it with `make pdf` and commit it"
    return pypdf.PdfReader(str(PDF))


@pytest.fixture(scope="module")
def pdf_text(pdf) -> str:
    text = "\n".join(page.extract_text() or "" for page in pdf.pages)
    return re.sub(r"\s+", " ", text)


def test_pdf_built_from_current_tex(pdf):
    """Fails when report/theory*.tex changed without `make pdf` (the build stores the sha256)."""
    meta = pdf.metadata or {}
    match = re.search(r"sha256:([0-9a-f]{64})", str(meta.get("/Keywords", "")))
    assert match, "PDF metadata has no 'sha256:<hex>' keyword; build it with `make pdf`"
    current = hashlib.sha256(b"".join(p.read_bytes() for p in TEX)).hexdigest()
    assert match.group(1) == current, "report/theory*.tex changed since the PDF was built; run `make pdf` and commit"


@pytest.mark.parametrize(
    "phrase",
    [
        "Part I",
        "Number of parameters",
        "L2 regularisation",
        "Computational graph of the autoencoder",
        "Challenges and limitations",
        "Improvements",
        "Part III",
        "Query, key and value projections",
        "Scaled dot product",
        "Multi-head attention",
        "Computational graph of self-attention",
        "References",
        "1,058,824",
        "weight decay",
    ],
)
def test_pdf_contains_required_sections(pdf_text: str, phrase: str):
    assert phrase.lower() in pdf_text.lower()


def test_pdf_is_a_handful_of_pages(pdf):
    assert 3 <= len(pdf.pages) <= 10
