"""taulc.evaluation: scoring a trained model's test predictions.

* :mod:`taulc.evaluation.skill`: the honest-skill tables (reference species within each shear rate and
  configuration, noise ceilings, training-split baselines; docs/honest-skill.md).

It sits after :mod:`taulc.models` in the import graph (it reads the data and dynamics layers for the
ceilings and baselines) and imports neither Lightning nor PyTorch Geometric.
"""
