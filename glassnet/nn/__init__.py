"""Neural-network building blocks in PyTorch's style: ``Module``, layers, losses; ``functional`` holds the
stateless versions."""
from . import functional
from . import init
from .activation import ActivationLayer, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from .attention import MultiheadAttention
from .container import Sequential
from .conv import Conv1d, Conv2d, ConvTranspose2d
from .dropout import Dropout, Dropout2d
from .flatten import Flatten
from .layernorm import LayerNorm
from .linear import Identity, Linear
from .losses import (PROBLEMS, BCELoss, BCEWithLogitsLoss, CategoricalCrossEntropyLoss, CrossEntropyLoss,
                     HalfMSELoss, Head, L1Loss, Loss, MSELoss, NLLLoss, head_for)
from .module import Module, Parameter, evaluating
from .normalization import BatchNorm1d, BatchNorm2d
from .pooling import AdaptiveAvgPool1d, AdaptiveAvgPool2d, AvgPool1d, AvgPool2d, MaxPool1d, MaxPool2d
from .regularization import l1_penalty, l2_penalty, penalty, weights
from .registry import register_module
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase
from .sparse import Embedding
from .transformer import (PositionalEncoding, Transformer, TransformerDecoder, TransformerDecoderLayer,
                          TransformerEncoder, TransformerEncoderLayer)
from .upsampling import Upsample

__all__ = [
    "functional", "init", "Module", "Parameter", "evaluating", "Linear", "Sequential", "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Identity",
    "Softmax", "LogSoftmax", "Dropout", "Flatten", "ActivationLayer", "Loss", "MSELoss", "HalfMSELoss", "L1Loss",
    "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "NLLLoss", "CategoricalCrossEntropyLoss", "Head", "head_for",
    "PROBLEMS",
    "l1_penalty", "l2_penalty", "penalty", "weights", "register_module",
    "Conv1d", "Conv2d", "ConvTranspose2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "Upsample", "BatchNorm1d",
    "BatchNorm2d", "Dropout2d", "Embedding", "MaxPool1d", "AvgPool1d", "AdaptiveAvgPool1d",
    "LayerNorm", "MultiheadAttention", "RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell",
    "TransformerEncoderLayer", "TransformerEncoder", "TransformerDecoderLayer", "TransformerDecoder", "Transformer",
    "PositionalEncoding",
]
