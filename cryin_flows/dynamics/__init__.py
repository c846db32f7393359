"""Li transport (paper 003, SPEC.md §9): molecular dynamics of many runs at once with the
study's potential or any ASE calculator, diffusion and conductivity from the trajectories,
and the frozen-framework percolation barrier. Pure: no jobflow, no documents."""
