"""CryinGAN in pure torch: dataset, periodic neighbour distances, networks, training, sampling.

Nothing here imports jobflow; makers in ``cryin_flows.makers.gan`` wrap it.
"""
