"""Inference spread over several processes or machines (the `distributed` extra: Ray).

Only `seggui infer --ray` imports this package, and only when it runs, so the
default install never needs Ray.
"""
