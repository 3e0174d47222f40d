"""The level design as one module: a level finder for the whole scan and a level judge for the crops of its discs."""

from __future__ import annotations

from torch import nn

from spinedet.data.grades import grade_counts
from spinedet.model.level_finder import LevelFinder
from spinedet.model.level_judge import LevelJudge


class LevelDetector(nn.Module):
    """`finder` and `judge`, saved and loaded together (one safetensors file)."""

    def __init__(self, finder: LevelFinder, judge: LevelJudge):
        super().__init__()
        self.finder, self.judge = finder, judge

    def forward(self, windows=None, crops=None, levels=None, valid=None) -> dict:
        """The finder on whole-scan windows and/or the judge on disc crops (one call, as DDP wants one forward)."""
        out = {}
        if windows is not None:
            out["finder"] = self.finder(windows)
        if crops is not None:
            out["judge"] = self.judge(crops, levels, valid)
        return out


def build_level_detector(config: dict, classes: list[str], region: str, view: str) -> LevelDetector:
    """The finder and judge of a config's "finder" and "judge" sections for one region and view and the disease
    `classes` (the finder's input spacing sets the mm scale of its position encoding); `judge.grade_head` true
    adds the judge's grade head, over each class's grades (spinedet.data.grades); `judge.grade_trunk` ({"base_width",
    "classes"}) 3D ResNet18s of their own for the grades of those classes: "classes" is a list of class names (one
    trunk for them all), a list of such lists (one trunk per list), or {view: either}."""
    f, j = config["finder"], config["judge"]
    spacing = config["input"][region][view]["finder"]["spacing_mm"]
    finder = LevelFinder(f["base_width"], f["stem_stride"], f["stage_strides"], f["d_model"], f["heads"], f["layers"],
                         f["ffn"], spacing, f.get("dropout", 0.0), f.get("out_stage", 2), f.get("decoder_width", 32),
                         f.get("norm", "batch"), f.get("position_jitter_mm", 0.0))
    judge = LevelJudge(len(classes), j["base_width"], j["stem_stride"], j["stage_strides"], j["d_model"], j["heads"],
                       j["layers"], j["ffn"], j.get("dropout", 0.0), j.get("norm", "batch"),
                       j.get("decoder_width", 32),
                       grade_counts(classes) if j.get("grade_head", False) else None, _grade_trunks(j, classes, view))
    return LevelDetector(finder, judge)


def _grade_trunks(judge: dict, classes: list[str], view: str) -> tuple[int, list[list[int]]] | None:
    """(base width, class indices per trunk) of `judge.grade_trunk` among `classes` for `view`; None without one or
    none of its classes."""
    trunk = judge.get("grade_trunk")
    names = (trunk or {}).get("classes", ())
    names = names.get(view, ()) if isinstance(names, dict) else names
    groups = [names] if names and all(isinstance(name, str) for name in names) else names
    indices = [[classes.index(name) for name in group if name in classes] for group in groups]
    indices = [group for group in indices if group]
    return (int(trunk["base_width"]), indices) if trunk and indices else None
