"""Published figures this repository's results are compared with, each with its source.

These are the only numbers typed into the package that are not results of a run here: the README's
reference column and the report's comparisons read them from this file, so a figure and its source
are written once. Each is in the unit of the results key it is set beside (a fraction for an
accuracy, points for a NAB score), with the text a reader sees.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reference:
    """A published figure: ``value`` in the unit of the results it is compared with, ``shown`` as printed."""

    value: float
    shown: str
    source: str

    def __str__(self) -> str:
        return f"{self.shown} — {self.source}"


# Part II: the assignment's own bar for the autoencoder.
ASSIGNMENT_MINIMUM_ACCURACY = Reference(0.80, "80%", "the assignment's minimum")

# Part II beyond: Numenta HTM on the NAB v1.1 scoreboard, results/final_results.json of numenta/NAB
# (Lavin and Ahmad 2015), one figure per scoring profile.
# The scoreboard of numenta/NAB's README (v1.1): scores under the standard, reward-low-FP and
# reward-low-FN profiles.
NAB_SCOREBOARD: dict[str, tuple[float, float, float]] = {
    "ARTime": (74.9, 65.1, 80.4), "Numenta HTM": (70.1, 63.1, 74.3), "CAD OSE": (69.9, 67.0, 73.2),
    "KNN CAD": (58.0, 43.4, 64.8), "windowed Gaussian": (39.6, 20.9, 47.4), "random": (16.8, 5.8, 25.9),
    "null": (0.0, 0.0, 0.0),
}
_HTM = "Numenta HTM on the NAB v1.1 scoreboard"
NAB_HTM = {profile: Reference(score, f"{score:.1f}", _HTM)
           for profile, score in zip(("standard", "reward_low_FP_rate", "reward_low_FN_rate"),
                                     NAB_SCOREBOARD["Numenta HTM"], strict=True)}

# Part IV: IMDB test accuracy (25,000 test reviews).
NBSVM_IMDB = Reference(0.9122, "91.22%", "NBSVM with bigrams (Wang & Manning, 2012)")
# keras.io/examples/nlp/text_classification_with_transformer (Nandan, 2020): one Transformer block trained
# from scratch on the first 200 tokens, two epochs; its published runs reach about 87-88%.
KERAS_TRANSFORMER_IMDB = Reference(0.87, "about 87–88%",
                                   "the Keras from-scratch Transformer example (Nandan, 2020)")
