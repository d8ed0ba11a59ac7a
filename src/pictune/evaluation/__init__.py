"""The `evaluation` front end: every configuration over every picture, measured like the
paper (metrics against the corpus, validity, refinement, novelty, motivation consistency,
cost, image–music agreement), written as a table, CSV/JSON and plots."""

from pictune.evaluation.evaluate import evaluate
from pictune.evaluation.grid import EvalConfig, configurations
from pictune.evaluation.runner import EvalRun, run_evaluation

__all__ = ["EvalConfig", "EvalRun", "configurations", "evaluate", "run_evaluation"]
