"""The benchmark suite: each figure measured beside the limit it is compared with."""
