"""Part IV: IMDB sentiment with an encoder-decoder Transformer built from torch.nn parts.

``imdb`` reads the corpus, ``preprocess`` cleans, tokenises and encodes it (vocabulary and word2vec
fitted on the training split only). ``models`` (the classifier) and ``loop`` (its training loop) are
generated from the notebook's ``#@save`` cells; ``experiment`` holds what the loop needs around it
(splits, evaluation, threshold, refitted naive-Bayes features), ``baselines`` the tuned linear
baselines, ``significance`` the paired tests, and ``predict`` the command line.
"""
