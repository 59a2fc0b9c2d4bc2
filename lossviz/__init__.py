"""lossviz: train small networks and look at their loss landscapes. Pure NumPy.

The engine never imports dash, plotly or flask; it is usable alone from Python or Jupyter::

    import lossviz
    trainer = lossviz.Trainer(lossviz.RunConfig(dataset="moons", loss="cross_entropy"))
    trainer.advance(200)
    d1, d2 = lossviz.random_directions(trainer.params, trainer.net, seed=0)
    z = lossviz.surface(trainer.params, d1, d2, grid, grid, trainer.data.X_train,
                        trainer.data.y_train, layer_sizes=trainer.net.layer_sizes,
                        activation="tanh", loss="cross_entropy")
"""

from .activations import ACTIVATIONS, get_activation
from .config import RunConfig
from .convexity import convexity_map, extreme_eigenvalues
from .datasets import DATASETS, Dataset, load_dataset
from .directions import NORMALIZATIONS, pca_directions, random_direction, random_directions
from .experiment import VARIABLE_FIELDS, Experiment
from .hessian import hessian_eigs, hessian_trace, hvp
from .landscape import surface, surface_naive, surface_with_metric
from .losses import LOSSES, get_loss, loss_grad, loss_grad_per_sample, loss_per_sample, loss_profile, loss_value
from .model import Network
from .notebook import Run, load, show  # show hands over to the app (app.embed), imported when called
from .objective import objective
from .optimizers import OPTIMIZERS, make_optimizer
from .paths import interpolate, project_trajectory, trajectory_losses, trajectory_on_plane
from .planes import compare_axes, compare_plane, plane_coordinates
from .tabular import TableData, dataset_from_table, read_csv
from .sharpness import (EDGE_OF_STABILITY, line_is_preconditioned, preconditioned_sharpness, sharpness,
                        sharpness_series, stability_threshold)
from .sweep import RateSweep, compare_lr_sweep, lr_sweep
from .training import Snapshot, Trainer, make_run, train

__all__ = [
    "ACTIVATIONS", "DATASETS", "LOSSES", "NORMALIZATIONS", "OPTIMIZERS", "VARIABLE_FIELDS",
    "Dataset", "Experiment", "Network", "Run", "RunConfig", "Snapshot", "Trainer",
    "compare_axes", "compare_plane", "convexity_map", "extreme_eigenvalues", "get_activation", "get_loss",
    "interpolate", "load_dataset",
    "load", "loss_grad", "loss_grad_per_sample", "loss_per_sample", "loss_profile", "loss_value",
    "make_optimizer", "make_run", "objective", "pca_directions", "plane_coordinates",
    "project_trajectory", "random_direction", "random_directions", "show", "surface",
    "surface_naive", "surface_with_metric", "train", "trajectory_losses", "trajectory_on_plane",
    "EDGE_OF_STABILITY", "hessian_eigs", "hessian_trace", "hvp", "line_is_preconditioned",
    "preconditioned_sharpness", "sharpness", "sharpness_series",
    "stability_threshold", "TableData", "dataset_from_table", "read_csv",
    "RateSweep", "compare_lr_sweep", "lr_sweep",
]
__version__ = "0.1.0"
