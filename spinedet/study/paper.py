"""What Yi et al. (Eur Spine J 2023;32(11):3807-3814) report, for comparison beside our numbers."""

CITATION = (
    "Yi W. et al., Deep learning-based high-accuracy detection for lumbar and cervical degenerative disease "
    "on T2-weighted MR images. Eur Spine J 2023;32(11):3807-3814."
)

VIEWS = ("sagittal", "axial")

# F1 per dataset role and view, as reported in the paper.
PAPER_F1 = {
    ("internal", "sagittal"): 0.971,
    ("internal", "axial"): 0.903,
    ("external1", "sagittal"): 0.768,
    ("external1", "axial"): 0.837,
    ("external2", "sagittal"): 0.787,
    ("external2", "axial"): 0.770,
    ("cervical_transfer", "sagittal"): 0.931,
    ("cervical_transfer", "axial"): 0.919,
}

# Row labels of the paper's table layout, in order.
DATASET_LABELS = {
    "internal": "Internal validation (C1)",
    "external1": "External validation I (C2)",
    "external2": "External validation II (C3)",
    "external3": "External validation III (C5, unseen scanner)",
    "cervical_zero_shot": "Cervical, lumbar model as is (C4)",
    "cervical_transfer": "Cervical, transfer learning (C4)",
    "cervical_scratch": "Cervical, trained from scratch (C4)",
}
