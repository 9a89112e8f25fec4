"""Train a structure -> dynamics model: ``python train.py model=svm`` (ridge | svm | gnn | mlp).

The same as ``taulc-train``: a wrapper around :func:`taulc.train.main` (the logic lives in
:mod:`taulc.training`, the configs in ``src/taulc/conf/``).
"""

from taulc.train import main

if __name__ == "__main__":
    main()
