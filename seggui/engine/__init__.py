"""Inference: model cards, model building, torch and ONNX Runtime backends. No Qt."""
