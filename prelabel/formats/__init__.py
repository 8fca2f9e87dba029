"""Readers: one module per input format, each turning files into pixel Annotations."""
