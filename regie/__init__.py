"""Regie's import name for ``python -m regie``; the code lives in ``bot``, ``dialogs`` and
``storage`` (the layout of the project: see docs/architecture.md)."""
