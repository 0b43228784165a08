"""Lazy package exports (PEP 562): every public name resolves, to the very object of its submodule."""

from __future__ import annotations

import importlib

import pytest

from monai_angio.utils.lazy import lazy_exports


@pytest.mark.parametrize("package", ["monai_angio.transforms", "monai_angio.data", "monai_angio.bundle"])
def test_every_public_name_resolves(package):
    pkg = importlib.import_module(package)
    for name in pkg.__all__:
        value = getattr(pkg, name)
        assert value is not None, name
        assert name in dir(pkg)
    with pytest.raises(AttributeError, match="no_such_name"):
        pkg.no_such_name  # noqa: B018


def test_same_objects_as_submodules():
    import monai_angio.data as data
    import monai_angio.transforms as transforms
    from monai_angio.apps import segment
    from monai_angio.bundle import BundleRunner, load_bundle
    from monai_angio.transforms import LoadAngiogramd, read_angiogram
    from monai_angio.transforms import io, readers

    assert read_angiogram is io.read_angiogram is readers.read_angiogram
    assert LoadAngiogramd is io.LoadAngiogramd and transforms.SUPPORTED_EXTENSIONS is io.SUPPORTED_EXTENSIONS
    assert data.synthetic is importlib.import_module("monai_angio.data.synthetic")
    assert segment.SegmentationBundle is BundleRunner and segment.BundleRunner is BundleRunner
    assert segment.load_bundle is load_bundle
    with pytest.raises(AttributeError):
        segment.no_such_name  # noqa: B018


def test_lazy_exports_rejects_duplicates_and_caches():
    with pytest.raises(ValueError, match="both"):
        lazy_exports("x", {"a": ["f"], "b": ["f"]})
    getattr_, dir_ = lazy_exports("monai_angio.utils", {"jsonable": ["jsonable"]})
    assert callable(getattr_("jsonable")) and "jsonable" in dir_()
