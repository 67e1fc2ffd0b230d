"""Neural-network building blocks in PyTorch's style: ``Module``, layers, losses; ``functional`` holds the
stateless versions."""
from . import functional
from .layers import (ActivationLayer, Dropout, Flatten, Identity, LeakyReLU, Linear, LogSoftmax, ReLU, Sequential,
                     Sigmoid, Softmax, Tanh)
from .losses import (PROBLEMS, BCELoss, BCEWithLogitsLoss, CategoricalCrossEntropyLoss, CrossEntropyLoss,
                     HalfMSELoss, Head, L1Loss, Loss, MSELoss, NLLLoss, head_for)
from .module import Module, Parameter
from .regularization import l1_penalty, l2_penalty, penalty, weights

__all__ = [
    "functional", "Module", "Parameter", "Linear", "Sequential", "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Identity",
    "Softmax", "LogSoftmax", "Dropout", "Flatten", "ActivationLayer", "Loss", "MSELoss", "HalfMSELoss", "L1Loss",
    "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "NLLLoss", "CategoricalCrossEntropyLoss", "Head", "head_for",
    "PROBLEMS",
    "l1_penalty", "l2_penalty", "penalty", "weights",
]
