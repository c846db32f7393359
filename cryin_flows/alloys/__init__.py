"""Fe-Ni-Cr alloys of Dismai-Bench: the FCC lattice, the cluster expansion and its Monte Carlo.

Pure science: numpy, numba and pymatgen/ASE only; the workflow layers build on it.
"""
