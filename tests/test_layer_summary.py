"""layer_summary: the sizes of the layers that ran, grouped by the model's parts, in one line."""

from torch import nn

from a2.layer_summary import describe, layer_summary
from a2.report import _layer_rows


class Toy(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv1d(4, 16, 5, stride=2), nn.ReLU(), nn.Dropout(0.1), nn.Conv1d(16, 4, 1))
        self.rnn = nn.LSTM(4, 32, num_layers=2)
        self.head = nn.Linear(32, 2)


def test_summary_groups_layers_by_part_with_their_sizes():
    text = layer_summary(Toy())
    assert text == "encoder: Conv1d 4→16 k5 s2, ReLU, Conv1d 16→4; rnn: LSTM 4→32 ×2; head: Linear 32→2"


def test_describe_leaves_out_layers_without_sizes():
    assert describe(nn.Dropout(0.5)) is None and describe(nn.Embedding(10, 3)) == "Embedding 10×3"
    assert layer_summary(nn.Linear(3, 1)) == "Linear 3→1"


def test_report_table_renders_the_arrows_in_latex():
    rows = _layer_rows({"dense": {"params": 1234, "layers": "encoder: Linear 192→64, ReLU"}})
    assert rows == [r"dense & 1{,}234 & encoder: Linear 192$\to$64, ReLU \\"]
