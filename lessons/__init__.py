"""The course's math: pure numpy/scipy functions, no UI."""
