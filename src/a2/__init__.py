"""Assignment 2: autoencoders for anomaly detection and Transformers, built from scratch.

The notebooks narrate; this package computes. Each sub-module is small and tested:

* :mod:`a2.runtime`    device, seeding, bf16 autocast, the FAST switch and output folders
* :mod:`a2.datasets`   locate / download / verify every dataset
* :mod:`a2.training`   ``fit``: the one training loop
* :mod:`a2.evaluation` metrics and the results-JSON writer
* :mod:`a2.plots`      every figure
* :mod:`a2.anomaly`, :mod:`a2.text`, :mod:`a2.vision`  one package per part
"""

__version__ = "1.0.0"
