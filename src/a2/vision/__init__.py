"""Bonus: image classification with VGG-13, ResNet-18, ViT and EfficientNet-B0 on the CNN dataset.

* :mod:`~a2.vision.images`      load, dedupe, split, batch and augment the images
* :mod:`~a2.vision.layers`      layers shared by several models (``DropPath``)
* :mod:`~a2.vision.vgg`, :mod:`~a2.vision.resnet`  the two baselines, one module per model with a dataclass config
* :mod:`~a2.vision.vit`, :mod:`~a2.vision.efficientnet`  generated from the ``#@save`` cells of
  ``bonus/vit.ipynb`` and ``bonus/efficientnet.ipynb`` (``make export``); the notebooks train their own cells
* :mod:`~a2.vision.models`      the registry, full-size parameter counts, honest variant names
* :mod:`~a2.vision.source`      a hash of a model's source, part of every stored run's signature
* :mod:`~a2.vision.spec`        what to train: class, config and arithmetic (``ModelSpec``)
* :mod:`~a2.vision.experiment`  train and evaluate one model under the shared recipe
* :mod:`~a2.vision.store`       ``results/bonus.json``; reuse of stored runs only on request
* :mod:`~a2.vision.tables`      the comparison tables
* :mod:`~a2.vision.analysis`    misclassified images and ViT attention maps
"""
