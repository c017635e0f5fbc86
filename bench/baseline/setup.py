"""The benchmark baseline project (deployed to Scrapyd by bench/cancel.py)."""

from setuptools import find_packages, setup

setup(
    name="baseline",
    version="1.0",
    packages=find_packages(),
    entry_points={"scrapy": ["settings = baseline.settings"]},
)
