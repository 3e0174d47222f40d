"""Compressed DICOM (JPEG Lossless, JPEG 2000, as PACS exports write them) decodes to the same values as uncompressed."""

import numpy as np
import pydicom
import pytest
import SimpleITK as sitk

from dicom_fixtures import SAGITTAL_IOP, image_values, tilted, write_series
from spinedet.errors import InputError
from spinedet.io.dicom_pixels import _gdcm_pixels, modality_pixels
from spinedet.io.load import load_scan

SLOPES = [2.0, 0.5, 1.0, 1.5, 0.25, 3.0]  # the fixture writes intercept -3 with these


def _compress(source, target, compressor: str) -> None:
    """Copy one fixture file with its pixel data re-encoded by GDCM (`compressor`: JPEG or JPEG2000)."""
    ds = pydicom.dcmread(source)
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = target.with_suffix(".gdcm")
    writer = sitk.ImageFileWriter()
    writer.SetImageIO("GDCMImageIO")
    writer.SetUseCompression(True)
    writer.SetCompressor(compressor)
    writer.SetFileName(str(scratch))
    writer.Execute(sitk.GetImageFromArray(ds.pixel_array.astype(np.uint16)))
    encoded = pydicom.dcmread(scratch)
    scratch.unlink()
    ds.PixelData = encoded.PixelData
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True
    ds.file_meta.TransferSyntaxUID = encoded.file_meta.TransferSyntaxUID
    ds.save_as(target, enforce_file_format=True)


@pytest.fixture(scope="module", params=["JPEG", "JPEG2000"])
def pair(request, tmp_path_factory):
    root = tmp_path_factory.mktemp(f"compressed-{request.param}")
    facts = write_series(root / "plain", image_values(6, 16, 20), iop=tilted(SAGITTAL_IOP, 14.0, "y"), slopes=SLOPES)
    for path in facts["files"]:
        _compress(path, root / "packed" / path.name, request.param)
    return root, facts


def test_each_compressed_file_gives_the_rescaled_values(pair):
    root, facts = pair
    for path in facts["files"]:
        packed = root / "packed" / path.name
        assert pydicom.dcmread(packed).file_meta.TransferSyntaxUID.is_compressed
        expected = modality_pixels(path, 16, 20)
        assert np.array_equal(modality_pixels(packed, 16, 20), expected)
        # the GDCM route on its own applies RescaleSlope/Intercept exactly once
        assert np.array_equal(_gdcm_pixels(packed, pydicom.dcmread(packed).file_meta.TransferSyntaxUID), expected)


def test_compressed_series_loads_like_the_uncompressed_one(pair, capfd):
    root, _ = pair
    plain, packed = load_scan(root / "plain"), load_scan(root / "packed")
    assert np.array_equal(packed.array, plain.array)
    assert np.allclose(packed.affine, plain.affine)
    assert capfd.readouterr().err == ""


def test_damaged_compressed_pixel_data_names_the_file(pair, tmp_path):
    root, facts = pair
    ds = pydicom.dcmread(root / "packed" / facts["files"][0].name)
    frame = bytearray(ds.PixelData)
    ds.PixelData = bytes(frame[: len(frame) // 3])
    damaged = tmp_path / "damaged.dcm"
    ds.save_as(damaged, enforce_file_format=True)
    with pytest.raises(InputError) as caught:
        modality_pixels(damaged, 16, 20)
    assert caught.value.path == str(damaged) and "\n" not in str(caught.value)
