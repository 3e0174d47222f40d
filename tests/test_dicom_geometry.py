import numpy as np
from pydicom.dataset import Dataset

from spinedet.io.dicom_geometry import pixel_to_lps


def test_pixel_to_lps_follows_the_standard():
    ds = Dataset()
    ds.ImageOrientationPatient = [0, 1, 0, 0, 0, -1]  # sagittal: columns go posterior, rows go inferior
    ds.PixelSpacing = [0.8, 0.6]  # row spacing, column spacing
    ds.ImagePositionPatient = [10.0, -100.0, 50.0]
    assert np.allclose(pixel_to_lps(ds, 0, 0), [10, -100, 50])
    assert np.allclose(pixel_to_lps(ds, row=2, column=3), [10, -100 + 3 * 0.6, 50 - 2 * 0.8])
