"""Optimizers and learning-rate schedulers with PyTorch's names, defaults and update rules."""
from . import lr_scheduler
from .lr_scheduler import (CosineAnnealingLR, ExponentialLR, LambdaLR, LinearLR, LRScheduler, MultiStepLR, OneCycleLR,
                           ReduceLROnPlateau, StepLR)
from .optimizer import Optimizer
from .optimizers import SGD, Adadelta, Adagrad, Adam, AdamW, RMSprop

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "Adagrad", "Adadelta", "RMSprop", "lr_scheduler", "LRScheduler",
           "LambdaLR", "StepLR", "MultiStepLR", "ExponentialLR", "LinearLR", "CosineAnnealingLR", "OneCycleLR",
           "ReduceLROnPlateau"]
