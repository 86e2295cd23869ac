"""Part IV: IMDB sentiment with an encoder-decoder Transformer built from torch.nn parts.

``imdb`` reads the corpus, ``preprocess`` cleans, tokenises and encodes it (vocabulary and word2vec
fitted on the training split only), ``models`` holds the classifier, ``predict`` the command line.
"""
