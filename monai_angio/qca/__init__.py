"""monai_angio.qca (under construction)."""

__all__: list = []
