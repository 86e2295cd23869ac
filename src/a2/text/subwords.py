"""A subword vocabulary (byte-pair encoding) learned on the training reviews' NLTK tokens.

NLTK stays the first tokenising step, as the assignment asks: BPE only splits the words NLTK produced,
so a rare word the 30,000-word vocabulary maps to ``<unk>`` ("unwatchably") becomes known pieces
("un", "##watch", "##ably") instead. The pieces are ordinary tokens for the rest of the pipeline
(:class:`a2.text.preprocess.Vocab`, ``encode``, word2vec), so a model can swap one vocabulary for the other.
Fitted on the training split only, with the ``tokenizers`` package; no pretrained tokenizer is loaded.
"""

from __future__ import annotations

from collections.abc import Sequence

from a2.text.preprocess import PAD, UNK

CONTINUATION = "##"  # marks a piece that continues a word, so "##able" and "able" stay different tokens


def _require_tokenizers():
    try:
        import tokenizers
    except ImportError as exc:  # an optional dependency: only the subword study needs it
        raise ImportError("the subword vocabulary needs the 'tokenizers' package: pip install -r requirements.txt") \
            from exc
    return tokenizers


def train_bpe(corpus: Sequence[Sequence[str]], vocab_size: int = 30_000, min_freq: int = 2):
    """A byte-pair-encoding model learned on ``corpus`` (token lists of the training reviews).

    Returns a ``tokenizers.Tokenizer`` whose first two ids are ``<pad>`` and ``<unk>``, like
    :class:`a2.text.preprocess.Vocab`.
    """
    if vocab_size < 3:
        raise ValueError(f"vocab_size must be at least 3 (two special tokens and one piece), got {vocab_size}")
    tk = _require_tokenizers()
    tokenizer = tk.Tokenizer(tk.models.BPE(unk_token=UNK, continuing_subword_prefix=CONTINUATION))
    tokenizer.pre_tokenizer = tk.pre_tokenizers.WhitespaceSplit()
    trainer = tk.trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=min_freq, special_tokens=[PAD, UNK],
                                     continuing_subword_prefix=CONTINUATION, show_progress=False)
    tokenizer.train_from_iterator((list(doc) for doc in corpus if doc), trainer=trainer)
    return tokenizer


def split_words(tokenizer, corpus: Sequence[Sequence[str]]) -> list[list[str]]:
    """Each review's NLTK tokens cut into the BPE model's pieces (a review with no tokens stays empty)."""
    docs = [list(doc) for doc in corpus]
    nonempty = [doc for doc in docs if doc]
    pieces = iter(e.tokens for e in tokenizer.encode_batch(nonempty, is_pretokenized=True, add_special_tokens=False))
    return [next(pieces) if doc else [] for doc in docs]
