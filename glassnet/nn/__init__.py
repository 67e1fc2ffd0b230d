"""Neural-network building blocks in PyTorch's style: ``Module``, layers, losses; ``functional`` holds the
stateless versions."""
from . import functional
from . import init
from .activation import ActivationLayer, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from .container import Sequential
from .dropout import Dropout
from .flatten import Flatten
from .linear import Identity, Linear
from .loss import (PROBLEMS, BCELoss, BCEWithLogitsLoss, CategoricalCrossEntropyLoss, CrossEntropyLoss,
                   HalfMSELoss, Head, HuberLoss, KLDivLoss, L1Loss, Loss, MSELoss, NLLLoss, SmoothL1Loss, head_for)
from .module import Module, Parameter, evaluating
from .regularization import l1_penalty, l2_penalty, penalty, weights

__all__ = [
    "functional", "init", "Module", "Parameter", "evaluating", "Linear", "Sequential", "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Identity",
    "Softmax", "LogSoftmax", "Dropout", "Flatten", "ActivationLayer", "Loss", "MSELoss", "HalfMSELoss", "L1Loss",
    "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "NLLLoss", "CategoricalCrossEntropyLoss",
    "SmoothL1Loss", "HuberLoss", "KLDivLoss", "Head", "head_for",
    "PROBLEMS",
    "l1_penalty", "l2_penalty", "penalty", "weights",
]
