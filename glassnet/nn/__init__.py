"""Neural-network building blocks in PyTorch's style: ``Module``, layers, losses; ``functional`` holds the
stateless versions."""
from . import functional
from . import init
from . import utils
from .activation import (ELU, GELU, ActivationLayer, LeakyReLU, LogSoftmax, ReLU, Sigmoid, SiLU, Softmax, Softplus,
                         Tanh)
from .attention import MultiheadAttention
from .container import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from .conv import Conv1d, Conv2d, ConvTranspose2d
from .dropout import Dropout, Dropout2d
from .flatten import Flatten, Unflatten
from .layernorm import LayerNorm
from .linear import Identity, Linear
from .loss import (PROBLEMS, BCELoss, BCEWithLogitsLoss, CategoricalCrossEntropyLoss, CrossEntropyLoss,
                   HalfMSELoss, Head, HuberLoss, KLDivLoss, L1Loss, Loss, MSELoss, NLLLoss, SmoothL1Loss, head_for)
from .module import Module, Parameter, evaluating
from .normalization import BatchNorm1d, BatchNorm2d
from .pooling import AdaptiveAvgPool1d, AdaptiveAvgPool2d, AvgPool1d, AvgPool2d, MaxPool1d, MaxPool2d
from .registry import register_module
from .regularization import l1_penalty, l2_penalty, penalty, weights
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase
from .sparse import Embedding
from .transformer import (PositionalEncoding, Transformer, TransformerDecoder, TransformerDecoderLayer,
                          TransformerEncoder, TransformerEncoderLayer)
from .upsampling import Upsample

__all__ = [
    "functional", "init", "utils", "Module", "Parameter", "evaluating", "register_module",
    # containers
    "Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict",
    # layers
    "Linear", "Identity", "Flatten", "Unflatten", "Dropout", "Dropout2d", "LayerNorm", "BatchNorm1d", "BatchNorm2d",
    "Conv1d", "Conv2d", "ConvTranspose2d", "MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool1d",
    "AdaptiveAvgPool2d", "Upsample", "Embedding",
    "RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell", "MultiheadAttention",
    "TransformerEncoderLayer", "TransformerEncoder", "TransformerDecoderLayer", "TransformerDecoder", "Transformer",
    "PositionalEncoding",
    # activations
    "ActivationLayer", "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "GELU", "SiLU", "Softplus", "ELU", "Softmax",
    "LogSoftmax",
    # losses and heads
    "Loss", "MSELoss", "HalfMSELoss", "L1Loss", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "NLLLoss",
    "CategoricalCrossEntropyLoss", "SmoothL1Loss", "HuberLoss", "KLDivLoss", "Head", "head_for", "PROBLEMS",
    # regularization
    "l1_penalty", "l2_penalty", "penalty", "weights",
]
