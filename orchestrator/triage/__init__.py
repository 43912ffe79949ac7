"""The ranker's features."""
