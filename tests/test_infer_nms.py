"""Class-wise 3D NMS and disc centre thinning."""

from spinedet.infer.nms import classwise_nms, suppress_same_height


def _det(cls, score, box):
    return {"class": cls, "score": score, "box_voxel": box, "box_lps": box}


def test_overlapping_same_class_suppressed_other_class_kept():
    a = _det("herniation", 0.9, [0, 0, 0, 10, 10, 10])
    b = _det("herniation", 0.8, [1, 0, 0, 11, 10, 10])  # IoU 9/11 with a
    c = _det("bulge", 0.7, [1, 0, 0, 11, 10, 10])
    d = _det("herniation", 0.6, [20, 20, 20, 30, 30, 30])
    kept = classwise_nms([b, c, d, a], iou_threshold=0.5)
    assert kept == [a, c, d]


def test_iou_threshold_is_respected():
    a = _det("disc", 0.9, [0, 0, 0, 10, 10, 10])
    b = _det("disc", 0.8, [5, 0, 0, 15, 10, 10])  # IoU = 50/150 = 1/3
    assert len(classwise_nms([a, b], iou_threshold=0.4)) == 2
    assert classwise_nms([a, b], iou_threshold=0.3) == [a]


def test_empty_and_bad_threshold():
    assert classwise_nms([], 0.5) == []
    try:
        classwise_nms([], 1.5)
    except ValueError:
        pass
    else:
        raise AssertionError("IoU threshold 1.5 accepted")


def test_suppress_same_height_keeps_best():
    a = _det("disc", 0.5, [0, 0, 0, 10, 10, 4])
    b = _det("disc", 0.9, [40, 30, 3, 50, 40, 7])  # 3 mm higher than a, far off to the side and back
    c = _det("disc", 0.4, [0, 0, 30, 10, 10, 34])
    kept = suppress_same_height([a, b, c], min_gap_mm=8.0)
    assert kept == [b, c]
    assert len(suppress_same_height([a, b, c], min_gap_mm=2.0)) == 3
