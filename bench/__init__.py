"""Benchmarks. `make bench` (bench/__main__.py) runs the sections it lists, never a module by
discovery (bench/faults.py is `make faults`, a load and fault test of its own).

Figures are reported as ratios against a baseline measured in the same run, never as absolute
pass/fail timings.
"""
