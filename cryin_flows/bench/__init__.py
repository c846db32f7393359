"""Dismai-Bench systems as plug-ins: each builds its dataset and scores generated structures.

Pure science: the alloy and a-Si packages and the analysis package; the workflow layers and
the ``cryin bench`` commands call these.
"""
