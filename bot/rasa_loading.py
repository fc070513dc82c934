"""DIET and TED loaded for prediction without Rasa's one-example training step.

Profiled (py-spy on `rasa run` from start to ready), about half of Rasa's
start-up went to `RasaModel.load`: to give every layer its weights' shapes,
it compiles the model and runs `fit` on one example, which traces the whole
training step (losses, gradients, the optimizer's update), and only then
loads the trained weights over what that step changed.

A model loaded to predict needs none of that. Here the trained weights are
read first; TensorFlow holds each value back until the layer that owns it is
built, and the prediction Rasa runs on its example right after loading (to
trace the prediction function) builds every layer a prediction uses. Every
variable the model then has must have found its value in the file, or the
load fails; only what training alone keeps (the optimizer's slots) is left
unread. A model loaded to fine-tune, or without an example to predict on,
goes through Rasa's own load.

Installed by bot/rasa_speedups.py.
"""

from __future__ import annotations

import logging
from typing import Any, Optional

import tensorflow as tf
from rasa.utils.tensorflow.constants import LEARNING_RATE, RUN_EAGERLY
from rasa.utils.tensorflow.model_data import RasaModelData
from rasa.utils.tensorflow.models import RasaModel

logger = logging.getLogger(__name__)

rasa_load = RasaModel.load.__func__  # type: ignore[attr-defined]


def load(cls: type[RasaModel], model_file_name: str, model_data_example: RasaModelData,
         predict_data_example: Optional[RasaModelData] = None, finetune_mode: bool = False,
         *args: Any, **kwargs: Any) -> RasaModel:
    """RasaModel.load, for prediction: the same weights, without tracing a training step."""
    if finetune_mode or predict_data_example is None:
        return rasa_load(cls, model_file_name, model_data_example, predict_data_example, finetune_mode,
                         *args, **kwargs)
    model = cls(*args, **kwargs)
    config = kwargs.get("config", {})
    # Compiled as Rasa compiles it, so the model is in the state Rasa's own load leaves it in.
    model.compile(optimizer=tf.keras.optimizers.Adam(config.get(LEARNING_RATE, 0.001)),
                  run_eagerly=config.get(RUN_EAGERLY))
    status = model.load_weights(model_file_name)
    model.run_inference(predict_data_example)  # builds the layers, each taking its value as it is made
    status.assert_existing_objects_matched()  # a variable the file has no value for: not this model's file
    status.expect_partial()  # the optimizer's slots: kept for training, never read here
    logger.debug(f"{cls.__name__} loaded from {model_file_name} for prediction")
    return model


def install() -> None:
    RasaModel.load = classmethod(load)  # type: ignore[method-assign,assignment]
