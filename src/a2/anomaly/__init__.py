"""Part II: autoencoders for time-series anomaly detection on the Numenta Anomaly Benchmark."""
