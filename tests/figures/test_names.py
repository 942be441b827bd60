"""The figures' table (figures/names.py): every figure's file is the run folder's own name for it
(vaekit.rundir.Figures), no two figures share a file, and the groups name figures of the table."""

from vaekit.figures.names import DISENTANGLEMENT_FIGURES, FIGURES, TRAINING_FIGURES, figure_file
from vaekit.rundir import Figures


def run_folder_names() -> set[str]:
    return {value for key, value in vars(Figures).items() if key.isupper()}


def test_every_figure_file_is_a_name_the_run_folder_object_owns():
    assert {figure.file for figure in FIGURES.values()} <= run_folder_names()
    assert all(figure_file(name) == figure.file for name, figure in FIGURES.items())


def test_no_two_figures_share_a_file_and_each_has_a_title_and_caption():
    files = [figure.file for figure in FIGURES.values()]
    assert len(files) == len(set(files))
    assert all(figure.title and figure.caption.endswith(".") for figure in FIGURES.values())


def test_the_groups_name_figures_of_the_table():
    assert set(TRAINING_FIGURES) | set(DISENTANGLEMENT_FIGURES) <= set(FIGURES)
    assert not set(TRAINING_FIGURES) & set(DISENTANGLEMENT_FIGURES)
