"""The playground's stopping rules are the Trainer's callbacks, driven from the session's own loop.

The session trains in time slices rather than in ``Trainer.fit``, so it holds a ``gn.Trainer`` for the run's model
and optimizer and calls the callbacks' hooks itself, as ``glassnet/train/callbacks.py`` describes for such loops:
``TerminateOnNaN`` always, and as the state says ``StopAtThreshold("loss", stopAtLoss)``, ``EarlyStopping("val_loss",
patience, restore_best_weights=True)`` and ``StopAtEpoch(stopAfterEpochs)``. The epoch's logs are the session's
evaluation: ``loss`` on the training set and ``val_loss`` on the test set (the losses the page shows).

Training begins (``on_train_begin``) at Play and at the first step after a reset or a stop, and ends
(``on_train_end``: early stopping's best weights come back) when a rule stops it; a pause is neither. Epochs are
numbered as ``fit`` numbers them (0 is the first); the sentences for the learner count from 1, as the page does.
"""

from __future__ import annotations

import copy
import math
from typing import TYPE_CHECKING, Any

import glassnet as gn
from glassnet.callbacks import Callback, EarlyStopping, StopAtEpoch, StopAtThreshold, TerminateOnNaN

if TYPE_CHECKING:
    from .session import Run
    from .state import State


class Stopping:
    """The stopping callbacks of one training run (`Run`), and the sentence that says why training stopped."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self.trainer = gn.Trainer(run.model, optimizer=run.optimizer)
        self.nan = TerminateOnNaN()
        self.nan.set_trainer(self.trainer)
        self.early: EarlyStopping | None = None  # while the state's earlyStopping is on
        self.callbacks: list[Callback] = [self.nan]  # the rules in force (those of the last epoch's end)
        self.first: Callback | None = None  # the rule that stopped training
        self.running = False  # from a training's beginning to its stop
        self.kept_at = (0, 0)  # (epoch, cursor) of the state that TerminateOnNaN goes back to
        self.reason: str | None = None  # for the learner, once a rule has stopped training

    def begin(self) -> None:
        """Training begins: every rule watches afresh from here."""
        self.running, self.early, self.callbacks = True, None, [self.nan]
        self._keep()

    def before_batches(self) -> None:
        """Called before the run trains mini-batches: a step after a reset or a stop begins training; at an epoch's
        first mini-batch the epoch begins (TerminateOnNaN keeps the state to go back to)."""
        if not self.running:
            self.begin()
        elif self.run.cursor == 0:
            self._keep()

    @property
    def stopped(self) -> bool:
        return self.first is not None

    def _keep(self) -> None:
        run = self.run
        self.trainer.epoch, self.kept_at = run.epoch, (run.epoch, run.cursor)
        self.nan.on_epoch_begin(run.epoch)

    def batch_end(self, batch: int, loss: float, size: int) -> bool:
        """After a mini-batch's step (`loss` before it); True if it stopped training (a NaN or infinite loss)."""
        if math.isfinite(loss):  # TerminateOnNaN acts on a non-finite value only (the size is a count): no call
            return False
        self.nan.on_batch_end(batch, {"loss": loss, "size": size})
        if self.trainer.stop_training:
            self.first = self.nan
            self.reason = (f"training diverged: the loss became {loss} in epoch {self.run.epoch + 1}, mini-batch "
                           f"{batch + 1}")
        return self.stopped

    def rules(self, state: State) -> list[Callback]:
        """The callbacks the state turns on, the NaN stop first; early stopping keeps what it has seen while it
        stays on (a new patience applies at once)."""
        if not state["earlyStopping"]:
            self.early = None
        elif self.early is None:
            self.early = EarlyStopping("val_loss", patience=state["patience"], restore_best_weights=True)
            self.early.set_trainer(self.trainer)
            self.early.on_train_begin()
        rules: list[Callback] = [self.nan]
        if state["stopAtLoss"]:
            rules.append(StopAtThreshold("loss", state["stopAtLoss"]))
        if self.early is not None:
            self.early.patience = state["patience"]
            rules.append(self.early)
        if state["stopAfterEpochs"]:
            rules.append(StopAtEpoch(state["stopAfterEpochs"]))
        for rule in rules:
            rule.set_trainer(self.trainer)
        self.callbacks = rules
        return rules

    def epoch_end(self, state: State, metrics: dict[str, float | None]) -> bool:
        """After an epoch (the run's epoch count already moved on) and its evaluation: every rule sees the epoch's
        logs; True if one stopped training (the first one that did says why)."""
        epoch = self.run.epoch - 1
        logs = {"loss": _logged(metrics["trainLoss"]), "val_loss": _logged(metrics["testLoss"])}
        for rule in self.rules(state):
            rule.on_epoch_end(epoch, logs)
            if self.trainer.stop_training and self.first is None:
                self.first, self.reason = rule, self._sentence(rule, epoch, logs, state)
        return self.stopped

    def _sentence(self, rule: Callback, epoch: int, logs: dict[str, float], state: State) -> str:
        if rule is self.nan:
            what = next((f"the {name} became {logs[key]}" for key, name in (("loss", "training loss"),
                         ("val_loss", "test loss")) if not math.isfinite(logs[key])), "the weights became NaN or "
                        "infinite")
            return f"training diverged: {what} in epoch {epoch + 1}"
        if isinstance(rule, StopAtThreshold):
            return f"training loss {logs['loss']:.4g} reached the threshold {state['stopAtLoss']:g}"
        if isinstance(rule, EarlyStopping):
            return (f"early stopping: the test loss has not fallen for {rule.wait} epochs; restored the weights of "
                    f"epoch {rule.best_epoch + 1}")
        return f"stopped after {epoch + 1} epochs"

    @property
    def rolled_back(self) -> bool:
        """Whether TerminateOnNaN stopped training and put back an earlier state (the diverged epoch is undone)."""
        return self.first is self.nan

    def finish(self) -> str:
        """A rule stopped training: every callback's on_train_end, as fit ends (early stopping restores its best
        weights), and the run's position follows a NaN stop back. Returns the sentence for the learner."""
        reason, early = self.reason, self.early
        if self.rolled_back:
            self.run.epoch, self.run.cursor = self.kept_at
            reason += ("; the weights and optimizer state from the start of that epoch were kept (try a smaller "
                       "learning rate)")
        if early is not None and early.best_weights is not None and self.first is not early:
            reason += f"; restored the weights of epoch {early.best_epoch + 1}, whose test loss was the lowest"
        for callback in self.callbacks:
            callback.on_train_end()
        self.running, self.first, self.reason = False, None, None
        self.trainer.stop_training, self.trainer.stop_reason = False, None
        return reason

    def state(self) -> Any:
        """What a pause that goes back to an earlier frame restores: early stopping's memory."""
        return self.running, copy.copy(self.early)

    def restore(self, saved: Any) -> None:
        self.running, early = saved
        self.early = copy.copy(early)
        self.callbacks = [self.nan] + ([self.early] if self.early is not None else [])
        self._keep()  # TerminateOnNaN goes back no further than here


def _logged(value: float | None) -> float:
    """A metric as callbacks read it: the session's None (JSON's stand-in for NaN and infinity) is NaN."""
    return math.nan if value is None else value
