"""Reference calculators, training frames, M3GNet training, batched relaxation, energies."""
