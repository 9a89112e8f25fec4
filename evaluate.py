"""Evaluate trained runs the way the core paper does: ``python evaluate.py run=latest``.

The same as ``taulc-evaluate``: a wrapper around :func:`taulc.evaluate.main` (the logic lives in
:mod:`taulc.analysis.report`, the configs in ``src/taulc/conf/``).
"""

from taulc.evaluate import main

if __name__ == "__main__":
    main()
