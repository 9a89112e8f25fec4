"""taulc.evaluation: scoring a trained model's test predictions.

* :mod:`taulc.evaluation.skill`: the honest-skill tables (reference species within each shear rate and
  configuration, noise ceilings, training-split baselines; docs/honest-skill.md).
* :mod:`taulc.evaluation.scores`: the pooled test metrics of a run's predictions, the noise ceilings
  of its tables and the terminal summary.
* :mod:`taulc.evaluation.arrays`: the test split as arrays (predictions, truth, split rows and
  configurations) from a datamodule and Lightning's predict batches.

It sits after :mod:`taulc.models` in the import graph (it reads the data and dynamics layers for the
ceilings and baselines) and imports neither Lightning nor PyTorch Geometric.
"""
