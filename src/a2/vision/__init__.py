"""Bonus: image classification with VGG-13, ResNet-18, ViT and EfficientNet-B0 on the CNN dataset.

* :mod:`~a2.vision.images`      load, dedupe, split, batch and augment the images
* :mod:`~a2.vision.layers`      layers shared by several models (``DropPath``)
* :mod:`~a2.vision.vgg`, :mod:`~a2.vision.resnet`, :mod:`~a2.vision.vit`, :mod:`~a2.vision.efficientnet`
  one module per model, each with a small dataclass config
* :mod:`~a2.vision.models`      the registry, full-size parameter counts, honest variant names
* :mod:`~a2.vision.experiment`  train and evaluate one model under the shared recipe
* :mod:`~a2.vision.store`       ``results/bonus.json``; reuse of stored runs only on request
* :mod:`~a2.vision.tables`      the comparison tables
* :mod:`~a2.vision.analysis`    misclassified images and ViT attention maps
"""
