"""Benchmarks: `make bench` runs every module here that defines run() and prints its report.

Figures are reported as ratios against a baseline measured in the same run, never as absolute
pass/fail timings.
"""
