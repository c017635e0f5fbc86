"""A corpus of documentation pages as 16 generators emit them, with ground truth and a scorer."""
