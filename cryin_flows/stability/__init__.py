"""Stability and compatibility after generation (paper 003, stage ii): the phase library,
energies of phases and candidates from a calculator, convex hulls, electrochemical windows and
mixing energies computed by pymatgen, and the screening funnel. Pure: no jobflow here."""
