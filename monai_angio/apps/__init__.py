"""Applications: the ``monai-angio`` command line and batch helpers."""

__all__: list = []
