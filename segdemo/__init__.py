"""segdemo: semantic segmentation on Stanford Background, explained.

segmentation-models 1.0.1 predates Keras 3: it must run on the legacy ``tf_keras``
and be told so *before* TensorFlow is first imported, otherwise it fails with
``keras.utils has no attribute generic_utils``.  This is the one place that sets it;
every module of the package imports TensorFlow only after this package is loaded.
"""
import os

os.environ.setdefault("SM_FRAMEWORK", "tf.keras")
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"
