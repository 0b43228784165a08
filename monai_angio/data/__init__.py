"""monai_angio.data (under construction)."""

__all__: list = []
