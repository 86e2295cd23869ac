"""Assignment 2: autoencoders for anomaly detection and Transformers, built from scratch.

The notebooks narrate; this package computes. Each sub-module is small, does one job and is tested:

* :mod:`a2.runtime`        device, seeding, bf16 autocast, the FAST switch and output folders
* :mod:`a2.datasets`       locate / download / verify every dataset
* :mod:`a2.training`       ``fit``: the one training loop
* :mod:`a2.evaluation`     metrics (classification, event-wise, per class)
* :mod:`a2.params`         the one parameter counter, also on the ``meta`` device
* :mod:`a2.results`        write and read ``results/*.json``
* :mod:`a2.results_table`  the README's results table, generated from those files
* :mod:`a2.plots`          every figure
* :mod:`a2.theory`         the equations of ``part1_part3_theory.pdf``, executable
* :mod:`a2.anomaly`, :mod:`a2.text`, :mod:`a2.vision`  one package per part

Imports go one way: the part packages use the shared modules above, never the reverse, and no
module imports an ``a2`` module inside a function (``tests/test_package.py`` checks both).
"""

__version__ = "1.0.0"
