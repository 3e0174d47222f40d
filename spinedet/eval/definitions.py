"""The metric definitions, printed in every report."""

DEFINITIONS = """\
Hit: a predicted disease box hits a truth box of the same scan when their 3D IoU (in LPS mm) >= {iou}
  ({hit_rule}). Headline metrics are class-agnostic over the disease classes; discs never count as disease.
Unlabelled: a (class, level) pair a truth scan lists as not annotated contributes no truth, and a prediction
  of that class at that level in that scan is neither TP nor FP (left out of every metric, as nnDetection's
  ignore regions).
fROC: sensitivity against mean false positives per scan (LUNA16 convention: a detection hitting no truth is a
  false positive; a second detection of an already-found lesion is neither TP nor FP). Sensitivity is read
  at 0.125, 0.25, 0.5, 1, 2, 4, 8 FP/scan; CPM is their mean (identical to monai.metrics.froc, which, as
  the CAMELYON16 code, takes every distinct score but the lowest as a threshold).
PR: VOC/COCO convention: detections taken by descending score, each truth matched once (best IoU among
  the free truths it hits), duplicates are false positives. AP is the area under the interpolated
  (monotone from the right) precision-recall curve, one point per distinct score (tied detections enter
  together, as a threshold keeps them).
Precision, recall, F1: at one score threshold, the one maximising F1 on the validation set, then applied
  unchanged to every other set.
95% CI: 2.5th-97.5th percentiles over bootstrap resamples of patients, the threshold held fixed; a resample
  where a metric is undefined (no truth drawn; no detection kept, for precision) is left out of its interval.
Level accuracy: among matched findings at the threshold, the share whose predicted level equals the truth's.
Grades (where truth and predictions grade a class): on matched levels, the truth levels graded for the class
  (a disc, a finding or a normal_mild pair there, not unlabelled) that the predictions named; a level's grade is
  0 (none) without a finding, else its finding's grade; the predicted one is the finding's grade where it scores
  at or above the threshold, else none. Quadratic weighted kappa: 1 - sum W*O / sum W*E, O the confusion matrix,
  E its outer product of margins / N, W_ij = (i - j)^2 / (S - 1)^2, 95% CI by bootstrap over patients. RSNA log
  loss (stenosis scale, none and mild joined into normal/mild): -sum w_i log p_i / sum w_i, w = 1, 2, 4 for a
  truth normal/mild, moderate, severe, p_i the predicted probability of the truth grade (P(normal/mild) =
  1 - score + score * P(mild | finding), P(moderate or severe) = score * P(that grade | finding)), rows
  normalised to 1 and clipped to [1e-15, 1 - 1e-15].
"""


def definitions_text(iou_threshold: float = 0.1, center_hit: bool = False) -> str:
    rule = "or, with --center, when the predicted box centre lies inside the truth box" if not center_hit else \
        "here replaced by: the predicted box centre lies inside the truth box"
    return DEFINITIONS.format(iou=iou_threshold, hit_rule=rule)
